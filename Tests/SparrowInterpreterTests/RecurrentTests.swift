//===--- RecurrentTests.swift - recurrent kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class RecurrentTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "recurrent")
  }
}
