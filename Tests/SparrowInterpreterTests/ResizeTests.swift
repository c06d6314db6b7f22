//===--- ResizeTests.swift - resize kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class ResizeTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "resize")
  }
}

final class ResizeErrorTests: XCTestCase {
  func testUnknownModesThrow() {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Float])
    XCTAssertThrowsError(try runSingleOp1(.resize, [x], ["sizes": .ints([1, 1, 4, 4]), "mode": .string("area")]))
    XCTAssertThrowsError(try runSingleOp1(.resize, [x], ["sizes": .ints([1, 1, 4, 4]),
                                                   "coordinate_transformation_mode": .string("center")]))
  }

  func testNearestResizeMovesAnyElementType() throws {
    let x = Tensor(shape: [1, 2], scalars: [7, -3] as [Int64])
    let y = try runSingleOp1(.resize, [x], ["sizes": .ints([2, 4]), "mode": .string("nearest"),
                                      "coordinate_transformation_mode": .string("asymmetric"),
                                      "nearest_mode": .string("floor")])
    XCTAssertEqual(y.array(of: Int64.self), [7, 7, -3, -3, 7, 7, -3, -3])
  }
}
