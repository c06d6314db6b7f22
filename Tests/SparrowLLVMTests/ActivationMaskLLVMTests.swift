//===--- ActivationMaskLLVMTests.swift - masked convs: LLVM vs the interpreter ---===//
//
// Convs with `kept_positions` (and `masked_fill`, a fused epilogue with a residual add,
// a sparse weight layout) through the LLVM target, compared with the interpreter, whose
// masked conv is in turn checked against the unmasked graph in SparrowPassesTests.

import SparrowIR
import SparrowInterpreter
import XCTest
@testable import SparrowLLVM

final class ActivationMaskLLVMTests: XCTestCase {
  private func compare(_ module: Module, file: StaticString = #filePath, line: UInt = #line) throws {
    try compareWithInterpreter(module, seed: 99, file: file, line: line)
  }

  /// One masked conv: 3x3 or 1x1, keeping every `every`-th position (none for 0), with options.
  private func maskedConv(kernel: Int, stride: Int, every: Int, fill: Float?, residual: Bool,
                          layout: SparseLayout? = nil) throws -> Module {
    var b = Builder(module: Module(name: "masked"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [2, 8, 10, 10]))
    var s: UInt64 = 5
    var weights = seededFloats(16 * 8 * kernel * kernel, seed: &s)
    if layout != nil {  // 2:4 along input channels at each kernel tap: zero the two smallest
      let taps = kernel * kernel
      for o in 0..<16 {
        for tap in 0..<taps {
          for group in 0..<2 {
            let slots = (0..<4).map { ((o * 8 + group * 4 + $0) * taps) + tap }
            for i in slots.sorted(by: { abs(weights[$0]) < abs(weights[$1]) }).prefix(2) { weights[i] = 0 }
          }
        }
      }
    }
    let w = b.constant(Tensor(shape: [16, 8, kernel, kernel], scalars: weights), name: "w", layout: layout)
    let bias = b.constant(Tensor(shape: [16], scalars: seededFloats(16, seed: &s)), name: "b")
    let out = (10 + 2 * (kernel / 2) - kernel) / stride + 1
    let kept = every == 0 ? [] : (0..<out * out).filter { $0 % every == 0 }  // 0: none kept
    var attributes: [String: AttributeValue] = [
      "strides": .ints([stride, stride]), "pads": .ints([Int](repeating: kernel / 2, count: 4)),
      "dilations": .ints([1, 1]), "kept_positions": .ints(kept)]
    var operands = [x, w, bias]
    if residual {
      operands.append(b.addArgument(name: "r", type: TensorType(.f32, [2, 16, out, out])))
      attributes["epilogue"] = .strings(["add", "relu"])
    } else {
      attributes["epilogue"] = .strings(["sigmoid"])
    }
    if let fill { attributes["masked_fill"] = .float(fill) }
    let y = try b.add1(.conv, operands, attributes, name: "y")
    let m = b.finish(results: [y])
    try verify(m)
    return m
  }

  func testMaskedConvsMatchTheInterpreter() throws {
    for (kernel, stride) in [(3, 1), (3, 2), (1, 1)] {
      for every in [0, 1, 2, 3, 100] {
        for fill in [nil, Float(0)] as [Float?] {
          for residual in [false, true] {
            try compare(try maskedConv(kernel: kernel, stride: stride, every: every, fill: fill, residual: residual))
          }
        }
      }
    }
  }

  func testMaskedConvWithTwoFourWeights() throws {
    try compare(try maskedConv(kernel: 3, stride: 1, every: 2, fill: nil, residual: true, layout: .nm(n: 2, m: 4)))
  }
}
