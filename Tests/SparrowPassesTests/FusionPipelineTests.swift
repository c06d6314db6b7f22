import SparrowIR
import SparrowPasses
import XCTest

/// -O2 on small ResNet- and BERT-like blocks: what the fusion passes promise together.
final class FusionPipelineTests: XCTestCase {
  private func O2(_ m: Module) throws -> Module {
    try optimized(m, Pipelines.O2.joined(separator: ","))
  }

  /// conv-bn-relu, conv-bn, + identity, relu (a ResNet basic block).
  func testResNetBlockLeavesOnlyConvs() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 4, 6, 6]))
      func convBN(_ input: ValueID, _ seed: UInt64) throws -> ValueID {
        let c = try b.conv([input, b.weight([4, 4, 3, 3], "w", seed: seed)], kernel: 3, pad: 1, name: "c")
        let params = [b.weight([4], "s", seed: seed + 1), b.weight([4], "t", seed: seed + 2),
                      b.weight([4], "m", seed: seed + 3), b.weight([4], "v", seed: seed + 4, in: 0.5...2)]
        return try b.add1(.batch_norm, [c] + params, name: "bn")
      }
      let h = try b.add1(.relu, [try convBN(x, 10)], name: "h")
      let s = try b.add1(.add, [try convBN(h, 20), x], name: "s")
      return [try b.add1(.relu, [s], name: "y")]
    }
    let after = try O2(m)
    // Too few channels for NHWC to pay for its two transposes (choose-conv-layout's auto
    // rule): the block stays NCHW, two convs and nothing else.
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["conv", "conv"])
    XCTAssertEqual(ops(after, .conv).map { $0.attributes.convLayout.rawValue }, ["nchw", "nchw"])
    XCTAssertEqual(ops(after, .conv).map(epilogue), [["relu"], ["add", "relu"]])
    XCTAssertEqual(ops(after, .conv).map { $0.attributes.values["algorithm"] }, [.convAlgorithm(.im2col), .convAlgorithm(.im2col)])
    assertEquivalent(m, after)
  }

  /// Q, K, V projections of [1, 6, 8] tokens, attention scores, then a GELU feed-forward.
  func testAttentionProjectionsBecomeOneGemm() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 6, 8]))
      func linear(_ input: ValueID, _ n: Int, _ seed: UInt64) throws -> ValueID {
        let k = b.function.type(of: input).shape.last!
        let mm = try b.add1(.matmul, [input, b.weight([k, n], "w", seed: seed)], name: "mm")
        return try b.add1(.add, [mm, b.weight([n], "b", seed: seed + 1)], name: "lin")
      }
      let q = try linear(x, 8, 1), k = try linear(x, 8, 3), v = try linear(x, 8, 5)
      let kt = try b.add1(.transpose, [k], ["perm": .ints([0, 2, 1])], name: "kt")
      let p = try b.add1(.softmax, [try b.add1(.matmul, [q, kt], name: "scores")], ["axis": .int(2)], name: "p")
      let ctx = try b.add1(.add, [try b.add1(.matmul, [p, v], name: "ctx"), x], name: "res")
      let h = try b.add1(.gelu, [try linear(ctx, 16, 7)], name: "h")
      return [try linear(h, 8, 9)]
    }
    let after = try O2(m)
    let gemms = ops(after, .gemm)
    XCTAssertEqual(gemms.count, 3, "q/k/v as one gemm, then the two feed-forward gemms")
    XCTAssertEqual(gemms.map { after.main.type(of: $0.result).shape }, [[6, 24], [6, 16], [6, 8]])
    XCTAssertEqual(gemms.map(epilogue), [[], ["gelu"], []])
    XCTAssertEqual(ops(after, .split).count, 1)
    assertEquivalent(m, after)
  }
}
