//===--- MovementTests.swift - movement kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class MovementTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "movement")
  }
}
