//===--- MemoryPlanTests.swift - the shared memory plan and the arena run ---===//
//
// The plan never lets two simultaneously live values overlap (random and real graphs);
// in-place reuse fires exactly where legal; the interpreter running from the plan gives
// the same bits as evaluating op by op on owned tensors (the pre-arena path).

import SparrowIR
import SparrowInterpreter
import SparrowPasses
import SparrowTargetSupport
import XCTest
import SparrowTestSupport

final class MemoryPlanTests: XCTestCase {
  // MARK: Overlap property

  /// Every pair of arena values whose lifetimes intersect has disjoint byte ranges.
  /// Lifetimes: from the defining op to the last use of the value or any view of it.
  func assertNoLiveOverlap(_ f: Function, _ plan: MemoryPlan, file: StaticString = #filePath, line: UInt = #line) {
    let defining = f.definingOps()
    var root: [ValueID: ValueID] = [:]
    for op in f.ops where Interpreter.isView(op) { root[op.result] = op.operands[0] }
    func rootOf(_ v: ValueID) -> ValueID { root[v].map(rootOf) ?? v }
    var lastUse: [ValueID: Int] = [:]
    for (i, op) in f.ops.enumerated() { for v in op.operands { lastUse[rootOf(v)] = i } }
    for r in f.results { lastUse[rootOf(r)] = f.ops.count }
    let ranges = plan.arenaRanges(f).filter { !$0.value.isEmpty }
    let values = ranges.keys.sorted { $0.index < $1.index }
    for (n, a) in values.enumerated() {
      for b in values[(n + 1)...] {
        let (sa, sb) = (defining[a]!, defining[b]!)
        let (ea, eb) = (lastUse[a] ?? sa, lastUse[b] ?? sb)
        // In place: b's op is a's last use and b took a's slot (a handover, not an overlap).
        if plan.inPlace[sb] != nil && ea == sb && ranges[a] == ranges[b] { continue }
        if plan.inPlace[sa] != nil && eb == sa && ranges[a] == ranges[b] { continue }
        let live = sa <= eb && sb <= ea
        XCTAssertFalse(live && ranges[a]!.overlaps(ranges[b]!),
                       "\(f.name(of: a)) \(ranges[a]!) and \(f.name(of: b)) \(ranges[b]!) overlap while live",
                       file: file, line: line)
      }
    }
    // An op's scratch overlaps no value live at that op (its operands and results included).
    for (i, offset) in plan.scratchOffset {
      let scratch = offset..<offset + Interpreter.scratchBytes(f.ops[i], in: f)
      for (v, range) in ranges where defining[v]! <= i && i <= (lastUse[v] ?? defining[v]!) {
        XCTAssertFalse(scratch.overlaps(range), "scratch of op \(i) overlaps \(f.name(of: v))", file: file, line: line)
      }
    }
  }

  func testRandomGraphsNeverOverlapLiveValues() throws {
    var g = SeededGenerator(seed: 7)
    for trial in 0..<60 {
      let m = randomModule(&g, ops: 8 + trial % 25)
      let plan = Interpreter.memoryPlan(for: m.main)
      assertNoLiveOverlap(m.main, plan)
      XCTAssertLessThanOrEqual(plan.workspaceSize, plan.intermediateBytes)
      // Same bits as op-by-op evaluation, in-place and reuse included.
      let inputs = randomInputs(for: m.main, seed: UInt64(trial))
      XCTAssertEqual(try Interpreter.run(m, inputs: inputs), try evaluateOpByOp(m, inputs), "trial \(trial)")
    }
  }

  func testRealGraphsNeverOverlapAtO0AndO2() throws {
    var scratches = 0
    for m in try realModules() {
      for pipeline in ["dce", Pipelines.O2.joined(separator: ",")] {
        let o = try optimized(m, pipeline)
        let plan = Interpreter.memoryPlan(for: o.main)
        assertNoLiveOverlap(o.main, plan)
        scratches += plan.scratchOffset.count
      }
    }
    XCTAssertGreaterThan(scratches, 0, "some conv takes im2col scratch from the arena")
  }

  // MARK: In place

