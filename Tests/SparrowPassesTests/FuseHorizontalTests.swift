import SparrowIR
import SparrowPasses
import XCTest

/// fuse-horizontal: gemms and convs sharing an input.
final class FuseHorizontalTests: XCTestCase {
  func testProjectionsShareOneGemm() throws {
    for transB in [false, true] {
      let m = try makeModule { b in
        let x = b.addArgument(name: "x", type: f32([5, 8]))
        let attributes: [String: AttributeValue] = ["transB": .bool(transB), "beta": .float(0.5)]
        let shapes = transB ? [[4, 8], [6, 8], [4, 8]] : [[8, 4], [8, 6], [8, 4]]
        let q = try b.add1(.gemm, [x, b.weight(shapes[0], "wq", seed: 1), b.weight([4], "bq", seed: 2)],
                           attributes, name: "q")
        let k = try b.add1(.gemm, [x, b.weight(shapes[1], "wk", seed: 3)], attributes, name: "k")
        let v = try b.add1(.gemm, [x, b.weight(shapes[2], "wv", seed: 4), b.weight([1, 4], "bv", seed: 5)],
                           attributes, name: "v")
        return [try b.add1(.relu, [q], name: "rq"), k, v]
      }
      let after = try optimized(m, "fuse-horizontal,dce")
      XCTAssertEqual(ops(after, .gemm).count, 1)
      XCTAssertEqual(ops(after, .split).count, 1)
      assertEquivalent(m, after)
    }
  }

  func testConvBranchesWithTheSameEpilogueMerge() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 4, 5, 5]))
      let a = try b.conv([x, b.weight([3, 4, 1, 1], "wa", seed: 1)], kernel: 1, name: "a")
      let c = try b.conv([x, b.weight([5, 4, 1, 1], "wc", seed: 2), b.weight([5], "bc", seed: 3)],
                         kernel: 1, name: "c")
      let d = try b.conv([x, b.weight([5, 4, 3, 3], "wd", seed: 4)], kernel: 3, pad: 1, name: "d")
      return [try b.add1(.relu, [a], name: "ra"), try b.add1(.relu, [c], name: "rc"), d]
    }
    let after = try optimized(m, "fuse-epilogue,fuse-horizontal,dce")
    XCTAssertEqual(ops(after, .conv).count, 2, "the 3x3 conv stays apart")
    XCTAssertEqual(ops(after, .conv).map(epilogue), [["relu"], []])
    assertEquivalent(m, after)
  }
}
