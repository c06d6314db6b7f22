import SparrowIR
import SparrowPasses
import XCTest

/// matmul-to-gemm: batched and 2-D matmuls by constant weights, with and without bias.
final class MatmulToGemmTests: XCTestCase {
  func testBatchedLinearBecomesReshapeGemmReshape() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3, 8]))
      let mm = try b.add1(.matmul, [x, b.weight([8, 5], "w", seed: 1)], name: "mm")
      return [try b.add1(.add, [mm, b.weight([5], "bias", seed: 2)], name: "y")]
    }
    let after = try optimized(m, "matmul-to-gemm,dce")
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["reshape", "gemm", "reshape"])
    let gemm = try XCTUnwrap(ops(after, .gemm).first)
    XCTAssertEqual(gemm.operands.count, 3, "the bias became C")
    XCTAssertEqual(gemm.attributes.values["transB"], .bool(true))
    XCTAssertEqual(resultNames(after), ["y"])
    assertEquivalent(m, after)
  }

  func testSharedWeightKeepsItsLayout() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4, 8]))
      let w = b.weight([8, 5], "w", seed: 1)
      let a = try b.add1(.matmul, [x, w], name: "a")
      let c = try b.add1(.matmul, [a, b.weight([5, 8], "w2", seed: 3)], name: "c")
      return [try b.add1(.matmul, [c, w], name: "y")]
    }
    let after = try optimized(m, "matmul-to-gemm,dce")
    XCTAssertEqual(ops(after, .gemm).count, 3)
    XCTAssertEqual(ops(after, .gemm).filter { $0.attributes.values["transB"] == .bool(true) }.count, 1)
    assertEquivalent(m, after)
  }

  func testMatmulByAnActivationStays() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4, 8]))
      let w = b.addArgument(name: "w", type: f32([8, 5]))
      return [try b.add1(.matmul, [x, w], name: "y")]
    }
    XCTAssertEqual(opKinds(try optimized(m, "matmul-to-gemm")), ["matmul"])
  }
}
