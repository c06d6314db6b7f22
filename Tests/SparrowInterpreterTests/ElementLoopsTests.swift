// Hand-written checks of the shared element machinery: the vectorizable exp, broadcast
// plans, half-precision round trips, and diagnostics instead of traps.

import Foundation
import SparrowIR
import XCTest

@testable import SparrowInterpreter

final class ElementLoopsTests: XCTestCase {
  func testFastExpIsWithinAFewUlpOfLibm() {
    var worst: Float = 0
    var x: Float = -87
    while x < 88 {
      let exact = Float(Foundation.exp(Double(x)))
      worst = max(worst, abs(Float.fastExp(x) - exact) / exact)
      x += 0.0137
    }
    XCTAssertLessThan(worst, 4e-7)
    XCTAssertEqual(Float.fastExp(0), 1)
    XCTAssertTrue(Float.fastExp(.nan).isNaN)
    XCTAssertEqual(Float.fastExp(1000), Float.fastExp(88.4))  // saturates, finite
  }

  func testFastTanhIsWithinAFewUlpOfLibm() {
    var worst: Float = 0
    var x: Float = -12
    while x < 12 {
      let exact = Float(Foundation.tanh(Double(x)))
      worst = max(worst, abs(Float.fastTanh(x) - exact) / max(abs(exact), 1e-30))
      x += 0.00731
    }
    XCTAssertLessThan(worst, 1e-6)
    XCTAssertEqual(Float.fastTanh(1e-20), 1e-20)
    XCTAssertEqual(Float.fastTanh(100), 1)
    XCTAssertEqual(Float.fastTanh(-100), -1)
    XCTAssertTrue(Float.fastTanh(.nan).isNaN)
  }

  func testFastErfIsWithinFiveTenMillionthsOfLibm() {
    var worst: Double = 0
    var x: Float = -6
    while x < 6 {
      worst = max(worst, abs(Double(Float.fastErf(x)) - Foundation.erf(Double(x))))
      x += 0.00417
    }
    XCTAssertLessThan(worst, 5e-7)
    XCTAssertTrue(Float.fastErf(.nan).isNaN)
  }

  func testBroadcastPlanCollapsesContiguousAxes() {
    let same = BroadcastPlan(output: [2, 3, 4], operands: [[2, 3, 4], [2, 3, 4]])
    XCTAssertEqual(same.dims, [24])
    let scalar = BroadcastPlan(output: [2, 3], operands: [[2, 3], []])
    XCTAssertEqual(scalar.strides, [[1], [0]])
    let outer = BroadcastPlan(output: [3, 4], operands: [[3, 1], [1, 4]])
    XCTAssertEqual(outer.dims, [3, 4])
    XCTAssertEqual(outer.strides, [[1, 0], [0, 1]])
  }

  func testBF16ComputesInFloatAndRoundsBack() throws {
    let x = half([3], [1, -2, 0.5], bf16: true)
    let y = try evaluate(.mul, [x, x])
    assertExact(y[0], .bf16, [3], [1, 4, 0.25])
    let s = try evaluate(.reduce_sum, [x], ["axes": .ints([0])])
    assertExact(s[0], .bf16, [1], [-0.5])
  }

  func testUnsupportedElementTypesThrow() {
    assertThrowsDiagnostic(try evaluate(.exp, [tensor([1], [1] as [Int32])]))
    assertThrowsDiagnostic(try evaluate(.neg, [tensor([1], [1] as [UInt8])]))
    assertThrowsDiagnostic(try evaluate(.softmax, [tensor([2], [1, 2] as [Int64])], ["axis": .int(0)]))
    assertThrowsDiagnostic(try evaluate(.cumsum, [tensor([1], [true])], ["axis": .int(0)]))
    assertThrowsDiagnostic(try evaluate(.group_norm, [tensor([1, 3, 2], [Float](repeating: 1, count: 6)),
                                                      tensor([3], [1, 1, 1] as [Float]),
                                                      tensor([3], [0, 0, 0] as [Float])],
                                        ["num_groups": .int(2)]))
  }

  func testBadParametersThrowInsteadOfTrapping() {
    let x = tensor([1, 2, 2], [Float](repeating: 1, count: 4))
    assertThrowsDiagnostic(try evaluate(.instance_norm, [x, tensor([3], [1, 1, 1] as [Float]),
                                                         tensor([2], [0, 0] as [Float])]))
    assertThrowsDiagnostic(try evaluate(.mean_variance_norm, [x], ["axes": .ints([3])]))
    assertThrowsDiagnostic(try evaluate(.dequantize_linear, [tensor([1], [1] as [UInt8]), tensor([], [1] as [Float]),
                                                             tensor([], [0] as [Int8])]))
  }

  func testCastRoundTripsThroughEveryType() throws {
    let x = tensor([3], [0, 1, 7] as [Int64])
    for e in ElementType.allCases {
      let y = try evaluate(.cast, [x], ["to": .type(e)])
      let back = try evaluate(.cast, [y[0]], ["to": .type(.i64)])
      assertExact(back[0], .i64, [3], e == .bool ? [0, 1, 1] : [0, 1, 7])
    }
  }

  func testInterpreterRunsABuiltModule() throws {
    var b = Builder(module: Module(name: "m"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [2, 3]))
    let r = try b.add1(.relu, [x])
    let s = try b.add1(.softmax, [r], ["axis": .int(1)])
    let m = b.finish(results: [s])
    let y = try Interpreter.run(m, inputs: [tensor([2, 3], [-1, 0, 1, 2, -3, 0] as [Float])])
    // softmax([0, 0, 1]) and softmax([2, 0, 0]).
    assertClose(y[0], .f32, [2, 3], [0.211941558, 0.211941558, 0.576116884,
                                     0.786986053, 0.106506974, 0.106506974])
  }
}
