//===--- RemoveIdentity.swift - drop ops that do not change their operand ----===//
//
//   %a = identity %x : tensor<2x3xf32>
//   %b = reshape %a {shape = [2, 3]}                %t = transpose %x {perm = [1, 0]}
//   %c = transpose %b {perm = [1, 0]}          =>   return %t
//   %d = transpose %c {perm = [1, 0]}
//   %e = transpose %d {perm = [1, 0]}
//   return %e
//
// Removed: `identity`; reshape, expand, cast, slice, pad, tile and concat that leave the
// operand as it is; transpose by the identity permutation. Folded: a transpose of a
// transpose (into one transpose, or none when they cancel) and a reshape of a reshape
// (into one reshape). The inner op is erased once nothing else uses it.

import SparrowIR

public struct RemoveIdentity: Pass {
  public static let name = "remove-identity"
  public static let summary = "Remove identity and no-op reshape/transpose/expand/slice/cast; fold transpose and reshape chains."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// A transpose that undoes the transpose it reads: its input (the one transpose-pair
  /// cancellation; choose-conv-layout runs it too).
  static let cancelTransposes = RewritePattern("cancel-transposes", roots: [.transpose]) { op, r in
    guard let inner = r.definingOp(of: op.operands[0]), inner.kind == .transpose else { return nil }
    let composed = composedPerm(inner.attributes.ints("perm"), then: op.attributes.ints("perm"))
    return composed == Array(composed.indices) ? [inner.operands[0]] : nil
  }

  /// The perm of transposing by `first`, then by `second`: out[i] = mid[second[i]] = x[first[second[i]]].
  static func composedPerm(_ first: [Int], then second: [Int]) -> [Int] { second.map { first[$0] } }

  static let patterns: [RewritePattern] = [
    RewritePattern("identity", roots: [.identity]) { op, _ in [op.operands[0]] },

    RewritePattern("same-type-movement", roots: [.reshape, .expand, .cast, .tile, .pad, .concat]) { op, r in
      guard op.operands.count == 1, let x = op.operands.first,
            r.type(of: x).dense == r.type(of: op.result) else { return nil }
      if op.kind == .pad {  // reflect/edge padding by zero is still a no-op; check the pads
        guard op.attributes.ints("pads").allSatisfy({ $0 == 0 }) else { return nil }
      }
      return [x]
    },

    RewritePattern("full-slice", roots: [.slice]) { op, r in
      let x = op.operands[0]
      let shape = r.type(of: x).shape
      guard r.type(of: x).dense == r.type(of: op.result) else { return nil }
      // A reversing step on an axis longer than 1 permutes the data.
      let a = op.attributes
      for (axis, step) in zip(a.ints("axes"), a.ints("steps")) where step < 0 {
        guard shape[axis] <= 1 else { return nil }
      }
      return [x]
    },

    RewritePattern("identity-transpose", roots: [.transpose]) { op, r in
      let perm = op.attributes.ints("perm")
      guard perm == Array(perm.indices) else { return nil }
      return [op.operands[0]]
    },

    cancelTransposes,

    RewritePattern("transpose-of-transpose", roots: [.transpose]) { op, r in
      guard let inner = r.definingOp(of: op.operands[0]), inner.kind == .transpose else { return nil }
      let composed = composedPerm(inner.attributes.ints("perm"), then: op.attributes.ints("perm"))
      return try r.insert(.transpose, [inner.operands[0]], ["perm": .ints(composed)], name: r.name(of: op.result))
    },

    RewritePattern("reshape-of-reshape", roots: [.reshape]) { op, r in
      guard let inner = r.definingOp(of: op.operands[0]), inner.kind == .reshape else { return nil }
      let x = inner.operands[0]
      if r.type(of: x).dense == r.type(of: op.result) { return [x] }
      return try r.insert(.reshape, [x], ["shape": .ints(r.type(of: op.result).shape)],
                          name: r.name(of: op.result))
    },
  ]
}
