import SparrowIR
import SparrowPasses
import XCTest

/// fold-transpose: transposes into gemm flags and constants.
final class FoldTransposeTests: XCTestCase {
  func testTransposesFoldIntoGemmFlags() throws {
    let m = try makeModule { b in
      let a = b.addArgument(name: "a", type: f32([6, 4]))
      let w = b.addArgument(name: "w", type: f32([6, 5]))
      let at = try b.add1(.transpose, [a], ["perm": .ints([1, 0])], name: "at")
      let wt = try b.add1(.transpose, [w], ["perm": .ints([1, 0])], name: "wt")
      return [try b.add1(.gemm, [at, wt, b.weight([5], "c", seed: 1)], ["transB": .bool(true)], name: "y")]
    }
    let after = try optimized(m, "fold-transpose,dce")
    XCTAssertEqual(opKinds(after), ["constant", "gemm"])
    let gemm = ops(after, .gemm)[0]
    XCTAssertEqual(gemm.attributes.values["transA"], .bool(true))
    XCTAssertEqual(gemm.attributes.values["transB"], .bool(false))
    assertEquivalent(m, after)
  }

  func testTransposeOfAConstantIsFolded() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3, 4]))
      let c = b.weight([4, 2, 3], "c", seed: 1)
      let t = try b.add1(.transpose, [c], ["perm": .ints([1, 2, 0])], name: "t")
      return [try b.add1(.add, [x, t], name: "y")]
    }
    let after = try optimized(m, "fold-transpose,dce")
    XCTAssertEqual(opKinds(after), ["constant", "add"])
    assertEquivalent(m, after)
  }
}
