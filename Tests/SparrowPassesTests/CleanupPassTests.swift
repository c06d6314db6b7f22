import SparrowIR
import SparrowPasses
import XCTest

/// Each cleanup pass: where it fires (checked structurally and on the interpreter) and
/// where it must not.
final class CleanupPassTests: XCTestCase {
  // MARK: dce

  func testDCERemovesDeadOpsAndTheirWeights() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let w = b.constant(splat(3, [4]), name: "unused.weight")
      _ = try b.add1(.mul, [x, w], name: "dead")
      return [try b.add1(.relu, [x], name: "y")]
    }
    let after = try optimized(m, "dce")
    XCTAssertEqual(opKinds(after), ["relu"])
    XCTAssertEqual(after.constants.count, 0)
    XCTAssertEqual(after.main.values.count, 2, "value table compacted")
    XCTAssertEqual(resultNames(after), ["y"])
    assertEquivalent(m, after)
  }

  func testDCEKeepsEverythingLive() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let w = b.constant(splat(3, [4]), name: "w")
      return [try b.add1(.mul, [x, w], name: "y"), x]
    }
    var after = m
    let changed = try DeadCodeElimination().run(on: &after, context: PassContext(constants: m.constants))
    XCTAssertFalse(changed)
    XCTAssertEqual(opKinds(after), ["constant", "mul"])
  }

  // MARK: constant-fold

  func testConstantFoldingEvaluatesConstantSubgraphs() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3]))
      let a = b.constant(Tensor(shape: [3], scalars: [Float(1), 2, 3]), name: "a")
      let two = b.constant(splat(2), name: "two")
      let scaled = try b.add1(.mul, [a, two], name: "scaled")   // [2, 4, 6]
      let shifted = try b.add1(.add, [scaled, two], name: "shifted")  // [4, 6, 8]
      return [try b.add1(.add, [x, shifted], name: "y")]
    }
    let after = try optimized(m, "constant-fold,dce")
    XCTAssertEqual(opKinds(after), ["constant", "add"])
    let name = try XCTUnwrap(after.main.ops[0].constantName)
    XCTAssertEqual(after.constants[name], Tensor(shape: [3], scalars: [Float(4), 6, 8]))
    XCTAssertEqual(after.constants.count, 1)
    assertEquivalent(m, after)
  }

  func testConstantFoldingRespectsTheElementLimit() throws {
    let m = try makeModule { b in
      let a = b.constant(splat(1, [8]), name: "a")
      return [try b.add1(.neg, [a], name: "y")]
    }
    XCTAssertEqual(opKinds(try optimized(m, "constant-fold{max-elements=4}")), ["constant", "neg"])
    let folded = try optimized(m, "constant-fold{max-elements=8}")
    XCTAssertEqual(opKinds(folded), ["constant"])
    XCTAssertEqual(resultNames(folded), ["y"], "the output keeps its name")
    XCTAssertEqual(folded.constants[folded.main.ops[0].constantName!], splat(-1, [8]))
  }

  func testConstantFoldingLeavesOpsWithNonConstantOperands() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let one = b.constant(splat(1, [4]), name: "one")
      return [try b.add1(.add, [x, one], name: "y")]
    }
    var after = m
    let changed = try ConstantFolding().run(on: &after, context: PassContext(constants: m.constants))
    XCTAssertFalse(changed)
  }

  // MARK: cse

  func testCSEMergesIdenticalOps() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let y = b.addArgument(name: "z", type: f32([4]))
      let a = try b.add1(.add, [x, y], name: "a")
      let c = try b.add1(.add, [y, x], name: "c")   // commutative: same as a
      let s1 = try b.add1(.sigmoid, [a], name: "s1")
      let s2 = try b.add1(.sigmoid, [c], name: "s2")  // same once c is a
      return [try b.add1(.mul, [s1, s2], name: "y")]
    }
    let after = try optimized(m, "cse")
    XCTAssertEqual(opKinds(after), ["add", "sigmoid", "mul"])
    XCTAssertEqual(after.main.ops[2].operands[0], after.main.ops[2].operands[1])
    assertEquivalent(m, after)
  }

  func testCSEKeepsOpsThatDiffer() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let z = b.addArgument(name: "z", type: f32([4]))
      let a = try b.add1(.sub, [x, z], name: "a")
      let c = try b.add1(.sub, [z, x], name: "c")   // not commutative
      let l1 = try b.add1(.leaky_relu, [a], ["alpha": .float(0.1)], name: "l1")
      let l2 = try b.add1(.leaky_relu, [a], ["alpha": .float(0.2)], name: "l2")
      let s = try b.add1(.add, [l1, l2], name: "s")
      return [try b.add1(.add, [s, c], name: "y")]
    }
    XCTAssertEqual(opKinds(try optimized(m, "cse")), opKinds(m))
  }

  func testCSENeverMergesTwoOutputs() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      return [try b.add1(.relu, [x], name: "y1"), try b.add1(.relu, [x], name: "y2")]
    }
    let after = try optimized(m, "cse")
    XCTAssertEqual(opKinds(after), ["relu", "relu"])
    XCTAssertEqual(resultNames(after), ["y1", "y2"])
  }

  // MARK: remove-identity

  func testRemoveIdentityDropsNoOps() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3]))
      var v = try b.add1(.identity, [x], name: "i")
      v = try b.add1(.reshape, [v], ["shape": .ints([2, 3])], name: "r")
      v = try b.add1(.transpose, [v], ["perm": .ints([0, 1])], name: "t")
      v = try b.add1(.expand, [v], ["shape": .ints([1, 3])], name: "e")
      v = try b.add1(.cast, [v], ["to": .type(.f32)], name: "c")
      v = try b.add1(.slice, [v], ["starts": .ints([0]), "ends": .ints([100]), "axes": .ints([1]),
                                   "steps": .ints([1])], name: "s")
      return [try b.add1(.relu, [v], name: "y")]
    }
    let after = try optimized(m, "remove-identity")
    XCTAssertEqual(opKinds(after), ["relu"])
    XCTAssertEqual(after.main.ops[0].operands, after.main.arguments)
    assertEquivalent(m, after)
  }

  func testRemoveIdentityFoldsTransposeAndReshapeChains() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3, 4]))
      let t1 = try b.add1(.transpose, [x], ["perm": .ints([1, 2, 0])], name: "t1")  // 3x4x2
      let t2 = try b.add1(.transpose, [t1], ["perm": .ints([2, 0, 1])], name: "t2") // back to 2x3x4
      let t3 = try b.add1(.transpose, [t2], ["perm": .ints([0, 2, 1])], name: "t3") // 2x4x3
      let t4 = try b.add1(.transpose, [t3], ["perm": .ints([1, 0, 2])], name: "t4") // 4x2x3
      let r1 = try b.add1(.reshape, [t4], ["shape": .ints([8, 3])], name: "r1")
      return [try b.add1(.reshape, [r1], ["shape": .ints([24])], name: "y")]
    }
    let after = try optimized(m, "remove-identity")
    XCTAssertEqual(opKinds(after), ["transpose", "reshape"])
    XCTAssertEqual(after.main.ops[0].attributes.ints("perm"), [2, 0, 1])  // x[.., .., ..] -> 4x2x3
    XCTAssertEqual(after.main.type(of: after.main.ops[0].result).shape, [4, 2, 3])
    XCTAssertEqual(resultNames(after), ["y"])
    assertEquivalent(m, after)
  }

  func testRemoveIdentityKeepsOpsThatMoveData() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3]))
      let r = try b.add1(.slice, [x], ["starts": .ints([-1]), "ends": .ints([-100]), "axes": .ints([1]),
                                       "steps": .ints([-1])], name: "reversed")
      let t = try b.add1(.transpose, [r], ["perm": .ints([1, 0])], name: "t")
      let e = try b.add1(.expand, [t], ["shape": .ints([2, 3, 2])], name: "e")
      let c = try b.add1(.cast, [e], ["to": .type(.f64)], name: "c")
      return [try b.add1(.reshape, [c], ["shape": .ints([12])], name: "y")]
    }
    XCTAssertEqual(opKinds(try optimized(m, "remove-identity")), opKinds(m))
  }

  func testRemoveIdentityKeepsAnIdentityFromInputToOutput() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2]))
      return [try b.add1(.identity, [x], name: "y")]
    }
    let after = try optimized(m, "remove-identity")
    XCTAssertEqual(opKinds(after), ["identity"], "the output 'y' must stay distinct from the input")
  }

  // MARK: simplify-algebra

  func testSimplifyAlgebraRemovesNeutralElements() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3]))
      let one = b.constant(splat(1, [3]), name: "one")
      let zero = b.constant(splat(0), name: "zero")
      var v = try b.add1(.mul, [x, one], name: "a")
      v = try b.add1(.mul, [one, v], name: "b")
      v = try b.add1(.add, [v, zero], name: "c")
      v = try b.add1(.add, [zero, v], name: "d")
      v = try b.add1(.sub, [v, zero], name: "e")
      v = try b.add1(.div, [v, one], name: "f")
      v = try b.add1(.neg, [v], name: "g")
      v = try b.add1(.neg, [v], name: "h")
      return [try b.add1(.sigmoid, [v], name: "y")]
    }
    let after = try optimized(m, "simplify-algebra,dce")
    XCTAssertEqual(opKinds(after), ["sigmoid"])
    XCTAssertEqual(after.constants.count, 0)
    assertEquivalent(m, after)
  }

  func testSimplifyAlgebraKeepsBroadcastsAndOtherConstants() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([3]))
      let ones = b.constant(splat(1, [2, 3]), name: "ones")        // broadcasts x up
      let mixed = b.constant(Tensor(shape: [3], scalars: [Float(1), 1, 2]), name: "mixed")
      let zero = b.constant(splat(0, [3]), name: "zero")
      let a = try b.add1(.mul, [x, ones], name: "a")
      let c = try b.add1(.mul, [x, mixed], name: "c")
      let d = try b.add1(.sub, [zero, x], name: "d")               // 0 - x is not x
      let e = try b.add1(.div, [ones, x], name: "e")               // 1 / x is not x
      let s = try b.add1(.add, [a, e], name: "s")
      let t = try b.add1(.add, [c, d], name: "t")
      return [try b.add1(.add, [s, t], name: "y")]
    }
    XCTAssertEqual(opKinds(try optimized(m, "simplify-algebra")), opKinds(m))
  }

  // MARK: pipelines

  func testO1CleansUpAMixedGraph() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 4]))
      let shape = b.constant(Tensor(shape: [2], scalars: [Int64(2), 2]), name: "shape")
      let shape2 = try b.add1(.mul, [shape, shape], name: "shape2")   // folded
      _ = try b.add1(.identity, [shape2], name: "unused")
      let i = try b.add1(.identity, [x], name: "i")
      let r1 = try b.add1(.relu, [i], name: "r1")
      let r2 = try b.add1(.relu, [x], name: "r2")
      return [try b.add1(.add, [r1, r2], name: "y")]
    }
    let after = try optimized(m, Pipelines.O1.joined(separator: ","))
    XCTAssertEqual(opKinds(after), ["relu", "add"])
    XCTAssertEqual(after.constants.count, 0)
    assertEquivalent(m, after)
  }
}
