//===--- MemoryPlan.swift - every intermediate at an offset in one arena ---===//
//
//   %a = conv %x, %w          a: [0, 512)        live 0...1
//   %b = relu %a              b: [0, 512)        in place over a (a dies here)
//   %c = reshape %b           c: view of b       extends b's life to c's last use
//   %d = gemm %c, %v          d: [512, 768)      b is still being read
//
// Values live from the op that defines them to their last use; views (reshape,
// identity, as each target says) share their source's storage and extend its life.
// Intermediates and each op's scratch are placed first-fit, in op order, at 64-byte
// aligned offsets, reusing the space of values that died before the op runs. An op the
// target may run in place takes the slot of an operand that dies at that op, has the
// same byte count, and is a plain arena value (no argument, constant, function result or
// view shares it). Shared by the interpreter and the LLVM target. Deterministic.

import SparrowIR

/// Where a value's bytes are at run time.
public enum Storage: Equatable, Sendable {
  case input(Int)
  case output(Int)
  case constant(String)
  case workspace(offset: Int)
  /// Shares the storage of another value (a view).
  case view(of: ValueID)
}

/// The storage of every value of one function, and the arena ("workspace") size.
public struct MemoryPlan: Sendable {
  public var storage: [ValueID: Storage] = [:]
  /// Workspace offset of each op's scratch (ops that need none are absent).
  public var scratchOffset: [Int: Int] = [:]
  /// Results that must be copied into their output buffer at the end (their value lives
  /// elsewhere: an input, a constant, a view, or another output).
  public var outputCopies: [(output: Int, value: ValueID)] = []
  /// Bytes of the arena: the end of the highest placed block.
  public var workspaceSize = 0
  /// Ops (by index) whose result took the slot of an operand (by operand index).
  public var inPlace: [Int: Int] = [:]
  /// Bytes of every intermediate placed in the arena, each rounded up to 64: the arena a
  /// plan without any reuse would need.
  public var intermediateBytes = 0

  /// Plans `f`. `isView(op)` says which ops alias their first operand, `scratch(i)` the
  /// scratch bytes op `i` needs, and `mayRunInPlace(op, k)` whether the target's kernel
  /// for `op` may write its result over operand `k` (the plan checks everything else).
  public init(_ f: Function, isView: (Operation) -> Bool, scratch: (Int) -> Int = { _ in 0 },
              mayRunInPlace: (Operation, Int) -> Bool = { _, _ in false }) {
    for (i, a) in f.arguments.enumerated() { storage[a] = .input(i) }
    var claimed: Set<ValueID> = []
    var outputOf: [ValueID: Int] = [:]
    let defining = f.definingOps()
    for (j, r) in f.results.enumerated() {
      guard let d = defining[r], !isView(f.ops[d]), f.ops[d].kind != .constant,
            !claimed.contains(r) else {
        outputCopies.append((j, r))
        continue
      }
      claimed.insert(r)
      outputOf[r] = j
    }
    // Storage roots, last uses, and which roots have views.
    var root: [ValueID: ValueID] = [:]
    func rootOf(_ v: ValueID) -> ValueID { root[v].map(rootOf) ?? v }
    var viewed: Set<ValueID> = []
    for op in f.ops where isView(op) {
      root[op.result] = op.operands[0]
      viewed.insert(rootOf(op.operands[0]))
    }
    var lastUse: [ValueID: Int] = [:]
    for (i, op) in f.ops.enumerated() {
      for v in op.operands { lastUse[rootOf(v)] = max(lastUse[rootOf(v)] ?? -1, i) }
    }
    for r in f.results { lastUse[rootOf(r)] = Int.max }

    var live: [(offset: Int, size: Int, end: Int)] = []
    func aligned(_ bytes: Int) -> Int { (max(bytes, 1) + 63) / 64 * 64 }
    func place(_ bytes: Int, at i: Int, until end: Int) -> Int {
      live.removeAll { $0.end < i }
      live.sort { $0.offset < $1.offset }
      let size = aligned(bytes)
      var offset = 0
      for block in live {
        if block.offset - offset >= size { break }
        offset = max(offset, block.offset + block.size)
      }
      live.append((offset, size, end))
      workspaceSize = max(workspaceSize, offset + size)
      return offset
    }
    /// The operand whose slot op `i` may take over, and that slot's offset.
    func reusableOperand(_ op: Operation, at i: Int) -> (index: Int, offset: Int)? {
      guard op.results.count == 1, outputOf[op.result] == nil else { return nil }
      let bytes = f.type(of: op.result).byteCount
      for (k, v) in op.operands.enumerated() {
        guard root[v] == nil, !viewed.contains(v), lastUse[v] == i,
              case let .workspace(offset)? = storage[v],
              f.type(of: v).byteCount == bytes,
              op.operands.firstIndex(of: v) == k,
              mayRunInPlace(op, k) else { continue }
        return (k, offset)
      }
      return nil
    }
    for (i, op) in f.ops.enumerated() {
      if op.kind == .constant {
        storage[op.result] = .constant(op.constantName!)
        continue
      }
      if isView(op) {
        storage[op.result] = .view(of: op.operands[0])
        continue
      }
      if let (k, offset) = reusableOperand(op, at: i) {
        let r = op.result
        let end = lastUse[r] ?? i
        let block = live.firstIndex { $0.offset == offset && $0.end == i }!
        live[block].end = end
        storage[r] = .workspace(offset: offset)
        inPlace[i] = k
        intermediateBytes += aligned(f.type(of: r).byteCount)
      } else {
        for r in op.results {
          if let j = outputOf[r] {
            storage[r] = .output(j)
          } else {
            let bytes = f.type(of: r).byteCount
            storage[r] = .workspace(offset: place(bytes, at: i, until: lastUse[r] ?? i))
            intermediateBytes += aligned(bytes)
          }
        }
      }
      let s = scratch(i)
      if s > 0 { scratchOffset[i] = place(s, at: i, until: i) }
    }
  }

  /// Half-open byte ranges of every value placed in the arena, keyed by value.
  public func arenaRanges(_ f: Function) -> [ValueID: Range<Int>] {
    var ranges: [ValueID: Range<Int>] = [:]
    for (v, s) in storage {
      if case let .workspace(offset) = s { ranges[v] = offset..<offset + f.type(of: v).byteCount }
    }
    return ranges
  }
}
