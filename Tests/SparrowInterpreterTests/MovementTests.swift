//===--- MovementTests.swift - movement kernels against onnxruntime ---===//

import XCTest
import SparrowIR
import SparrowInterpreter

final class MovementTests: XCTestCase {
  func testMatchesOnnxruntime() {
    checkReferenceCases(family: "movement")
  }
}

/// Bad user data and attributes throw a diagnostic instead of trapping.
final class MovementErrorTests: XCTestCase {
  func testOutOfRangeIndicesThrow() {
    let x = Tensor(shape: [3, 2], scalars: [Float](repeating: 1, count: 6))
    XCTAssertThrowsError(try evaluate1(.gather, [x, Tensor(shape: [1], scalars: [3] as [Int64])], ["axis": .int(0)]))
    XCTAssertThrowsError(try evaluate1(.gather, [x, Tensor(shape: [1], scalars: [-4] as [Int64])], ["axis": .int(0)]))
    XCTAssertThrowsError(try evaluate1(.gather_elements, [x, Tensor(shape: [1, 1], scalars: [9] as [Int32])]))
    XCTAssertThrowsError(try evaluate1(.gather_nd, [x, Tensor(shape: [1, 2], scalars: [0, 2] as [Int64])]))
    XCTAssertThrowsError(try evaluate1(.scatter_nd, [x, Tensor(shape: [1, 1], scalars: [5] as [Int64]),
                                                  Tensor(shape: [1, 2], scalars: [0, 0] as [Float])]))
  }

  func testBadAttributesThrow() {
    let x = Tensor(shape: [2, 2], scalars: [Float](repeating: 1, count: 4))
    XCTAssertThrowsError(try evaluate1(.pad, [x], ["pads": .ints([1, 1, 1, 1]), "mode": .string("mirror")]))
    let idx = Tensor(shape: [1, 2], scalars: [0, 1] as [Int64])
    let upd = Tensor(shape: [1, 2], scalars: [5, 6] as [Float])
    XCTAssertThrowsError(try evaluate1(.scatter_elements, [x, idx, upd], ["reduction": .string("mean")]))
    XCTAssertThrowsError(try evaluate1(.trilu, [Tensor(shape: [3], scalars: [1, 2, 3] as [Float])]))
  }

  func testMovementWorksOnAnyElementType() throws {
    let b = Tensor(shape: [2, 3], scalars: [true, false, true, false, false, true])
    let t = try evaluate1(.transpose, [b], ["perm": .ints([1, 0])])
    XCTAssertEqual(t.array(of: Bool.self), [true, false, false, false, true, true])
    let h = Tensor(type: TensorType(.f16, [2, 2]), bytes: [1, 0, 2, 0, 3, 0, 4, 0])
    let p = try evaluate1(.pad, [h], ["pads": .ints([0, 1, 0, 0]), "mode": .string("edge")])
    XCTAssertEqual(p.bytes, [1, 0, 1, 0, 2, 0, 3, 0, 3, 0, 4, 0])
    let i = Tensor(shape: [4], scalars: [1, 2, 3, 4] as [Int8])
    let s = try evaluate1(.slice, [i], ["starts": .ints([-1]), "ends": .ints([-5]), "axes": .ints([0]),
                                     "steps": .ints([-2])])
    XCTAssertEqual(s.array(of: Int8.self), [4, 2])
  }
}
