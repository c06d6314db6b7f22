//===--- ResizeTests.swift - resize kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class ResizeTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "resize")
  }
}
