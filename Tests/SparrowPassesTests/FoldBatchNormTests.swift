import SparrowIR
import SparrowPasses
import XCTest

/// fold-batch-norm: folded results equal the unfolded ones on the interpreter.
final class FoldBatchNormTests: XCTestCase {
  func testBatchNormFoldsIntoConvWithAndWithoutBias() throws {
    for hasBias in [false, true] {
      let m = try makeModule { b in
        let x = b.addArgument(name: "x", type: f32([1, 3, 6, 6]))
        var operands = [x, b.weight([4, 3, 3, 3], "w", seed: 1)]
        if hasBias { operands.append(b.weight([4], "b", seed: 2)) }
        let c = try b.conv(operands, kernel: 3, pad: 1, name: "c")
        let params = [b.weight([4], "s", seed: 3), b.weight([4], "t", seed: 4), b.weight([4], "m", seed: 5),
                      b.weight([4], "v", seed: 6, in: 0.5...2)]
        return [try b.add1(.batch_norm, [c] + params, ["epsilon": .float(1e-3)], name: "y")]
      }
      let after = try optimized(m, "fold-batch-norm,dce")
      XCTAssertEqual(opKinds(after), ["constant", "constant", "conv"])
      XCTAssertEqual(resultNames(after), ["y"])
      assertEquivalent(m, after)
    }
  }

  func testPerChannelAffineFoldsIntoGemm() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([5, 8]))
      let g = try b.add1(.gemm, [x, b.weight([8, 6], "w", seed: 1), b.weight([1, 6], "c", seed: 2)],
                         ["alpha": .float(0.5), "beta": .float(2)], name: "g")
      let scaled = try b.add1(.mul, [b.weight([6], "s", seed: 3), g], name: "scaled")
      let shifted = try b.add1(.sub, [scaled, b.weight([1, 6], "t", seed: 4)], name: "shifted")
      return [try b.add1(.div, [shifted, b.weight([], "d", seed: 5, in: 1...2)], name: "y")]
    }
    let after = try optimized(m, "fold-batch-norm,dce")
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["gemm"])
    assertEquivalent(m, after)
  }

  func testBatchNormFoldsIntoGroupedConvTranspose() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 4, 3, 3]))
      let c = try b.add1(.conv_transpose, [x, b.weight([4, 3, 2, 2], "w", seed: 1)],
                         ["strides": .ints([2, 2]), "pads": .ints([0, 0, 0, 0]), "dilations": .ints([1, 1]),
                          "group": .int(2), "output_padding": .ints([0, 0])], name: "c")
      let params = [b.weight([6], "s", seed: 3), b.weight([6], "t", seed: 4), b.weight([6], "m", seed: 5),
                    b.weight([6], "v", seed: 6, in: 0.5...2)]
      return [try b.add1(.batch_norm, [c] + params, name: "y")]
    }
    let after = try optimized(m, "fold-batch-norm,dce")
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["conv_transpose"])
    assertEquivalent(m, after)
  }

  func testSharedWeightsAreNotMutated() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 2, 4, 4]))
      let w = b.weight([2, 2, 1, 1], "w", seed: 1)
      let c1 = try b.conv([x, w], kernel: 1, name: "c1")
      let c2 = try b.conv([x, w], kernel: 1, name: "c2")
      let y1 = try b.add1(.mul, [c1, b.weight([1, 2, 1, 1], "s", seed: 2)], name: "y1")
      return [y1, c2]
    }
    let after = try optimized(m, "fold-batch-norm")
    XCTAssertEqual(after.constants["w"], m.constants["w"])
    XCTAssertEqual(ops(after, .conv).count, 2)
    XCTAssertTrue(ops(after, .mul).isEmpty)
    assertEquivalent(m, after)
  }

  func testDoesNotFoldWhenTheConvHasAnotherUser() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 2, 4, 4]))
      let c = try b.conv([x, b.weight([2, 2, 1, 1], "w", seed: 1)], kernel: 1, name: "c")
      let s = b.weight([2], "s", seed: 2)
      return [try b.add1(.batch_norm, [c, s, s, s, b.weight([2], "v", seed: 3, in: 1...2)], name: "y"), c]
    }
    XCTAssertEqual(opKinds(try optimized(m, "fold-batch-norm")), opKinds(m))
  }
}
