//===--- PoolTests.swift - pool kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class PoolTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "pool")
  }

  func testIntegerMaxPoolKeepsTheElementType() throws {
    let x = Tensor(shape: [1, 1, 3, 3], scalars: [1, 250, 3, 4, 5, 6, 7, 8, 255] as [UInt8])
    let y = try evaluate1(.max_pool, [x], ["kernel": .ints([2, 2]), "strides": .ints([1, 1]),
                                                "pads": .ints([0, 0, 0, 0]), "dilations": .ints([1, 1])])
    XCTAssertEqual(y.element, .u8)
    XCTAssertEqual(y.array(of: UInt8.self), [250, 250, 8, 255])
    let g = try evaluate1(.global_max_pool, [Tensor(shape: [1, 2, 2], scalars: [-7, -3, 2, -9] as [Int16])])
    XCTAssertEqual(g.array(of: Int16.self), [-3, 2])
  }
}

final class PoolErrorTests: XCTestCase {
  func testIntegerAveragePoolingIsUnsupported() {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Int32])
    XCTAssertThrowsError(try evaluate1(.global_average_pool, [x]))
    let wide = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Int64])
    XCTAssertThrowsError(try evaluate1(.global_max_pool, [wide]))
  }
}