  func testInPlaceFiresOnDyingElementwiseOperand() throws {
    let m = try parse("""
      func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>) {
        %a = matmul %x, %w : tensor<4x8xf32>
        %b = relu %a : tensor<4x8xf32>
        %c = add %b, %x : tensor<4x8xf32>
        %d = matmul %c, %w : tensor<4x8xf32>
        return %d
      }
      """)
    let plan = Interpreter.memoryPlan(for: m.main)
    XCTAssertEqual(plan.inPlace, [1: 0, 2: 0], "relu over %a, add over %b")
    XCTAssertEqual(plan.storage[m.main.results[0]], .output(0))
    XCTAssertEqual(plan.workspaceSize, 128, "one 4x8xf32 slot serves a, b and c")
    XCTAssertEqual(plan.intermediateBytes, 3 * 128)
  }

  func testInPlaceMustNotFire() throws {
    // %a is used later; %x is an argument; %s is broadcast into the result; %v is viewed
    // by a reshape; %k is a constant.
    let m = try parse("""
      func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %r: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<32xf32>) {
        %a = matmul %x, %w : tensor<4x8xf32>
        %b = relu %a : tensor<4x8xf32>
        %c = add %b, %a : tensor<4x8xf32>
        %e = neg %x : tensor<4x8xf32>
        %s = neg %r : tensor<8xf32>
        %t = add %s, %c : tensor<4x8xf32>
        %v = sigmoid %t : tensor<4x8xf32>
        %u = reshape %v {shape = [32]} : tensor<32xf32>
        %z = mul %v, %e : tensor<4x8xf32>
        return %z, %u
      }
      """)
    let f = m.main
    let plan = Interpreter.memoryPlan(for: f)
    let index = { (name: String) in f.ops.firstIndex { f.name(of: $0.result) == name }! }
    XCTAssertNil(plan.inPlace[index("b")], "%a is read again by %c")
    XCTAssertNil(plan.inPlace[index("e")], "%x is an argument")
    XCTAssertEqual(plan.inPlace[index("t")], 1, "over %c, never over the broadcast %s")
    XCTAssertNil(plan.inPlace[index("z")], "%v is shared with the view %u (and %z is a result)")
    XCTAssertEqual(plan.inPlace[index("c")], 0, "%b dies at %c")
    let inputs = randomInputs(for: f, seed: 3)
    XCTAssertEqual(try Interpreter.run(m, inputs: inputs), try evaluateOpByOp(m, inputs))
  }

  func testEpilogueRunsInPlaceInItsSlot() throws {
    // conv + residual add + relu fused: the epilogue steps run over the conv's slot.
    let m = try parse("""
      func @main(%x: tensor<1x2x5x5xf32>, %w: tensor<2x2x3x3xf32>, %b: tensor<2xf32>) -> (tensor<1x2x5x5xf32>) {
        %c = conv %x, %w, %b {dilations = [1, 1], pads = [1, 1, 1, 1], strides = [1, 1]} : tensor<1x2x5x5xf32>
        %s = add %c, %x : tensor<1x2x5x5xf32>
        %y = relu %s : tensor<1x2x5x5xf32>
        %z = conv %y, %w, %b {dilations = [1, 1], pads = [1, 1, 1, 1], strides = [1, 1]} : tensor<1x2x5x5xf32>
        return %z
      }
      """)
    let fused = try optimized(m, "fuse-epilogue,dce")
    XCTAssertTrue(fused.main.ops.contains { $0.attributes.values["epilogue"] != nil })
    for module in [m, fused] {
      let inputs = randomInputs(for: module.main, seed: 11)
      XCTAssertEqual(try Interpreter.run(module, inputs: inputs), try evaluateOpByOp(module, inputs))
    }
  }

  // MARK: Arena run equals the op-by-op path

  func testArenaRunMatchesOpByOpOnIRFilesAndModels() throws {
    var checked = 0
    for m in try realModules() {
      for pipeline in ["dce", Pipelines.O2.joined(separator: ",")] {
        let o = try optimized(m, pipeline)
        let inputs = randomInputs(for: o.main, seed: 5)
        guard let expected = try? evaluateOpByOp(o, inputs) else { continue }
        XCTAssertEqual(try Interpreter.run(o, inputs: inputs), expected, "\(o.name) after \(pipeline.prefix(20))")
        checked += 1
      }
    }
    XCTAssertGreaterThan(checked, 10)
  }

