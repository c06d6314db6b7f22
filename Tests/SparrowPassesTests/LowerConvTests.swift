import SparrowIR
import SparrowPasses
import XCTest

/// lower-conv: the chosen algorithm, accepted by the verifier and ignored by the math.
final class LowerConvTests: XCTestCase {
  func testAlgorithmsAreChosenAndMathIsUnchanged() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 4, 6, 6]))
      let a = try b.conv([x, b.weight([4, 4, 1, 1], "wa", seed: 1)], kernel: 1, name: "a")
      let d = try b.conv([a, b.weight([4, 1, 3, 3], "wd", seed: 2)], kernel: 3, pad: 1, group: 4, name: "d")
      let g = try b.conv([d, b.weight([4, 2, 3, 3], "wg", seed: 3)], kernel: 3, stride: 2, group: 2, name: "g")
      return [try b.conv([g, b.weight([2, 4, 3, 3], "wi", seed: 4)], kernel: 3, pad: 1, name: "y")]
    }
    let after = try optimized(m, "lower-conv")
    XCTAssertEqual(ops(after, .conv).map { $0.attributes.values["algorithm"] },
                   [ConvAlgorithm.gemm1x1, .depthwise, .direct, .im2col].map { AttributeValue.convAlgorithm($0) })
    var again = after
    XCTAssertFalse(try LowerConv().run(on: &again, context: PassContext(constants: after.constants)),
                   "a second run changes nothing")
    assertEquivalent(m, after)
  }

  func testAWrongAlgorithmIsRejected() throws {
    var b = Builder(module: Module(name: "m"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: f32([1, 4, 6, 6]))
    let w = b.weight([4, 4, 3, 3], "w", seed: 1)
    XCTAssertThrowsError(try b.add1(.conv, [x, w], ["strides": .ints([1, 1]), "pads": .ints([1, 1, 1, 1]),
                                                      "dilations": .ints([1, 1]), "algorithm": .convAlgorithm(.gemm1x1)]))
  }
}
