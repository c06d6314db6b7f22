//===--- Rewriter.swift - all IR mutation of a rewrite goes through here ----===//
//
// The rewriter holds a function's ops in slots (append-only while rewriting), keeps def
// and use maps up to date, and counts ops removed, added and rewritten. Ops inserted
// "before" an op are placed there when `finish()` restores a topological op list.
// Erasing an op also erases operands' defining ops that become unused.

import SparrowIR

public final class Rewriter {
  public private(set) var function: Function
  public let context: PassContext
  /// The op a pattern is looking at; inserts default to just before it.
  public var root = 0

  private var ops: [Operation]
  private var live: [Bool]
  /// Sort keys that restore order in `finish()`: (anchor position, sequence).
  private var keys: [(Int, Int)]
  private var sequence = 0
  private var defs: [ValueID: Int] = [:]
  private var uses: [ValueID: [Int]] = [:]
  private var resultUses: [ValueID: Int] = [:]
  private var argumentSet: Set<ValueID>

  public init(_ function: Function, context: PassContext) {
    self.function = function
    self.context = context
    ops = function.ops
    live = Array(repeating: true, count: ops.count)
    keys = ops.indices.map { ($0, Int.max) }
    argumentSet = Set(function.arguments)
    for (i, op) in ops.enumerated() { index(op, at: i) }
    for r in function.results { resultUses[r, default: 0] += 1 }
  }

  private func index(_ op: Operation, at slot: Int) {
    for r in op.results { defs[r] = slot }
    for v in op.operands { uses[v, default: []].append(slot) }
  }

  private func unindexUses(_ op: Operation, at slot: Int) {
    for v in op.operands { uses[v]?.removeAll { $0 == slot } }
  }

  // MARK: Queries

  /// Number of op slots (live or erased); new ops get the next slots.
  public var slotCount: Int { ops.count }
  public func isLive(_ slot: Int) -> Bool { live[slot] }
  public func op(at slot: Int) -> Operation { ops[slot] }
  public func type(of v: ValueID) -> TensorType { function.type(of: v) }
  public func name(of v: ValueID) -> String { function.name(of: v) }
  public func isArgument(_ v: ValueID) -> Bool { argumentSet.contains(v) }
  public func isFunctionResult(_ v: ValueID) -> Bool { (resultUses[v] ?? 0) > 0 }

  /// The slot of the live op defining `v` (nil for arguments).
  public func definingSlot(of v: ValueID) -> Int? {
    guard let s = defs[v], live[s] else { return nil }
    return s
  }

  /// The live op defining `v` (nil for arguments).
  public func definingOp(of v: ValueID) -> Operation? { definingSlot(of: v).map { ops[$0] } }

  /// Slots of the live ops using `v` (each once).
  public func users(of v: ValueID) -> [Int] {
    var seen: Set<Int> = []
    return (uses[v] ?? []).filter { live[$0] && seen.insert($0).inserted }
  }

  /// Whether `v` is used by nothing: no op and no function result.
  public func isUnused(_ v: ValueID) -> Bool { users(of: v).isEmpty && !isFunctionResult(v) }

  /// Whether `v` has exactly one use (one operand of one op, not a function result).
  public func hasOneUse(_ v: ValueID) -> Bool {
    !isFunctionResult(v) && users(of: v).map { ops[$0].operands.filter { $0 == v }.count }.reduce(0, +) == 1
  }

  /// The tensor of `v` when a `constant` op defines it.
  public func constantTensor(of v: ValueID) -> Tensor? {
    definingOp(of: v).flatMap { context.tensor(of: $0) }
  }

  // MARK: Mutation

  /// Whether uses of `old` may be redirected to `new`: a function result keeps its name,
  /// so an argument or another result cannot take its place.
  public func canReplace(_ old: ValueID, with new: ValueID) -> Bool {
    old != new && (!isFunctionResult(old) || !(isArgument(new) || isFunctionResult(new)))
  }

  /// Redirects every use of `old` (operands and function results) to `new`. When `old`
  /// is a function result, `new` takes over its name (outputs keep their model names).
  public func replaceAllUses(of old: ValueID, with new: ValueID) {
    precondition(canReplace(old, with: new), "cannot replace %\(name(of: old)) with %\(name(of: new))")
    precondition(type(of: old).dense == type(of: new).dense,
                 "replacing \(type(of: old)) with \(type(of: new))")
    for slot in users(of: old) {
      ops[slot].operands = ops[slot].operands.map { $0 == old ? new : $0 }
      uses[new, default: []].append(slot)
    }
    uses[old] = []
    if isFunctionResult(old) {
      function.results = function.results.map { $0 == old ? new : $0 }
      resultUses[new, default: 0] += resultUses[old] ?? 0
      resultUses[old] = nil
      let oldName = function.values[old.index].name
      function.values[old.index].name = function.values[new.index].name
      function.values[new.index].name = oldName
    }
  }

  /// Erases the op in `slot`, whose results must be unused, then any operand's defining
  /// op left without uses.
  public func erase(_ slot: Int) {
    precondition(live[slot], "erasing an erased op")
    let op = ops[slot]
    precondition(op.results.allSatisfy(isUnused), "erasing \(op.kind) whose results are used")
    live[slot] = false
    unindexUses(op, at: slot)
    context.changes.removed += 1
    for v in Set(op.operands) {
      if let d = definingSlot(of: v), ops[d].results.allSatisfy(isUnused) { erase(d) }
    }
  }

