import SparrowIR
import SparrowPasses
import XCTest

/// fuse-epilogue and the epilogue's meaning on the interpreter.
final class FuseEpilogueTests: XCTestCase {
  func testEpilogueStepsRoundTripThroughText() throws {
    let steps: [EpilogueStep] = [.relu, .clip(min: 0, max: 6), .leakyRelu(alpha: 0.1), .sigmoid, .tanh,
                                 .hardSwish, .silu, .gelu(approximate: "none"), .gelu(approximate: "tanh"),
                                 .add, .clip(min: -.infinity, max: 1.5)]
    for step in steps { XCTAssertEqual(try EpilogueStep(parsing: step.description), step) }
    XCTAssertEqual(EpilogueStep.clip(min: 0, max: 6).description, "clip:0.0:6.0")
    XCTAssertThrowsError(try EpilogueStep(parsing: "swish"))
    XCTAssertThrowsError(try EpilogueStep(parsing: "clip:0"))
  }

  /// relu(x * w + c + r) with known numbers: the epilogue runs after the bias, in order.
  func testGemmEpilogueComputesKnownValues() throws {
    let m = try makeModule { b in
      let x = b.constant(Tensor(shape: [1, 2], scalars: [Float(1), 2]), name: "x")
      let w = b.constant(Tensor(shape: [2, 3], scalars: [Float(1), 0, -1, 1, 1, 0]), name: "w")
      let c = b.constant(Tensor(shape: [3], scalars: [Float(0.5), -3, 0]), name: "c")
      let r = b.constant(Tensor(shape: [1, 3], scalars: [Float(1), 0, -0.5]), name: "r")
      return [try b.add1(.gemm, [x, w, c, r], ["epilogue": .epilogue([.add, .relu])], name: "y")]
    }
    // x * w = [3, 2, -1]; + c = [3.5, -1, -1]; + r = [4.5, -1, -1.5]; relu = [4.5, 0, 0]
    let y = try runOnInterpreter(m)
    XCTAssertEqual(y[0].array(of: Float.self), [4.5, 0, 0])
  }

