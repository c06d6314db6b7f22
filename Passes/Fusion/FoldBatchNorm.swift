//===--- FoldBatchNorm.swift - fold BatchNorm and per-channel affine maps --===//
//
//   %c = conv %x, %w, %b {...}                   %c = conv %x, %w', %b' {...}
//   %y = batch_norm %c, %s, %t, %m, %v     =>    (uses of %y now use %c)
//
// w' = w * s / sqrt(v + eps) per output channel, b' = (b - m) * s / sqrt(v + eps) + t.
// The producer may also be a conv_transpose (DBNet's upsampling). Also `mul`, `add`,
// `sub` and `div` of %c by a per-channel constant ([C,1,1] or [1,C,1,1] after a conv,
// [N] or [1,N] after a gemm, or a scalar). Fires only when %c has no other user, the
// weights and bias are constants and the producer has no epilogue; the folded weights
// and bias are new pool constants (the old ones may be shared).

import SparrowIR

public struct FoldBatchNorm: Pass {
  public static let name = "fold-batch-norm"
  public static let summary = "Fold inference BatchNorm and per-channel mul/add/sub/div into the producing conv/gemm."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// The producer of `v` when it can absorb an affine map.
  private static func foldableProducer(_ v: ValueID, _ r: Rewriter) -> Int? {
    guard let slot = r.soleUseAffineProducer(of: v), canFoldAffine(into: slot, r) else { return nil }
    return slot
  }

  /// Folds `op` (x <op> c, or c <op> x for commutative ops) into x's producer.
  private static func foldBinary(_ op: Operation, _ r: Rewriter,
                                 affine: ([Float]) -> (scale: [Float], shift: [Float])) -> [ValueID]? {
    let candidates = op.kind.has(.commutative) ? [(0, 1), (1, 0)] : [(0, 1)]
    for (xi, ci) in candidates {
      let x = op.operands[xi]
      guard let slot = foldableProducer(x, r), let c = r.constantTensor(of: op.operands[ci]),
            r.type(of: op.result).dense == r.type(of: x).dense,
            let values = perChannelValues(c, output: r.type(of: x).shape, axis: 1) else { continue }
      let (scale, shift) = affine(values)
      foldAffine(into: slot, scale: scale, shift: shift, r)
      return [x]
    }
    return nil
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("batch-norm-into-producer", roots: [.batch_norm]) { op, r in
      let x = op.operands[0]
      guard let slot = foldableProducer(x, r),
            let s = r.constantFloats(of: op.operands[1]), let t = r.constantFloats(of: op.operands[2]),
            let mean = r.constantFloats(of: op.operands[3]), let variance = r.constantFloats(of: op.operands[4])
      else { return nil }
      let eps = op.attributes.float("epsilon")
      let scale = s.indices.map { s[$0] / (variance[$0] + eps).squareRoot() }
      let shift = s.indices.map { t[$0] - mean[$0] * scale[$0] }
      foldAffine(into: slot, scale: scale, shift: shift, r)
      return [x]
    },
    RewritePattern("mul-into-producer", roots: [.mul]) { op, r in
      foldBinary(op, r) { c in (c, [Float](repeating: 0, count: c.count)) }
    },
    RewritePattern("add-into-producer", roots: [.add]) { op, r in
      foldBinary(op, r) { c in ([Float](repeating: 1, count: c.count), c) }
    },
    RewritePattern("sub-into-producer", roots: [.sub]) { op, r in
      foldBinary(op, r) { c in ([Float](repeating: 1, count: c.count), c.map { -$0 }) }
    },
    RewritePattern("div-into-producer", roots: [.div]) { op, r in
      foldBinary(op, r) { c in (c.map { 1 / $0 }, [Float](repeating: 0, count: c.count)) }
    },
  ]
}
