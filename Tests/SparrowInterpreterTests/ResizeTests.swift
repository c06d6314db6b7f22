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
    let y = try evaluate1(.resize, [x], ["sizes": .ints([1, 1, 1, 2]), "scales": .floats([1, 1, 0.6, 0.6]),
                                          "mode": .string("linear"),
                                          "coordinate_transformation_mode": .string("align_corners")])
    let v = y.array(of: Float.self)
    XCTAssertEqual(v.count, 2)
    XCTAssertEqual(v[0], 1, accuracy: 1e-6)
    XCTAssertEqual(v[1], 3.142857, accuracy: 1e-5)
  }

  /// Antialiased downsampling against the ONNX reference (onnx.reference op_resize).
  func testAntialiasStretchesTheFilter() throws {
    func resize(_ x: Tensor, _ sizes: [Int], _ scales: [Float], _ mode: String, cubicA: Float = -0.75) throws -> [Float] {
      try evaluate1(.resize, [x], ["sizes": .ints(sizes), "scales": .floats(scales), "mode": .string(mode),
                                     "cubic_coeff_a": .float(cubicA), "antialias": .bool(true)]).array(of: Float.self)
    }
    let square = Tensor(shape: [1, 1, 4, 4], scalars: (1...16).map(Float.init))
    let expected: [(String, Float, [Float])] = [
      ("linear", -0.75, [2.875, 4.5, 9.375, 11.0]),
      ("cubic", -0.5, [2.6666665, 4.3807265, 9.5229064, 11.2369663]),
    ]
    for (mode, a, want) in expected {
      let got = try resize(square, [1, 1, 2, 2], [1, 1, 0.6, 0.6], mode, cubicA: a)
      for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-4, mode) }
    }
    let row = Tensor(shape: [1, 8], scalars: (1...8).map(Float.init))
    let got = try resize(row, [1, 3], [1, 0.375], "linear")
    for (g, w) in zip(got, [1.9767442, 4.5, 7.0232558] as [Float]) { XCTAssertEqual(g, w, accuracy: 1e-4) }
  }
}

final class ResizeErrorTests: XCTestCase {
  func testUnknownModesThrow() {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Float])
    XCTAssertThrowsError(try evaluate1(.resize, [x], ["sizes": .ints([1, 1, 4, 4]), "mode": .string("area")]))
    XCTAssertThrowsError(try evaluate1(.resize, [x], ["sizes": .ints([1, 1, 4, 4]),
                                                   "coordinate_transformation_mode": .string("center")]))
  }

  func testNearestResizeMovesAnyElementType() throws {
    let x = Tensor(shape: [1, 2], scalars: [7, -3] as [Int64])
    let y = try evaluate1(.resize, [x], ["sizes": .ints([2, 4]), "mode": .string("nearest"),
                                      "coordinate_transformation_mode": .string("asymmetric"),
                                      "nearest_mode": .string("floor")])
    XCTAssertEqual(y.array(of: Int64.self), [7, 7, -3, -3, 7, 7, -3, -3])
  }

}
