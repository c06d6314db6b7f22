//===--- FoldQDQTests.swift - integer ops and fold-qdq on the interpreter ---===//
//
// The integer reference's rounding and saturation on a hand-made case, then fold-qdq on
// random QDQ graphs: the folded module must run integer ops, stay within one output
// quantization step of the float QDQ module it came from, and give the same bits on the
// LLVM target as on the interpreter.

import SparrowIR
import SparrowInterpreter
import SparrowLLVM
import SparrowPasses
import SparrowTargetSupport
import XCTest
import SparrowTestSupport

final class FoldQDQTests: XCTestCase {
  /// t = acc * (sx * sw) / sy = 0.5, 1.5, 2.5, 255: half to even, then saturation.
  func testRequantizationRoundsHalfToEvenAndSaturates() throws {
    for (element, zero, expected) in [(ElementType.u8, 100, [100, 102, 102, 255]),
                                      (.i8, -100, [-100, -98, -98, 127])] {
      let m = try makeModule { b in
        let a = b.addArgument(name: "a", type: TensorType(.u8, [4, 2], quantization: Quantization(scale: 1, zeroPoint: 0)))
        let w = b.constant(Tensor(shape: [2, 1], scalars: [Int8(1), 1]), name: "w")
        b.function.values[w.index].type.quantization = Quantization(axis: 1, scales: [1], zeroPoints: [0])
        let bias = b.constant(Tensor(shape: [1], scalars: [Int32(0)]), name: "b")
        let y = try b.add1(.qmatmul, [a, w, bias])
        b.function.values[y.index].type = TensorType(element, [4, 1], quantization: Quantization(scale: 2, zeroPoint: zero))
        return [y]
      }
      try verify(m)
      let a = Tensor(shape: [4, 2], scalars: [UInt8(1), 0, 3, 0, 5, 0, 255, 255])
      let y = try Interpreter.run(m, inputs: [a])[0]
      XCTAssertEqual((0..<4).map { y.integerValue($0)! }, expected, "\(element)")
      let native = try JITModel(m).run([a])[0]
      XCTAssertEqual((0..<4).map { native.integerValue($0)! }, expected, "\(element) on the LLVM target")
    }
  }

  /// Conv variants (per-channel weights with zero points, groups, strides, padding,
  /// relu, residual add) and gemm/matmul: folded, integer, within one step.
  func testFoldedGraphsStayWithinOneStep() throws {
    let outputScale: Float = 0.05
    let cases: [(String, (inout Builder, ValueID) throws -> ValueID, TensorType)] = [
      ("conv", { b, x in try qdqConv(&b, x, cout: 8, group: 1, stride: 1, pad: 1, relu: true) }, f32([1, 4, 6, 6])),
      ("strided grouped conv", { b, x in try qdqConv(&b, x, cout: 8, group: 2, stride: 2, pad: 0, relu: false) },
       f32([1, 4, 7, 7])),
      ("depthwise conv", { b, x in try qdqConv(&b, x, cout: 4, group: 4, stride: 1, pad: 1, relu: true) }, f32([1, 4, 5, 5])),
      ("residual", { b, x in
        let c = try qdq(&b, try qdqConv(&b, x, cout: 4, group: 1, stride: 1, pad: 1, relu: false),
                        scale: outputScale, zero: 128)
        return try b.add1(.add, [c, try qdq(&b, x, scale: 0.04, zero: 128)])
      }, f32([1, 4, 5, 5])),
      ("gemm", { b, x in try qdqGemm(&b, x, n: 6) }, f32([3, 8])),
      ("matmul", { b, x in try qdqGemm(&b, x, n: 5, matmul: true) }, f32([2, 3, 8])),
    ]
    for (name, build, inputType) in cases {
      let before = try makeModule { b in
        let x = b.addArgument(name: "x", type: inputType)
        return [try qdq(&b, try build(&b, try qdq(&b, x, scale: 0.04, zero: 128)), scale: outputScale, zero: 128)]
      }
      try verify(before)
      let after = try optimized(before, "fold-qdq,dce")
      let kinds = opKinds(after)
      XCTAssertTrue(kinds.contains("qconv") || kinds.contains("qmatmul"), "\(name): \(kinds)")
      XCTAssertFalse(kinds.contains("conv") || kinds.contains("gemm") || kinds.contains("matmul"), "\(name): \(kinds)")
      if let mismatch = try checkNumericalEquivalence(before: before, after: after, rtol: 0,
                                                      atol: Double(outputScale) * 1.001) {
        XCTFail("\(name): more than one step apart: \(mismatch)")
      }
      // The LLVM target's integer kernels agree with the interpreter bit for bit.
      let inputs = randomInputs(for: after.main, seed: 3)
      let expected = try Interpreter.run(after, inputs: inputs)
      let actual = try JITModel(after).run(inputs)
      if let mismatch = compareOutputs(expected, actual, names: resultNames(after), rtol: 0, atol: 0) {
        XCTFail("\(name): LLVM differs from the interpreter: \(mismatch)")
      }
    }
  }
}

