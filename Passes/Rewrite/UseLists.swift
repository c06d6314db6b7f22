//===--- UseLists.swift - def/use helpers over a plain Function ------------===//
//
// For passes that walk a function directly instead of through a Rewriter.

import SparrowIR

extension Function {
  /// Ops (by index) using `v`.
  public func users(of v: ValueID) -> [Int] {
    ops.indices.filter { ops[$0].operands.contains(v) }
  }

  /// Whether `v` is an argument of the function.
  public func isArgument(_ v: ValueID) -> Bool { arguments.contains(v) }

  /// Redirects every use of `old` (operands and results) to `new`.
  public mutating func replaceAllUses(of old: ValueID, with new: ValueID) {
    for i in ops.indices where ops[i].operands.contains(old) {
      ops[i].operands = ops[i].operands.map { $0 == old ? new : $0 }
    }
    results = results.map { $0 == old ? new : $0 }
  }

  /// Removes the op at `index`; its results must be unused.
  public mutating func eraseOp(at index: Int) {
    precondition(ops[index].results.allSatisfy { r in
      !results.contains(r) && !ops.contains { $0.operands.contains(r) }
    }, "erasing an op whose results are used")
    ops.remove(at: index)
  }

  /// A copy whose value table holds only the arguments and op results, renumbered in
  /// definition order; names are kept.
  public func compactingValues() -> Function {
    var f = Function(name: name)
    var map: [ValueID: ValueID] = [:]
    func carry(_ v: ValueID) -> ValueID {
      if let m = map[v] { return m }
      let n = f.addValue(name: self.name(of: v), type: type(of: v))
      map[v] = n
      return n
    }
    f.arguments = arguments.map(carry)
    f.ops = ops.map { op in
      var op = op
      op.operands = op.operands.map { map[$0]! }
      op.results = op.results.map(carry)
      return op
    }
    f.results = results.map { map[$0]! }
    return f
  }
}
