//===--- PoolTests.swift - pool kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class PoolTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "pool")
  }
}
