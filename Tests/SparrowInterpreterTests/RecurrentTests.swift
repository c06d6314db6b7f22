//===--- RecurrentTests.swift - recurrent kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class RecurrentTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "recurrent")
  }
}

final class RecurrentErrorTests: XCTestCase {
  func testUnknownActivationThrows() {
    let z = { (s: [Int]) in Tensor(zeros: TensorType(.f32, s)) }
    XCTAssertThrowsError(try evaluate(.rnn, [z([2, 1, 3]), z([1, 4, 3]), z([1, 4, 4]), z([1, 8]), z([1, 1, 4])],
                                   ["hidden_size": .int(4), "activations": .strings(["Swish"])]))
  }
}
