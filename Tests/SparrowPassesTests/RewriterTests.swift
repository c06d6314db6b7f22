import SparrowIR
import SparrowPasses
import XCTest

final class RewriterTests: XCTestCase {
  /// x -> relu -> neg -> output "y".
  private func chain() throws -> Module {
    try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let r = try b.add1(.relu, [x], name: "r")
      return [try b.add1(.neg, [r], name: "y")]
    }
  }

  func testReplacingAnOutputKeepsItsName() throws {
    let m = try chain()
    let context = PassContext(constants: m.constants)
    let rewriter = Rewriter(m.main, context: context)
    let neg = rewriter.op(at: 1), relu = rewriter.op(at: 0)
    XCTAssertTrue(rewriter.canReplace(neg.result, with: relu.result))
    XCTAssertFalse(rewriter.canReplace(neg.result, with: m.main.arguments[0]),
                   "an argument cannot become a named output")
    rewriter.replaceOp(1, with: [relu.result])
    let f = rewriter.finish()
    XCTAssertEqual(f.ops.map(\.kind), [.relu])
    XCTAssertEqual(f.name(of: f.results[0]), "y")
    XCTAssertEqual(context.changes, ChangeCounts(removed: 1))
  }

  func testEraseRemovesOperandsLeftUnused() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let r = try b.add1(.relu, [x], name: "r")
      let n = try b.add1(.neg, [r], name: "n")
      _ = try b.add1(.exp, [n], name: "dead")
      return [r]
    }
    let context = PassContext(constants: m.constants)
    let rewriter = Rewriter(m.main, context: context)
    rewriter.erase(2)
    let f = rewriter.finish()
    XCTAssertEqual(f.ops.map(\.kind), [.relu], "neg had no other user")
    XCTAssertEqual(context.changes.removed, 2)
  }

  func testInsertedOpsLandBeforeTheirAnchorInOrder() throws {
    let m = try chain()
    let context = PassContext(constants: m.constants)
    let rewriter = Rewriter(m.main, context: context)
    rewriter.root = 1  // the neg
    let x = m.main.arguments[0]
    let a = try rewriter.insert(.exp, [x], name: "a")[0]
    let c = rewriter.insertConstant(splat(2, [4]), name: "two")
    let p = try rewriter.insert(.mul, [a, c], name: "p")[0]
    rewriter.replaceOp(1, with: [p])
    let f = rewriter.finish()
    XCTAssertEqual(f.ops.map(\.kind), [.exp, .constant, .mul], "relu lost its only user")
    XCTAssertEqual(f.name(of: f.results[0]), "y")
    XCTAssertEqual(context.constants["two"], splat(2, [4]))
    XCTAssertEqual(context.changes, ChangeCounts(removed: 2, added: 3))
  }

  func testFinishPullsDefinitionsBeforeUsers() throws {
    let m = try chain()
    let rewriter = Rewriter(m.main, context: PassContext(constants: m.constants))
    // A new op anchored before the relu, then the relu changed to use it.
    let x = m.main.arguments[0]
    rewriter.root = 0
    let s = try rewriter.insert(.sigmoid, [x], name: "s", before: 0)[0]
    let t = try rewriter.insert(.tanh, [s], name: "t", before: 1)[0]  // anchored after the relu
    rewriter.modifyOp(0) { $0.operands = [t] }
    let f = rewriter.finish()
    XCTAssertEqual(f.ops.map(\.kind), [.sigmoid, .tanh, .relu, .neg])
  }

  func testGreedyDriverReachesAFixedPoint() throws {
    // neg(neg(neg(neg(x)))) -> x needs the driver to revisit after each rewrite.
    let m = try makeModule { b in
      var v = b.addArgument(name: "x", type: f32([3]))
      for i in 0..<4 { v = try b.add1(.neg, [v], name: "n\(i)") }
      return [try b.add1(.relu, [v], name: "y")]
    }
    let after = try optimized(m, "simplify-algebra")
    XCTAssertEqual(opKinds(after), ["relu"])
    XCTAssertEqual(after.main.ops[0].operands, after.main.arguments)
  }

  func testOpsOfADecliningPatternAreRemoved() throws {
    let m = try chain()
    var f = m.main
    let context = PassContext(constants: m.constants)
    let declines = RewritePattern("insert-then-decline", roots: [.neg]) { op, r in
      _ = try r.insert(.exp, op.operands, name: "scratch")
      return nil
    }
    let changed = try applyPatternsGreedily([declines], to: &f, context: context)
    XCTAssertFalse(changed)
    XCTAssertEqual(f.ops.map(\.kind), [.relu, .neg])
  }

  func testHasOneUseCountsOperandSlots() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([4]))
      let r = try b.add1(.relu, [x], name: "r")
      let s = try b.add1(.sigmoid, [x], name: "s")
      let twice = try b.add1(.add, [r, r], name: "twice")
      return [try b.add1(.mul, [twice, s], name: "y")]
    }
    let rewriter = Rewriter(m.main, context: PassContext(constants: m.constants))
    XCTAssertFalse(rewriter.hasOneUse(m.main.ops[0].result), "used twice by one op")
    XCTAssertTrue(rewriter.hasOneUse(m.main.ops[1].result))
    XCTAssertFalse(rewriter.hasOneUse(m.main.ops[3].result), "a function result")
    XCTAssertEqual(rewriter.users(of: m.main.ops[0].result), [2])
  }

  func testUseListHelpers() throws {
    var f = try chain().main
    let r = f.ops[0].result
    XCTAssertEqual(f.users(of: r), [1])
    XCTAssertTrue(f.isArgument(f.arguments[0]))
    f.replaceAllUses(of: f.ops[1].result, with: r)
    f.eraseOp(at: 1)
    XCTAssertEqual(f.results, [r])
    let compact = f.compactingValues()
    XCTAssertEqual(compact.values.count, 2)
    XCTAssertEqual(compact.name(of: compact.results[0]), "r")
  }
}
