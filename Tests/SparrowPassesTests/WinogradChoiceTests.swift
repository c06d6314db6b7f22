import SparrowIR
import SparrowPasses
import XCTest

/// lower-conv's Winograd choice: the measured rule, the forcing modes, and what never fits.
final class WinogradChoiceTests: XCTestCase {
  private func algorithms(_ mode: String, _ body: (inout Builder) throws -> [ValueID]) throws -> [AttributeValue?] {
    let m = try makeModule(body)
    return ops(try optimized(m, "lower-conv{winograd=\(mode)}"), .conv).map { $0.attributes.values["algorithm"] }
  }

  func testRuleAndModes() throws {
    let layers: (inout Builder) throws -> [ValueID] = { b in
      let x = b.addArgument(name: "x", type: f32([1, 64, 28, 28]))
      let big = try b.conv([x, b.weight([64, 64, 3, 3], "w1", seed: 1)], kernel: 3, pad: 1, name: "big")
      let small = try b.conv([big, b.weight([8, 64, 3, 3], "w2", seed: 2)], kernel: 3, pad: 1, name: "small")
      let strided = try b.conv([big, b.weight([64, 64, 3, 3], "w3", seed: 3)], kernel: 3, stride: 2, pad: 1, name: "s2")
      let x7 = b.addArgument(name: "x7", type: f32([1, 512, 7, 7]))
      let deep = try b.conv([x7, b.weight([512, 512, 3, 3], "w4", seed: 4)], kernel: 3, pad: 1, name: "deep")
      return [small, strided, deep]
    }
    XCTAssertEqual(try algorithms("auto", layers),
                   [ConvAlgorithm.winograd4, .im2col, .im2col, .winograd2].map { AttributeValue.convAlgorithm($0) })
    XCTAssertEqual(try algorithms("off", layers), [ConvAlgorithm.im2col, .im2col, .im2col, .im2col].map { AttributeValue.convAlgorithm($0) })
    XCTAssertEqual(try algorithms("f2", layers), [ConvAlgorithm.winograd2, .winograd2, .im2col, .winograd2].map { AttributeValue.convAlgorithm($0) })
    XCTAssertEqual(try algorithms("f4", layers), [ConvAlgorithm.winograd4, .winograd4, .im2col, .winograd4].map { AttributeValue.convAlgorithm($0) })
  }

  func testMeasuredShapes() {
    // bench/winograd.md: (channels, side) -> the fastest measured algorithm (nil: im2col).
    let expected: [(Int, Int, ConvAlgorithm?)] = [
      (64, 56, .winograd4), (128, 28, .winograd4), (256, 14, .winograd4), (512, 7, .winograd2),
      (16, 56, .winograd2), (32, 56, .winograd2), (32, 28, .winograd2), (16, 112, .winograd4),
      (64, 7, nil), (512, 4, nil)]
    for (channels, side, algorithm) in expected {
      XCTAssertEqual(WinogradChoice.autoAlgorithm(inChannels: channels, outChannels: channels,
                                                  outHeight: side, outWidth: side), algorithm,
                     "\(channels) channels at \(side)x\(side)")
    }
  }

  func testWinogradKeepsTheMathAndABadModeIsRejected() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 6, 9, 7]))
      return [try b.conv([x, b.weight([5, 6, 3, 3], "w", seed: 7)], kernel: 3, pad: 1, name: "y")]
    }
    assertEquivalent(m, try optimized(m, "lower-conv{winograd=f4}"))
    XCTAssertThrowsError(try optimized(m, "lower-conv{winograd=f8}"))
    XCTAssertEqual(try algorithms("f4") { b in  // an empty output plane is never Winograd
      let x = b.addArgument(name: "x", type: f32([1, 4, 2, 2]))
      return [try b.conv([x, b.weight([4, 4, 3, 3], "w", seed: 1)], kernel: 3, name: "y")]
    }, [.convAlgorithm(.im2col)])
  }
}