  func testResidualAndActivationsFuseIntoConv() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 4, 6, 6]))
      let r = b.addArgument(name: "r", type: f32([1, 8, 6, 6]))
      let c = try b.conv([x, b.weight([8, 4, 3, 3], "w", seed: 1)], kernel: 3, pad: 1, name: "c")
      let s = try b.add1(.add, [r, c], name: "s")
      let y = try b.add1(.clip, [s], ["min": .float(0), "max": .float(6)], name: "y")
      let c2 = try b.conv([y, b.weight([8, 8, 1, 1], "w2", seed: 2), b.weight([8], "b2", seed: 3)],
                          kernel: 1, name: "c2")
      let sig = try b.add1(.sigmoid, [c2], name: "sig")
      return [try b.add1(.mul, [c2, sig], name: "z")]
    }
    let after = try optimized(m, "fuse-epilogue,dce")
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["conv", "conv"])
    let convs = ops(after, .conv)
    XCTAssertEqual(epilogue(convs[0]), ["add", "clip:0.0:6.0"])
    XCTAssertEqual(convs[0].operands.count, 4)
    XCTAssertEqual(epilogue(convs[1]), ["silu"])
    assertEquivalent(m, after)
  }

  func testGeluPatternsFuseIntoGemm() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4, 8]))
      let g = try b.add1(.gemm, [x, b.weight([8, 6], "w", seed: 1)], name: "g")
      // (x * 0.5) * (1 + erf(x * 0.70710678))
      let e = try b.add1(.erf, [try b.add1(.mul, [g, b.constant(splat(0.70710678), name: "k")], name: "e0")],
                         name: "e")
      let a = try b.add1(.add, [b.constant(splat(1), name: "one"), e], name: "a")
      let h = try b.add1(.mul, [g, b.constant(splat(0.5), name: "half")], name: "h")
      let y = try b.add1(.mul, [h, a], name: "y")
      let g2 = try b.add1(.gemm, [y, b.weight([6, 3], "w2", seed: 2)], name: "g2")
      return [try b.add1(.gelu, [g2], ["approximate": .string("tanh")], name: "z")]
    }
    let after = try optimized(m, "fuse-epilogue,dce")
    XCTAssertEqual(ops(after, .gemm).map(epilogue), [["gelu"], ["gelu:tanh"]])
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["gemm", "gemm"])
    assertEquivalent(m, after)
  }

  /// 0.5 * x * (1 + tanh(0.79788456 * (x + 0.044715 * x^3))) as GPT-2 exporters write it.
  func testDecomposedTanhGeluFusesIntoGemm() throws {
    for usePow in [true, false] {
      let m = try makeModule { b in
        let x = b.addArgument(name: "x", type: f32([4, 8]))
        let g = try b.add1(.gemm, [x, b.weight([8, 6], "w", seed: 1)], name: "g")
        let cube = usePow
          ? try b.add1(.pow, [g, b.constant(splat(3), name: "three")], name: "cube")
          : try b.add1(.mul, [try b.add1(.mul, [g, g], name: "sq"), g], name: "cube")
        let inner = try b.add1(.add, [g, try b.add1(.mul, [b.constant(splat(0.044715), name: "k"), cube], name: "kc")],
                               name: "inner")
        let t = try b.add1(.tanh, [try b.add1(.mul, [inner, b.constant(splat(0.7978845608), name: "c")], name: "s")],
                           name: "t")
        let a = try b.add1(.add, [t, b.constant(splat(1), name: "one")], name: "a")
        let h = try b.add1(.mul, [b.constant(splat(0.5), name: "half"), g], name: "h")
        return [try b.add1(.mul, [h, a], name: "y")]
      }
      let after = try optimized(m, "fuse-epilogue,dce")
      XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["gemm"])
      XCTAssertEqual(epilogue(ops(after, .gemm)[0]), ["gelu:tanh"])
      assertEquivalent(m, after)
    }
  }

  func testTanhGeluDoesNotFuseWhenXIsSeenElsewhere() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4, 8]))
      let g = try b.add1(.gemm, [x, b.weight([8, 6], "w", seed: 1)], name: "g")
      let cube = try b.add1(.pow, [g, b.constant(splat(3), name: "three")], name: "cube")
      let inner = try b.add1(.add, [g, try b.add1(.mul, [cube, b.constant(splat(0.044715), name: "k")], name: "kc")],
                             name: "inner")
      let t = try b.add1(.tanh, [try b.add1(.mul, [inner, b.constant(splat(0.7978845608), name: "c")], name: "s")],
                         name: "t")
      let a = try b.add1(.add, [t, b.constant(splat(1), name: "one")], name: "a")
      let y = try b.add1(.mul, [try b.add1(.mul, [g, b.constant(splat(0.5), name: "half")], name: "h"), a], name: "y")
      return [y, try b.add1(.exp, [g], name: "other")]
    }
    XCTAssertEqual(opKinds(try optimized(m, "fuse-epilogue")), opKinds(m))
  }

  func testLeakyReluAndTanhFuseThroughAReshape() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([6, 8]))
      let g = try b.add1(.gemm, [x, b.weight([5, 8], "w", seed: 1)], ["transB": .bool(true)], name: "g")
      let v = try b.add1(.reshape, [g], ["shape": .ints([2, 3, 5])], name: "v")
      let l = try b.add1(.leaky_relu, [v], ["alpha": .float(0.2)], name: "l")
      return [try b.add1(.tanh, [l], name: "y")]
    }
    let after = try optimized(m, "fuse-epilogue,dce")
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["gemm", "reshape"])
    XCTAssertEqual(epilogue(ops(after, .gemm)[0]), ["leaky_relu:0.2", "tanh"])
    assertEquivalent(m, after)
  }

  func testDoesNotFuseAnIntermediateWithAnotherUser() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4, 8]))
      let g = try b.add1(.gemm, [x, b.weight([8, 6], "w", seed: 1)], name: "g")
      let s = try b.add1(.sigmoid, [g], name: "s")
      let y = try b.add1(.mul, [g, s], name: "y")
      return [y, s]
    }
    XCTAssertEqual(opKinds(try optimized(m, "fuse-epilogue")), opKinds(m))
  }
}
