//===--- SimplifyAlgebra.swift - arithmetic identities -----------------------===//
//
//   %one = constant @one : tensor<f32>
//   %a = mul %x, %one : tensor<4xf32>             %b = relu %x : tensor<4xf32>
//   %n = neg %a : tensor<4xf32>              =>   return %b
//   %m = neg %n : tensor<4xf32>
//   %b = relu %m : tensor<4xf32>
//
// x*1, 1*x, x+0, 0+x, x-0, x/1 (1 and 0 as constants with every element equal) and
// neg(neg(x)). Fires only when the result has x's type: a constant that broadcasts x to a
// larger shape must stay.

import SparrowIR

public struct SimplifyAlgebra: Pass {
  public static let name = "simplify-algebra"
  public static let summary = "Simplify x*1, x+0, x-0, x/1 and neg(neg(x))."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// `x` when `op`'s result has x's type and `other` is a constant splat of `value`.
  private static func neutral(_ op: Operation, keep x: ValueID, other: ValueID, value: Double,
                              _ r: Rewriter) -> ValueID? {
    guard r.type(of: x).dense == r.type(of: op.result), r.type(of: other).layout == nil,
          let c = r.constantTensor(of: other), isSplat(c, of: value) else { return nil }
    return x
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("multiply-by-one", roots: [.mul]) { op, r in
      let (a, b) = (op.operands[0], op.operands[1])
      guard let x = neutral(op, keep: a, other: b, value: 1, r) ?? neutral(op, keep: b, other: a, value: 1, r)
      else { return nil }
      return [x]
    },
    RewritePattern("add-zero", roots: [.add]) { op, r in
      let (a, b) = (op.operands[0], op.operands[1])
      guard let x = neutral(op, keep: a, other: b, value: 0, r) ?? neutral(op, keep: b, other: a, value: 0, r)
      else { return nil }
      return [x]
    },
    RewritePattern("subtract-zero", roots: [.sub]) { op, r in
      neutral(op, keep: op.operands[0], other: op.operands[1], value: 0, r).map { [$0] }
    },
    RewritePattern("divide-by-one", roots: [.div]) { op, r in
      neutral(op, keep: op.operands[0], other: op.operands[1], value: 1, r).map { [$0] }
    },
    RewritePattern("double-negation", roots: [.neg]) { op, r in
      guard let inner = r.definingOp(of: op.operands[0]), inner.kind == .neg else { return nil }
      return [inner.operands[0]]
    },
  ]
}

/// Whether every element of `t` equals `value` (an empty tensor is not a splat).
func isSplat(_ t: Tensor, of value: Double) -> Bool {
  t.count > 0 && (0..<t.count).allSatisfy { t.double(at: $0) == value }
}