/// quantize_linear then dequantize_linear (u8, per tensor).
private func qdq(_ b: inout Builder, _ x: ValueID, scale: Float, zero: UInt8) throws -> ValueID {
  let s = b.constant(Tensor(scalar: scale), name: "s")
  let z = b.constant(Tensor(scalar: zero), name: "z")
  let q = try b.add1(.quantize_linear, [x, s, z])
  return try b.add1(.dequantize_linear, [q, s, z])
}

/// A dequantized constant weight quantized per axis (i8, small non-zero zero points).
private func dequantizedWeight(_ b: inout Builder, _ shape: [Int], axis: Int, seed: Int) throws -> ValueID {
  var g = SeededGenerator(seed: UInt64(seed))
  let count = shape.reduce(1, *)
  let w = b.constant(Tensor(shape: shape, scalars: (0..<count).map { _ in Int8(g.int(-127..<128)) }), name: "w")
  let channels = shape[axis]
  let s = b.constant(Tensor(shape: [channels], scalars: (0..<channels).map { Float(1 + $0 % 3) * 0.004 }), name: "sw")
  let z = b.constant(Tensor(shape: [channels], scalars: (0..<channels).map { Int8($0 % 3 - 1) }), name: "zw")
  return try b.add1(.dequantize_linear, [w, s, z], ["axis": .int(axis)])
}

private func qdqConv(_ b: inout Builder, _ x: ValueID, cout: Int, group: Int, stride: Int, pad: Int,
                     relu: Bool) throws -> ValueID {
  let cin = b.function.type(of: x).shape[1]
  let w = try dequantizedWeight(&b, [cout, cin / group, 3, 3], axis: 0, seed: cout + group)
  let bias = b.constant(Tensor(shape: [cout], scalars: (0..<cout).map { Float($0) * 0.03 - 0.1 }), name: "bias")
  return try b.add1(.conv, [x, w, bias], ["strides": .ints([stride, stride]), "pads": .ints([pad, pad, pad, pad]),
                                          "dilations": .ints([1, 1]), "group": .int(group),
                                          "epilogue": .epilogue(relu ? [.relu] : [])])
}

private func qdqGemm(_ b: inout Builder, _ x: ValueID, n: Int, matmul: Bool = false) throws -> ValueID {
  let k = b.function.type(of: x).shape.last!
  if matmul { return try b.add1(.matmul, [x, try dequantizedWeight(&b, [k, n], axis: 1, seed: n)]) }
  let w = try dequantizedWeight(&b, [n, k], axis: 0, seed: n)
  let bias = b.constant(Tensor(shape: [n], scalars: (0..<n).map { Float($0) * 0.02 }), name: "bias")
  return try b.add1(.gemm, [x, w, bias], ["transB": .bool(true)])
}
