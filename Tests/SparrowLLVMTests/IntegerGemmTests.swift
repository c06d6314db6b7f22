//===--- IntegerGemmTests.swift - the int8 GEMM kernels against the interpreter ---===//
//
// qmatmul and qconv (NCHW, NHWC; 1x1, padded, strided, dilated KxK) lowered onto the
// register-tiled int8 GEMM (Kernels/Integer/) must give the interpreter's bits: shapes
// that are not multiples of the tile (M, N, K odd), per-tensor and per-channel weights
// with zero points, u8/i8 inputs, u8/i8/f32 results, relu/clip/add epilogues, and the
// same bytes for 1, 2 and 3 threads. Inputs span the whole u8/i8 range.

import Foundation
import SparrowIR
import SparrowInterpreter
import SparrowTestSupport
import SparrowTargetSupport
import XCTest
@testable import SparrowLLVM

final class IntegerGemmTests: XCTestCase {
  private struct Case {
    var input: ElementType = .u8
    var weight: ElementType = .i8
    var perChannel = true
    var weightZeroPoints = true
    var output: ElementType? = .u8   // nil: f32
    var steps: [String] = []
  }

  private func bytes(_ n: Int, _ g: inout SeededGenerator) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) } }

  /// x, w, bias and residual (when `add`) for a qconv or qmatmul, quantized per `c`.
  private func module(_ c: Case, kind: OpKind, input: [Int], weight: [Int], result: [Int],
                      attributes: [String: AttributeValue] = [:], seed: UInt64) throws -> Module {
    var g = SeededGenerator(seed: seed)
    var b = Builder(module: Module(name: "q"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(c.input, input,
                                                      quantization: Quantization(scale: 0.02, zeroPoint: c.input == .u8 ? 131 : -7)))
    let channels = kind == .qconv ? weight[0] : weight[1]
    let w = b.constant(Tensor(type: TensorType(c.weight, weight), bytes: bytes(weight.reduce(1, *), &g)), name: "w")
    let zero = { (i: Int) in c.weightZeroPoints ? (c.weight == .u8 ? 120 + i % 9 : i % 5 - 2) : (c.weight == .u8 ? 128 : 0) }
    b.function.values[w.index].type.quantization = c.perChannel
      ? Quantization(axis: kind == .qconv ? 0 : 1, scales: (0..<channels).map { 0.003 + Float($0 % 7) * 0.0011 },
                     zeroPoints: (0..<channels).map(zero))
      : Quantization(scale: 0.004, zeroPoint: zero(1))
    let biasValues = (0..<channels).map { Int32($0 * 37 % 301) - 150 }
    let bias = b.constant(Tensor(shape: [channels], scalars: biasValues), name: "b")
    var operands = [x, w, bias]
    let output = c.output.map { TensorType($0, result, quantization: Quantization(scale: 0.05, zeroPoint: $0 == .u8 ? 100 : -3)) }
    if c.steps.contains("add") {
      operands.append(b.addArgument(name: "r", type: output.map { _ in
        TensorType(.u8, result, quantization: Quantization(scale: 0.03, zeroPoint: 90)) } ?? TensorType(.f32, result)))
    }
    var all = attributes
    if !c.steps.isEmpty { all["epilogue"] = .epilogue(try c.steps.map(EpilogueStep.init(parsing:))) }
    let y = try b.add1(kind, operands, all, name: "y")
    if let output { b.function.values[y.index].type = output }
    let m = b.finish(results: [y])
    try verify(m)
    return m
  }

  /// Interpreter vs LLVM bit for bit, and 1 vs 2 vs 3 threads.
  private func check(_ m: Module, _ label: String, seed: UInt64) throws {
    var g = SeededGenerator(seed: seed &+ 99)
    let inputs = m.main.arguments.map { a -> Tensor in
      let t = m.main.type(of: a)
      if t.element == .f32 { return Tensor(shape: t.shape, scalars: (0..<t.count).map { _ in Float.random(in: -3..<3, using: &g) }) }
      return Tensor(type: t.dense, bytes: bytes(t.count, &g))
    }
    let want = try Interpreter.run(m, inputs: inputs)
    let model = try withEveryRegionForking { try JITModel(m) }
    let got = try model.run(inputs)
    XCTAssertEqual(got.map(\.bytes), want.map(\.bytes), "\(label): LLVM differs from the interpreter")
    for threads in [2, 3] {
      XCTAssertEqual(try model.run(inputs, threads: threads).map(\.bytes), got.map(\.bytes), "\(label): \(threads) threads")
    }
  }

  private let epilogues: [Case] = [
    Case(), Case(steps: ["relu"]), Case(output: .i8, steps: ["clip:0.0:6.0"]), Case(steps: ["add", "relu"]),
    Case(input: .i8, weight: .u8, output: nil, steps: ["relu", "add"]),
    Case(perChannel: false, weightZeroPoints: false, output: .i8),
    Case(input: .i8, weightZeroPoints: false, output: nil),
  ]

  func testMatmulOddShapes() throws {
    var seed: UInt64 = 1
    for (rows, k, n) in [(1, 1, 1), (5, 3, 10), (13, 7, 25), (4, 33, 49), (9, 64, 24), (2, 130, 3)] {
      for c in epilogues {
        seed += 1
        let m = try module(c, kind: .qmatmul, input: [rows, k], weight: [k, n], result: [rows, n], seed: seed)
        try check(m, "qmatmul \(rows)x\(k)x\(n) \(c)", seed: seed)
      }
    }
    // Leading batch dimensions flatten into rows.
    try check(try module(Case(), kind: .qmatmul, input: [2, 3, 17], weight: [17, 9], result: [2, 3, 9], seed: 5),
              "batched qmatmul", seed: 5)
  }

  func testConvBothLayouts() throws {
    var seed: UInt64 = 100
    // (cin, cout, h, w, kernel, stride, pads, dilation)
    let shapes: [(Int, Int, Int, Int, Int, Int, [Int], Int)] = [
      (5, 7, 6, 9, 1, 1, [0, 0, 0, 0], 1), (3, 17, 7, 7, 3, 1, [1, 1, 1, 1], 1), (6, 9, 9, 8, 3, 2, [0, 1, 1, 0], 1),
      (4, 11, 9, 9, 3, 1, [2, 2, 2, 2], 2), (2, 5, 8, 11, 5, 1, [2, 2, 2, 2], 1), (16, 33, 4, 5, 1, 2, [0, 0, 0, 0], 1),
    ]
    for (cin, cout, h, w, kernel, stride, pads, dilation) in shapes {
      for layout in [ConvLayout.nchw, .nhwc] {
        for c in [epilogues[0], epilogues[2], epilogues[3], epilogues[4], epilogues[5]] {
          seed += 1
          let oh = (h + pads[0] + pads[2] - dilation * (kernel - 1) - 1) / stride + 1
          let ow = (w + pads[1] + pads[3] - dilation * (kernel - 1) - 1) / stride + 1
          let nhwc = layout == .nhwc
          let m = try module(c, kind: .qconv, input: nhwc ? [2, h, w, cin] : [2, cin, h, w], weight: [cout, cin, kernel, kernel],
                             result: nhwc ? [2, oh, ow, cout] : [2, cout, oh, ow],
                             attributes: ["strides": .ints([stride, stride]), "pads": .ints(pads),
                                          "dilations": .ints([dilation, dilation]), "group": .int(1),
                                          "layout": .convLayout(layout)], seed: seed)
          try check(m, "qconv \(layout) \(cin)->\(cout) \(h)x\(w) k\(kernel) s\(stride) \(pads) d\(dilation) \(c)", seed: seed)
        }
      }
    }
  }

  /// The VNNI packing (quads) is the AVX-512 one; it cannot run here without AVX-512 VNNI,
  /// but its IR must build and verify.
  func testVNNIKernelsAreGenerated() throws {
    let m = try module(Case(input: .i8, weightZeroPoints: false), kind: .qmatmul, input: [5, 19], weight: [19, 40],
                       result: [5, 40], seed: 9)
    func ir(_ cpu: String) throws -> String {
      let path = NSTemporaryDirectory() + "sparrow-int8-\(cpu)-\(getpid()).ll"
      defer { unlink(path) }
      try compileModel(m, to: path, kind: .llvmIR, target: TargetSpec(triple: TargetSpec.portable.triple, cpu: cpu, features: ""))
      return try String(contentsOfFile: path, encoding: .utf8)
    }
    XCTAssertTrue(try ir("icelake-server").contains("llvm.x86.avx512.vpdpbusd.512"), "VNNI target without vpdpbusd")
    let avx512 = try ir("x86-64-v4")
    XCTAssertTrue(avx512.contains("llvm.x86.avx512.pmaddw.d.512") && !avx512.contains("vpdpbusd"), "AVX-512 without VNNI")
    XCTAssertTrue(try ir("x86-64-v3").contains("llvm.x86.avx2.pmadd.wd"), "AVX2 target without vpmaddwd")
  }
}
