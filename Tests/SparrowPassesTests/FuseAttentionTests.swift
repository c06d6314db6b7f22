import SparrowIR
import SparrowPasses
import XCTest

/// fuse-attention: the matmul/scale/mask/softmax/matmul chain becomes one attention op,
/// equivalent on the interpreter (whose attention op is checked here against the chain
/// it replaces) and on the LLVM target.
final class FuseAttentionTests: XCTestCase {
  /// q [1, 2, 5, 8] x kᵀ (a transpose of k [1, 2, 7, 8] or of [1, 7, 2, 8]) -> ... -> [1, 2, 5, 6].
  private func chain(scale: OpKind?, scaleFirst: Bool = false, mask: [Int]? = nil, headsInside: Bool = false,
                     axis: Int = 3, extraUse: Bool = false) throws -> Module {
    try makeModule { b in
      let q = b.addArgument(name: "q", type: f32([1, 2, 5, 8]))
      let kSource = b.addArgument(name: "k", type: f32(headsInside ? [1, 7, 2, 8] : [1, 2, 7, 8]))
      let v = b.addArgument(name: "v", type: f32([1, 2, 7, 6]))
      let kt = try b.add1(.transpose, [kSource], ["perm": .ints(headsInside ? [0, 2, 3, 1] : [0, 1, 3, 2])], name: "kt")
      var s = try b.add1(.matmul, [q, kt], name: "s")
      let raw = s
      if let scale {
        let c = b.constant(Tensor(shape: [], scalars: [Float(scale == .div ? 2.828 : 0.35)]), name: "c")
        s = try b.add1(scale, scaleFirst ? [c, s] : [s, c], name: "scaled")
      }
      if let mask {
        let m = b.addArgument(name: "mask", type: f32(mask))
        s = try b.add1(.add, [m, s], name: "masked")
      }
      let p = try b.add1(.softmax, [s], ["axis": .int(axis)], name: "p")
      let y = try b.add1(.matmul, [p, v], name: "y")
      return extraUse ? [y, raw] : [y]
    }
  }

  func testChainsFuseAndMatch() throws {
    let cases: [(OpKind?, Bool, [Int]?, Bool)] = [
      (.div, false, nil, false), (.mul, true, [1, 1, 5, 7], false), (.mul, false, [7], true),
      (nil, false, [1, 2, 5, 7], false), (.div, false, [5, 1], true),
    ]
    for (scale, scaleFirst, mask, headsInside) in cases {
      let m = try chain(scale: scale, scaleFirst: scaleFirst, mask: mask, headsInside: headsInside)
      let after = try optimized(m, "fuse-attention,dce")
      let kinds = opKinds(after).filter { $0 != "constant" }
      XCTAssertEqual(kinds, headsInside ? ["transpose", "attention"] : ["attention"], "\(scale as Any) \(mask as Any)")
      let op = try XCTUnwrap(after.main.ops.first { $0.kind == .attention })
      XCTAssertEqual(op.operands.count, mask == nil ? 3 : 4)
      assertEquivalent(m, after)
    }
  }

  func testDoesNotFireOnOtherShapes() throws {
    for m in [try chain(scale: .div, axis: 2), try chain(scale: .div, extraUse: true)] {
      XCTAssertFalse(opKinds(try optimized(m, "fuse-attention")).contains("attention"))
    }
  }
}