  /// Erases the unused ops in slots `first...` (newest first): what a pattern created
  /// before it declined.
  public func eraseUnusedOps(from first: Int) {
    for slot in stride(from: ops.count - 1, through: first, by: -1)
    where live[slot] && ops[slot].results.allSatisfy(isUnused) {
      erase(slot)
    }
  }

  /// Replaces the results of the op in `slot` with `values` and erases it. The ops defining
  /// `values` now compute what it did: its origin joins theirs.
  public func replaceOp(_ slot: Int, with values: [ValueID]) {
    let op = ops[slot]
    precondition(values.count == op.results.count, "\(op.kind) replaced by \(values.count) values")
    for (old, new) in zip(op.results, values) where old != new { replaceAllUses(of: old, with: new) }
    for d in Set(values.compactMap(definingSlot(of:))) where d != slot { ops[d].origin.merge(op.origin) }
    erase(slot)
  }

  /// The origin of a value computed at the root from its constant operands and `values`.
  public func derivedOrigin(from values: [ValueID] = []) -> Origin {
    let constants = ops[root].operands.filter { definingOp(of: $0)?.kind == .constant }
    return origin(of: values).merged(with: ops[root].origin).merged(with: origin(of: constants))
  }

  /// The origins of the ops defining `values`, merged (arguments have none).
  public func origin(of values: [ValueID]) -> Origin {
    values.reduce(into: Origin()) { o, v in if let d = definingOp(of: v) { o.merge(d.origin) } }
  }

  /// Changes the op in `slot` in place (attributes, operands); results stay.
  public func modifyOp(_ slot: Int, _ change: (inout Operation) -> Void) {
    let before = ops[slot]
    unindexUses(before, at: slot)
    change(&ops[slot])
    precondition(ops[slot].results == before.results, "modifyOp must keep the results")
    for v in ops[slot].operands { uses[v, default: []].append(slot) }
    if ops[slot] != before { context.changes.rewritten += 1 }
  }

  /// Inserts an op before `slot` (default: the root), inferring its result types; it has
  /// the location and origin of the op in `slot`. Throws the shape rule's Diagnostic when
  /// the operands do not fit.
  @discardableResult
  public func insert(_ kind: OpKind, _ operands: [ValueID], _ attributes: [String: AttributeValue] = [:],
                     name: String, before slot: Int? = nil) throws -> [ValueID] {
    let attrs = Attributes(kind, attributes)
    let types = try inferResultTypes(kind, operands.map(type(of:)), attrs, constants: context.constants)
    let results = types.enumerated().map { i, t in
      function.addValue(name: types.count == 1 ? name : "\(name)_\(i)", type: t)
    }
    let anchor = slot ?? root
    append(Operation(kind, operands: operands, results: results, attributes: attrs,
                     location: ops[anchor].location, origin: ops[anchor].origin), before: anchor)
    return results
  }

  /// Gives `v` a type the shape rules cannot infer (a quantization and storage type a
  /// pass chose for a `qconv` result, a quantized `quantize_linear` result); the shape stays.
  public func retype(_ v: ValueID, as type: TensorType) {
    precondition(function.type(of: v).shape == type.shape, "retyping \(function.type(of: v)) as \(type)")
    function.values[v.index].type = type
  }

  /// Adds `tensor` to the pool and a `constant` op for it before `slot` (default: the root).
  /// Its origin: `origin`, else `derivedOrigin()` (the root's and its constant operands':
  /// the weights a folded value was computed from).
  public func insertConstant(_ tensor: Tensor, name: String, layout: SparseLayout? = nil,
                             before slot: Int? = nil, origin: Origin? = nil) -> ValueID {
    let origin = origin ?? derivedOrigin()
    let poolName = context.constants.add(tensor, name: name)
    var type = tensor.type
    type.layout = layout
    let v = function.addValue(name: name, type: type)
    append(Operation(.constant, operands: [], results: [v],
                     attributes: Attributes(.constant, ["name": .string(poolName)]), origin: origin),
           before: slot ?? root)
    return v
  }

  private func append(_ op: Operation, before anchor: Int) {
    let slot = ops.count
    ops.append(op)
    live.append(true)
    sequence += 1
    keys.append((keys[anchor].0, sequence))
    index(op, at: slot)
    context.changes.added += 1
  }

  /// The rewritten function: live ops in topological order. Inserted ops go just before
  /// their anchor; an op placed before one of its operands' definitions pulls that
  /// definition in front of it (a stable topological sort).
  public func finish() -> Function {
    let preferred = ops.indices.filter { live[$0] }.sorted { keys[$0] < keys[$1] }
    var emitted = [Bool](repeating: false, count: ops.count)
    var order: [Int] = []
    order.reserveCapacity(preferred.count)
    func emit(_ slot: Int) {
      guard !emitted[slot] else { return }
      emitted[slot] = true
      for v in ops[slot].operands { if let d = definingSlot(of: v) { emit(d) } }
      order.append(slot)
    }
    for slot in preferred { emit(slot) }
    var f = function
    f.ops = order.map { ops[$0] }
    return f
  }
}
