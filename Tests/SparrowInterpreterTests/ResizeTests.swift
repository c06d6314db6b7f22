//===--- ResizeTests.swift - resize kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class ResizeTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "resize")
  }

  /// ONNX's test_resize_downsample_scales_linear_align_corners: with scales, align_corners
  /// divides by the unrounded output length 4 * 0.6 = 2.4, not by the 2 outputs.
  func testAlignCornersUsesUnroundedScaledLength() throws {
    let x = Tensor(shape: [1, 1, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8] as [Float])
    let y = try runSingleOp1(.resize, [x], ["sizes": .ints([1, 1, 1, 2]), "scales": .floats([1, 1, 0.6, 0.6]),
                                          "mode": .string("linear"),
                                          "coordinate_transformation_mode": .string("align_corners")])
    let v = y.array(of: Float.self)
    XCTAssertEqual(v.count, 2)
    XCTAssertEqual(v[0], 1, accuracy: 1e-6)
    XCTAssertEqual(v[1], 3.142857, accuracy: 1e-5)
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
