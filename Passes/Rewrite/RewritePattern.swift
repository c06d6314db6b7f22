//===--- RewritePattern.swift - one-root patterns and the greedy driver ------===//
//
// A pattern looks at one root op and either declines (returns nil) or returns the values
// that replace the root's results, creating any new ops through the rewriter. Returning
// the root's own results after `rewriter.modifyOp(rewriter.root)` means "changed in place".
// The greedy driver sweeps the function, applying the first pattern that fires on each op,
// until a sweep changes nothing.

import SparrowIR

public struct RewritePattern: Sendable {
  public typealias Rewrite = @Sendable (Operation, Rewriter) throws -> [ValueID]?

  /// For diagnostics and debugging.
  public let name: String
  /// The op kinds the pattern can match (nil: any op).
  public let roots: Set<OpKind>?
  public let rewrite: Rewrite

  public init(_ name: String, roots: Set<OpKind>? = nil, _ rewrite: @escaping Rewrite) {
    self.name = name
    self.roots = roots
    self.rewrite = rewrite
  }
}

/// Applies `patterns` to `function` until none fires (at most `maxSweeps` sweeps).
/// Returns whether anything changed.
@discardableResult
public func applyPatternsGreedily(_ patterns: [RewritePattern], to function: inout Function,
                                  context: PassContext, maxSweeps: Int = 16) throws -> Bool {
  var changedAtAll = false
  for _ in 0..<maxSweeps {
    let rewriter = Rewriter(function, context: context)
    var changed = false
    var slot = 0
    while slot < rewriter.slotCount {  // new ops are visited too
      defer { slot += 1 }
      guard rewriter.isLive(slot) else { continue }
      let op = rewriter.op(at: slot)
      for pattern in patterns where pattern.roots?.contains(op.kind) ?? true {
        rewriter.root = slot
        let firstNew = rewriter.slotCount
        guard let values = try pattern.rewrite(op, rewriter) else {
          rewriter.eraseUnusedOps(from: firstNew)
          continue
        }
        precondition(values.count == op.results.count,
                     "pattern \(pattern.name) returned \(values.count) values for \(op.results.count) results")
        if values == op.results {
          changed = true  // modified in place
        } else if zip(op.results, values).allSatisfy({ rewriter.canReplace($0, with: $1) || $0 == $1 }) {
          rewriter.replaceOp(slot, with: values)
          changed = true
        } else {
          rewriter.eraseUnusedOps(from: firstNew)
          continue  // would rename a model output onto an argument or another output
        }
        break
      }
    }
    function = rewriter.finish()
    guard changed else { break }
    changedAtAll = true
  }
  return changedAtAll
}
