//===--- FuseEpilogue.swift - activations and residual adds into gemm/conv ---===//
//
//   %c = conv %x, %w {...}                       %z = const @zero : tensor<64xf32>
//   %s = add %c, %r : tensor<1x64x8x8xf32>  =>   %c = conv %x, %w, %z, %r
//   %y = relu %s : tensor<1x64x8x8xf32>               {epilogue = ["add", "relu"], ...}
//                                                (uses of %y now use %c)
//
// Activations (relu, clip, leaky_relu, sigmoid, tanh, hard_swish, gelu, x * sigmoid(x)
// as silu, 0.5 * x * (1 + erf(x / sqrt(2))) as gelu and its tanh form as gelu:tanh,
// whatever the order of the factors) and residual adds (the other operand has exactly
// the result's type) become steps of the producing gemm or conv's epilogue (grammar in
// IR/Ops/Epilogue.swift). The producer's result may be
// seen through one reshape (a view; unary steps commute with it, a residual is reshaped
// to the producer's shape). Never fires when the intermediate has another user or is a
// function result.

import SparrowIR

public struct FuseEpilogue: Pass {
  public static let name = "fuse-epilogue"
  public static let summary = "Fuse activations and residual adds into the producing gemm/conv as an epilogue."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// Appends `step` to the epilogue of the op in `slot`.
  static func append(_ step: EpilogueStep, to slot: Int, extraOperands: [ValueID] = [], _ r: Rewriter) {
    r.modifyOp(slot) { op in
      op.attributes.epilogue.append(step)
      op.operands += extraOperands
    }
  }

  /// Whether `x`'s users are exactly the ops in `slots` (and it is no function result).
  static func isUsedOnly(_ x: ValueID, by slots: Set<Int>, _ r: Rewriter) -> Bool {
    !r.isFunctionResult(x) && Set(r.users(of: x)) == slots
  }

  static func isConstant(_ v: ValueID, near value: Float, _ r: Rewriter) -> Bool {
    guard let c = r.constantFloats(of: v), !c.isEmpty else { return false }
    return c.allSatisfy { abs($0 - value) <= 1e-5 * max(1, abs(value)) }
  }

  /// The factors of a product: `v` itself, or the factors of a single-use `mul`.
  static func factors(of v: ValueID, _ r: Rewriter) -> [ValueID] {
    guard r.hasOneUse(v), let def = r.definingOp(of: v), def.kind == .mul else { return [v] }
    return factors(of: def.operands[0], r) + factors(of: def.operands[1], r)
  }

  /// The op defining `v` when it is of `kind` and `v` has no other use.
  static func soleUse(_ v: ValueID, _ kind: OpKind, _ r: Rewriter) -> Operation? {
    guard r.hasOneUse(v), let def = r.definingOp(of: v), def.kind == kind else { return nil }
    return def
  }

  /// The slots of the ops computing `v` from `x` and constants (the matched expression).
  static func expressionSlots(_ v: ValueID, from x: ValueID, _ r: Rewriter) -> Set<Int> {
    guard v != x, let slot = r.definingSlot(of: v), r.op(at: slot).kind != .constant else { return [] }
    return r.op(at: slot).operands.reduce(into: [slot]) { $0.formUnion(expressionSlots($1, from: x, r)) }
  }

  /// Whether `x` (not a function result) is read only inside the expression rooted at `root`.
  static func isUsedOnlyInside(_ root: ValueID, _ x: ValueID, _ r: Rewriter) -> Bool {
    !r.isFunctionResult(x) && Set(r.users(of: x)).isSubset(of: expressionSlots(root, from: x, r))
  }

  /// `x` when `v` is x^3: pow(x, 3) or a product of three x.
  static func cubed(_ v: ValueID, _ r: Rewriter) -> ValueID? {
    if let p = soleUse(v, .pow, r), isConstant(p.operands[1], near: 3, r) { return p.operands[0] }
    let f = factors(of: v, r)
    return f.count == 3 && f.allSatisfy({ $0 == f[0] }) ? f[0] : nil
  }

