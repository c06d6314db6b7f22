import Foundation
import SparrowIR
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

/// The vectorized row kernels (VectorRows.swift): softmax and log_softmax over the last
/// axis, layer_norm, with rows shorter than, equal to and longer than a vector (tails).
final class NormalizationKernelTests: XCTestCase {
  private func softmax(_ kind: OpKind, shape: [Int], axis: Int) throws -> Module {
    var b = Builder(module: Module(name: "softmax"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, shape))
    let scaled = try b.add1(.mul, [x, b.constant(Tensor(shape: [1], scalars: [Float(6)]), name: "six")])
    let y = try b.add1(kind, [scaled], ["axis": .int(axis)])
    return b.finish(results: [y])
  }

  func testSoftmaxRowsWithTails() throws {
    for length in [3, 16, 37, 128] {
      for kind in [OpKind.softmax, .log_softmax] {
        try assertEquivalent(softmax(kind, shape: [2, 3, length], axis: 2))
      }
    }
    // Not the last axis: the strided loop.
    try assertEquivalent(softmax(.softmax, shape: [2, 19, 5], axis: 1))
  }

  func testLayerNormWithTailsScalesAndBiases() throws {
    for (size, perElement, bias) in [(7, true, true), (16, true, false), (40, false, true), (768, true, true)] {
      var b = Builder(module: Module(name: "ln"), function: Function(name: "main"))
      let x = b.addArgument(name: "x", type: TensorType(.f32, [3, size]))
      var seed: UInt64 = 5
      let count = perElement ? size : 1
      let scale = b.constant(Tensor(shape: [count], scalars: seededFloats(count, seed: &seed).map { $0 + 1 }), name: "s")
      var operands = [x, scale]
      if bias { operands.append(b.constant(Tensor(shape: [count], scalars: seededFloats(count, seed: &seed)), name: "t")) }
      let y = try b.add1(.layer_norm, operands, ["axis": .int(1), "epsilon": .float(1e-5)])
      try assertEquivalent(b.finish(results: [y]))
    }
  }
}
