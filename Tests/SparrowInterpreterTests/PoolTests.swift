//===--- PoolTests.swift - pool kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class PoolTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "pool")
  }
}

final class PoolErrorTests: XCTestCase {
  func testIntegerPoolingIsUnsupported() {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Int32])
    XCTAssertThrowsError(try runSingleOp1(.global_max_pool, [x]))
  }
}