  /// `t` when `a` is a single-use `1 + t` or `t + 1`.
  static func onePlus(_ a: ValueID, _ r: Rewriter) -> ValueID? {
    guard let add = soleUse(a, .add, r) else { return nil }
    if isConstant(add.operands[0], near: 1, r) { return add.operands[1] }
    if isConstant(add.operands[1], near: 1, r) { return add.operands[0] }
    return nil
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("activation-into-producer",
                   roots: [.relu, .clip, .leaky_relu, .sigmoid, .tanh, .hard_swish, .gelu]) { op, r in
      let x = op.operands[0]
      guard r.hasOneUse(x), let slot = r.producer(viewing: x),
            let step = EpilogueStep(unary: op.kind, op.attributes),
            r.type(of: op.result).dense == r.type(of: x).dense else { return nil }
      append(step, to: slot, r)
      return [x]
    },

    RewritePattern("residual-add-into-producer", roots: [.add]) { op, r in
      for (xi, ri) in [(0, 1), (1, 0)] {
        let x = op.operands[xi], residual = op.operands[ri]
        guard x != residual, r.hasOneUse(x), let slot = r.producer(viewing: x),
              r.type(of: residual).dense == r.type(of: x).dense,
              r.type(of: op.result).dense == r.type(of: x).dense else { continue }
        let p = r.op(at: slot)
        guard p.operands.count >= 2 else { continue }
        let outType = r.type(of: p.result)
        var extra: [ValueID] = []
        if p.operands.count == 2 {  // materialize a zero bias so the residual's position is fixed
          // Output channels: axis 1, or the last axis of a channels-last conv.
          let nhwc = p.kind == .conv && p.attributes.convLayout == .nhwc
          let channels = nhwc ? outType.shape[outType.rank - 1] : outType.shape[1]
          extra.append(r.insertFloats([Float](repeating: 0, count: channels), shape: [channels],
                                      name: r.name(of: p.result) + ".bias", before: slot))
        }
        var residualValue = residual
        if r.type(of: residual).shape != outType.shape {  // seen through a reshape
          residualValue = try r.insert(.reshape, [residual], ["shape": .ints(outType.shape)],
                                       name: r.name(of: residual) + ".view", before: slot)[0]
        }
        append(.add, to: slot, extraOperands: extra + [residualValue], r)
        return [x]
      }
      return nil
    },

    // x * sigmoid(x)
    RewritePattern("silu-into-producer", roots: [.mul]) { op, r in
      for (xi, si) in [(0, 1), (1, 0)] {
        let x = op.operands[xi], s = op.operands[si]
        guard let sSlot = r.definingSlot(of: s), r.op(at: sSlot).kind == .sigmoid,
              r.op(at: sSlot).operands[0] == x, r.hasOneUse(s),
              isUsedOnly(x, by: [sSlot, r.root], r), let slot = r.producer(viewing: x) else { continue }
        append(.silu, to: slot, r)
        return [x]
      }
      return nil
    },

    // 0.5 * x * (1 + erf(x / sqrt(2))), the factors in any order and association.
    RewritePattern("gelu-erf-into-producer", roots: [.mul]) { op, r in
      let all = factors(of: op.operands[0], r) + factors(of: op.operands[1], r)
      guard all.count == 3, let half = all.firstIndex(where: { isConstant($0, near: 0.5, r) }) else { return nil }
      let rest = all.enumerated().filter { $0.offset != half }.map(\.element)
      for (x, a) in [(rest[0], rest[1]), (rest[1], rest[0])] {
        // a = 1 + erf(e), e = x / sqrt(2) or x * (1 / sqrt(2))
        guard r.hasOneUse(a), let add = r.definingOp(of: a), add.kind == .add else { continue }
        guard let erfValue = add.operands.first(where: { !isConstant($0, near: 1, r) }),
              add.operands.contains(where: { isConstant($0, near: 1, r) }),
              r.hasOneUse(erfValue), let erf = r.definingOp(of: erfValue), erf.kind == .erf,
              r.hasOneUse(erf.operands[0]), let eSlot = r.definingSlot(of: erf.operands[0]) else { continue }
        let e = r.op(at: eSlot)
        let scaled = (e.kind == .div && e.operands[0] == x && isConstant(e.operands[1], near: 1.41421356, r))
          || (e.kind == .mul && e.operands.contains(x)
              && e.operands.contains { $0 != x && isConstant($0, near: 0.70710678, r) })
        // x's users: e and the mul holding x as a factor (the root or an inner one).
        guard scaled, !r.isFunctionResult(x), r.users(of: x).count == 2,
              r.type(of: op.result).dense == r.type(of: x).dense,
              let slot = r.producer(viewing: x) else { continue }
        append(.gelu(approximate: "none"), to: slot, r)
        return [x]
      }
      return nil
    },

    // 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), x^3 as pow(x, 3) or x*x*x.
    RewritePattern("gelu-tanh-into-producer", roots: [.mul]) { op, r in
      let all = factors(of: op.operands[0], r) + factors(of: op.operands[1], r)
      guard all.count == 3, let half = all.firstIndex(where: { isConstant($0, near: 0.5, r) }) else { return nil }
      let rest = all.enumerated().filter { $0.offset != half }.map(\.element)
      for (x, a) in [(rest[0], rest[1]), (rest[1], rest[0])] {
        guard let t = onePlus(a, r), let tanh = soleUse(t, .tanh, r),
              let scaled = soleUse(tanh.operands[0], .mul, r),
              scaled.operands.contains(where: { isConstant($0, near: 0.7978845608, r) }),
              let sum = scaled.operands.first(where: { !isConstant($0, near: 0.7978845608, r) }),
              let add = soleUse(sum, .add, r), add.operands.contains(x),
              let cubic = add.operands.first(where: { $0 != x }) else { continue }
        let terms = factors(of: cubic, r)
        guard let k = terms.firstIndex(where: { isConstant($0, near: 0.044715, r) }) else { continue }
        let others = terms.enumerated().filter { $0.offset != k }.map(\.element)
        let isCube = others.count == 3 ? others.allSatisfy { $0 == x } : others.count == 1 && cubed(others[0], r) == x
        guard isCube, r.type(of: op.result).dense == r.type(of: x).dense,
              isUsedOnlyInside(op.result, x, r), let slot = r.producer(viewing: x) else { continue }
        append(.gelu(approximate: "tanh"), to: slot, r)
        return [x]
      }
      return nil
    },
  ]
}
