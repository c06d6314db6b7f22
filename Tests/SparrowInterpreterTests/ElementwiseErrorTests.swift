// Hand-written: ops that must throw a Diagnostic (never trap), and edge cases.

import SparrowIR
import XCTest

@testable import SparrowInterpreter

final class BinaryErrorTests: XCTestCase {
  func testUnknownBitShiftDirectionThrows() {
    assertThrowsDiagnostic(try evaluate(.bit_shift, [tensor([1], [1] as [Int32]), tensor([1], [1] as [Int32])],
                                        ["direction": .string("UP")]))
  }

  func testFloatBitwiseThrows() {
    assertThrowsDiagnostic(try evaluate(.bitwise_and, [tensor([1], [1] as [Float]), tensor([1], [1] as [Float])]))
  }

  func testIntegerDivisionByZeroDoesNotTrap() throws {
    let y = try evaluate(.div, [tensor([2], [7, Int32.min] as [Int32]), tensor([2], [0, -1] as [Int32])])
    XCTAssertEqual(y[0].count, 2)
    for fmod in [false, true] {
      let r = try evaluate(.mod, [tensor([2], [7, Int32.min] as [Int32]), tensor([2], [0, -1] as [Int32])],
                           ["fmod": .bool(fmod)])
      XCTAssertEqual(r[0].count, 2)
    }
  }

  func testBroadcastPlanCollapsesPerChannel() {
    let plan = BroadcastPlan(output: [1, 64, 56, 56], operands: [[1, 64, 56, 56], [1, 64, 1, 1]])
    XCTAssertEqual(plan.dims, [64, 3136])
    XCTAssertEqual(plan.strides, [[3136, 1], [1, 0]])
  }
}

final class QuantizeErrorTests: XCTestCase {
  func testPerAxisScaleOfWrongLengthThrows() {
    assertThrowsDiagnostic(try evaluate(.quantize_linear,
                                        [tensor([2, 3], [Float](repeating: 1, count: 6)),
                                         tensor([2], [1, 1] as [Float]), tensor([2], [0, 0] as [UInt8])],
                                        ["axis": .int(1)]))
  }

  func testIntegerInputToQuantizeOtherThanI32Throws() {
    assertThrowsDiagnostic(try evaluate(.quantize_linear,
                                        [tensor([2], [1, 2] as [Int64]), tensor([], [1] as [Float]),
                                         tensor([], [0] as [UInt8])]))
  }

  func testFloatZeroPointThrows() {
    assertThrowsDiagnostic(try evaluate(.quantize_linear,
                                        [tensor([2], [1, 2] as [Float]), tensor([], [1] as [Float]),
                                         tensor([], [0] as [Float])]))
  }
}

final class ElementwiseEdgeCaseTests: XCTestCase {
  /// onnxruntime (1.32) gives 0 where the norm is 0.
  func testLpNormOfZeroIsZero() throws {
    let x = tensor([2, 2], [0, 0, 3, 4] as [Float])
    assertClose(try evaluate(.lp_norm, [x], ["axis": .int(1)])[0], .f32, [2, 2], [0, 0, 0.6, 0.8])
    assertClose(try evaluate(.lp_norm, [x], ["axis": .int(1), "p": .int(1)])[0], .f32, [2, 2],
                [0, 0, 0.428571429, 0.571428571])
  }

  /// onnxruntime's noop_with_empty_axes: each element reduced alone.
  func testEmptyAxesReduceEachElementAlone() throws {
    let x = tensor([1, 2], [-1, 2] as [Float])
    assertExact(try evaluate(.reduce_l1, [x], ["axes": .ints([])])[0], .f32, [1, 2], [1, 2])
    assertExact(try evaluate(.reduce_sum_square, [x], ["axes": .ints([])])[0], .f32, [1, 2], [1, 4])
  }

  func testSignOfNegativeZeroIsPositiveZero() throws {
    let y = try evaluate(.sign, [tensor([1], [-0.0] as [Float])])[0]
    XCTAssertEqual(y.array(of: Float.self)[0].sign, .plus)
  }
}

final class ClipEdgeCaseTests: XCTestCase {
  /// ONNX: when min > max every value becomes max (onnxruntime agrees).
  func testClipWithMinAboveMaxGivesMax() throws {
    let y = try evaluate(.clip, [tensor([3], [-5, 0.5, 9] as [Float])], ["min": .float(2), "max": .float(1)])
    assertExact(y[0], .f32, [3], [1, 1, 1])
    let i = try evaluate(.clip, [tensor([2], [-5, 9] as [Int32])], ["min": .float(2), "max": .float(1)])
    assertExact(i[0], .i32, [2], [1, 1])
  }

  func testClipKeepsNaN() throws {
    let y = try evaluate(.clip, [tensor([1], [.nan] as [Float])], ["min": .float(0), "max": .float(1)])
    XCTAssertTrue(y[0].double(at: 0).isNaN)
  }
}

final class RankZeroTests: XCTestCase {
  func testAxisOpsOnAScalar() throws {
    let x = tensor([], [2.5] as [Float])
    assertExact(try evaluate(.softmax, [x], ["axis": .int(0)])[0], .f32, [], [1])
    assertExact(try evaluate(.argmax, [x], ["axis": .int(0), "keepdims": .bool(false)])[0], .i64, [], [0])
    assertExact(try evaluate(.cumsum, [x], ["axis": .int(0)])[0], .f32, [], [2.5])
    assertExact(try evaluate(.add, [x, x])[0], .f32, [], [5])
  }
}