  func testPlanMemoryReportsUnderStats() throws {
    let m = try parse("""
      func @main(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>) {
        %a = exp %x : tensor<4x8xf32>
        %b = relu %a : tensor<4x8xf32>
        %c = neg %b : tensor<4x8xf32>
        return %c
      }
      """)
    var module = m
    let stats = try PassManager(passes: parsePipeline("plan-memory")).run(&module)
    XCTAssertEqual(printModule(module), printModule(m), "an analysis: IR unchanged")
    XCTAssertEqual(stats[0].notes, ["@main: arena 128 B for 256 B of intermediates (50.0% saved), 1 ops in place"])
    XCTAssertTrue(formatStatistics(stats).contains("plan-memory: @main: arena 128 B"))
  }
}

// MARK: - Helpers

/// The pre-arena interpreter: every op evaluated on owned tensors, one at a time.
func evaluateOpByOp(_ m: Module, _ inputs: [Tensor]) throws -> [Tensor] {
  let f = m.main
  var values = [Tensor?](repeating: nil, count: f.values.count)
  for (a, t) in zip(f.arguments, inputs) { values[a.index] = t }
  for op in f.ops {
    let outs = try Interpreter.evaluate(op, op.operands.map { values[$0.index]! }, in: f, constants: m.constants)
    for (r, t) in zip(op.results, outs) { values[r.index] = t }
  }
  return f.results.map { values[$0.index]! }
}

private func parse(_ function: String) throws -> Module {
  try parseModule("module @t {\n" + function + "\n}\n")
}

/// Every module of Tests/IRFiles that parses and verifies.
private func realModules() throws -> [Module] {
  let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../IRFiles").standardized
  var modules: [Module] = []
  for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".sir") {
    let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    for case_ in text.components(separatedBy: "// -----") {
      guard let m = try? parseModule(case_), (try? verify(m)) != nil else { continue }
      modules.append(m)
    }
  }
  return modules
}

/// A random DAG of f32 elementwise ops, matmuls and reshapes over a few shapes.
private func randomModule(_ g: inout SeededGenerator, ops: Int) -> Module {
  let n = 6
  var lines = ["func @main(%x: tensor<\(n)x\(n)xf32>, %y: tensor<\(n)x\(n)xf32>, %r: tensor<\(n)xf32>) -> (RESULTS) {"]
  var square = ["%x", "%y"]
  var flat = ["%r"]
  let unary = ["relu", "neg", "exp", "sigmoid", "tanh", "abs"]
  let binary = ["add", "sub", "mul"]
  for i in 0..<ops {
    let v = "%v\(i)"
    let pick = { (list: [String], g: inout SeededGenerator) in list[Int(g.next() % UInt64(list.count))] }
    switch g.next() % 6 {
    case 0, 1:
      lines.append("  \(v) = \(pick(unary, &g)) \(pick(square, &g)) : tensor<\(n)x\(n)xf32>")
    case 2, 3:
      let b = g.next() % 3 == 0 ? pick(flat, &g) : pick(square, &g)
      lines.append("  \(v) = \(pick(binary, &g)) \(pick(square, &g)), \(b) : tensor<\(n)x\(n)xf32>")
    case 4:
      lines.append("  \(v) = matmul \(pick(square, &g)), \(pick(square, &g)) : tensor<\(n)x\(n)xf32>")
    default:
      lines.append("  \(v) = reshape \(pick(square, &g)) {shape = [\(n * n)]} : tensor<\(n * n)xf32>")
      lines.append("  \(v)s = reshape \(v) {shape = [\(n), \(n)]} : tensor<\(n)x\(n)xf32>")
      square.append("\(v)s")
      continue
    }
    square.append(v)
  }
  let results = Array(square.suffix(2))
  lines.append("  return \(results.joined(separator: ", "))")
  lines.append("}")
  let text = lines.joined(separator: "\n").replacingOccurrences(
    of: "RESULTS", with: results.map { _ in "tensor<\(n)x\(n)xf32>" }.joined(separator: ", "))
  _ = flat
  return try! parseModule("module @random {\n" + text + "\n}\n")
}
