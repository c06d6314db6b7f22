//===--- MemoryPlan.swift - every intermediate at an offset in one workspace ---===//
//
// Values live from the op that defines them to their last use; views (reshape,
// identity) share their source's storage and extend its life. Intermediates and each
// op's scratch are placed first-fit, in op order, at 64-byte aligned offsets, reusing
// the space of values that died before the op runs. The plan is deterministic.

import SparrowIR

/// Where a value's bytes are at run time.
enum Storage: Equatable {
  case input(Int)
  case output(Int)
  case constant(String)
  case workspace(offset: Int)
  /// Shares the storage of another value (a view).
  case view(of: ValueID)
}

struct MemoryPlan {
  var storage: [ValueID: Storage] = [:]
  /// Workspace offset of each op's scratch (ops that need none are absent).
  var scratchOffset: [Int: Int] = [:]
  /// Results that must be copied into their output buffer at the end (their value lives
  /// elsewhere: an input, a constant, a view, or another output).
  var outputCopies: [(output: Int, value: ValueID)] = []
  var workspaceSize = 0

  /// Plans `f`; `isView(op)` says which ops alias their first operand, `scratch(i)`
  /// the scratch bytes op `i` needs.
  init(_ f: Function, isView: (Operation) -> Bool, scratch: (Int) -> Int) {
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
    // Storage roots and last uses.
    var root: [ValueID: ValueID] = [:]
    func rootOf(_ v: ValueID) -> ValueID { root[v].map(rootOf) ?? v }
    for op in f.ops where isView(op) { root[op.result] = op.operands[0] }
    var lastUse: [ValueID: Int] = [:]
    for (i, op) in f.ops.enumerated() {
      for v in op.operands { lastUse[rootOf(v)] = max(lastUse[rootOf(v)] ?? -1, i) }
    }
    for r in f.results { lastUse[rootOf(r)] = Int.max }

    var live: [(offset: Int, size: Int, end: Int)] = []
    func place(_ bytes: Int, at i: Int, until end: Int) -> Int {
      live.removeAll { $0.end < i }
      live.sort { $0.offset < $1.offset }
      let size = (max(bytes, 1) + 63) / 64 * 64
      var offset = 0
      for block in live {
        if block.offset - offset >= size { break }
        offset = max(offset, block.offset + block.size)
      }
      live.append((offset, size, end))
      workspaceSize = max(workspaceSize, offset + size)
      return offset
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
      for r in op.results {
        if let j = outputOf[r] {
          storage[r] = .output(j)
        } else {
          storage[r] = .workspace(offset: place(f.type(of: r).byteCount, at: i, until: lastUse[r] ?? i))
        }
      }
      let s = scratch(i)
      if s > 0 { scratchOffset[i] = place(s, at: i, until: i) }
    }
  }
}
