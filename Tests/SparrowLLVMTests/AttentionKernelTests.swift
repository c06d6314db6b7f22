import Foundation
import SparrowIR
import SparrowTestSupport
import XCTest
@testable import SparrowLLVM

/// The fused attention kernel (Kernels/Attention.swift) against the interpreter's loops:
/// lengths off the tile sizes, D = 64 and odd, causal with and without a past, masks of
/// every broadcast form (fully masked rows included), GQA and softcap; 1, 2 and 3 threads
/// (assertEquivalent).
final class AttentionKernelTests: XCTestCase {
  private struct Case {
    var batch = 1, qHeads = 2, kvHeads = 2, qLength = 5, kvLength = 7, depth = 64, valueDepth = 64
    var causal = false, offset = 0, softcap: Float = 0
    var mask: [Int]? = nil
    /// A constant mask with whole rows at -inf (instead of a seeded argument).
    var maskedRows = false
  }

  private func module(_ c: Case) throws -> Module {
    var b = Builder(module: Module(name: "attention"), function: Function(name: "main"))
    let q = b.addArgument(name: "q", type: TensorType(.f32, [c.batch, c.qHeads, c.qLength, c.depth]))
    let k = b.addArgument(name: "k", type: TensorType(.f32, [c.batch, c.kvHeads, c.kvLength, c.depth]))
    let v = b.addArgument(name: "v", type: TensorType(.f32, [c.batch, c.kvHeads, c.kvLength, c.valueDepth]))
    var operands = [q, k, v]
    if let shape = c.mask {
      if c.maskedRows {
        let count = shape.reduce(1, *), row = shape.last!
        let values = (0..<count).map { i -> Float in (i / row) % 3 == 1 ? -.infinity : Float(i % 5) * 0.25 - 0.5 }
        operands.append(b.constant(Tensor(shape: shape, scalars: values), name: "mask"))
      } else {
        operands.append(b.addArgument(name: "mask", type: TensorType(.f32, shape)))
      }
    }
    let y = try b.add1(.attention, operands, [
      "scale": .float(1 / Float(c.depth).squareRoot()), "causal": .bool(c.causal),
      "causal_offset": .int(c.offset), "softcap": .float(c.softcap),
    ])
    return b.finish(results: [y])
  }

  func testPlainShapesOffTheTiles() throws {
    try assertEquivalent(module(Case()))
    try assertEquivalent(module(Case(batch: 2, qLength: 70, kvLength: 37, depth: 13, valueDepth: 11)))
    try assertEquivalent(module(Case(qHeads: 3, kvHeads: 3, qLength: 1, kvLength: 1, depth: 3, valueDepth: 40)))
    try assertEquivalent(module(Case(qLength: 33, kvLength: 128)))
  }

  func testCausalWithAndWithoutPast() throws {
    try assertEquivalent(module(Case(qLength: 67, kvLength: 67, causal: true)))
    try assertEquivalent(module(Case(qLength: 9, kvLength: 23, depth: 17, valueDepth: 64, causal: true, offset: 14)))
    try assertEquivalent(module(Case(qLength: 12, kvLength: 5, depth: 8, valueDepth: 8, causal: true)))
  }

  func testMasksOfEveryBroadcast() throws {
    for shape in [[5, 7], [1, 1, 1, 7], [1, 2, 5, 7], [1, 1, 5, 1], [7]] {
      try assertEquivalent(module(Case(mask: shape)))
    }
    // Whole rows masked: zeros, on both targets.
    try assertEquivalent(module(Case(qLength: 6, kvLength: 19, depth: 24, valueDepth: 24, mask: [1, 1, 6, 19], maskedRows: true)))
    try assertEquivalent(module(Case(qLength: 6, kvLength: 19, causal: true, offset: 2, mask: [6, 19], maskedRows: true)))
  }

  func testGroupedQueryHeadsAndSoftcap() throws {
    try assertEquivalent(module(Case(batch: 2, qHeads: 6, kvHeads: 2, qLength: 10, kvLength: 21, depth: 32, valueDepth: 16)))
    try assertEquivalent(module(Case(qHeads: 4, kvHeads: 1, qLength: 8, kvLength: 8, depth: 64, valueDepth: 64,
                                           causal: true, softcap: 2.5)))
  }

  func testVerifierRejectsBadShapes() throws {
    XCTAssertThrowsError(try module(Case(qHeads: 3, kvHeads: 2)))
    XCTAssertThrowsError(try module(Case(mask: [3, 7])))
  }
}
