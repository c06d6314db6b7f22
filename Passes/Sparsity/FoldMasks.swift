//===--- FoldMasks.swift - constant 0/1 masks on constant weights -> one constant ---===//
//
//   %w = constant @w : tensor<4x8xf32>           %w2 = constant @w_masked : tensor<4x8xf32>
//   %m = constant @m : tensor<4x8xf32>     =>    (uses of %p now use %w2)
//   %p = mul %w, %m : tensor<4x8xf32>
//
// Also `mul %m, %w` and `where %m, %w, %zero` (a bool mask, zero a scalar or same-shape
// constant 0). The mask must have exactly the weight's shape and hold only 0 and 1 (or
// bool); the weight must be f32. The masked weight is a new pool entry (the old weight
// may be shared); dce drops the unused ones. Pruning tools (torch.nn.utils.prune exported
// as-is) produce exactly these graphs.

import SparrowIR

public struct FoldMasks: Pass {
  public static let name = "fold-masks"
  public static let summary = "Fold constant 0/1 masks (mul, where) on constant weights into one plain constant."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// The 0/1 keep-mask of `t` when every element is 0 or 1 (or a bool); nil otherwise.
  static func keepMask(_ t: Tensor) -> [Bool]? {
    if t.element == .bool { return t.array(of: Bool.self) }
    guard t.element.isFloat || t.element.isInteger else { return nil }
    var keep = [Bool](repeating: false, count: t.count)
    for i in 0..<t.count {
      let v = t.double(at: i)
      guard v == 0 || v == 1 else { return nil }
      keep[i] = v == 1
    }
    return keep
  }

  /// Whether every element of `t` is exactly zero.
  private static func isAllZero(_ t: Tensor) -> Bool {
    (0..<t.count).allSatisfy { t.double(at: $0) == 0 }
  }

  /// Replaces `op` (in `slot`) by a constant holding `weight` with the masked elements zeroed.
  private static func fold(_ weight: Tensor, keep: [Bool], op: Operation, _ r: Rewriter) -> [ValueID]? {
    guard weight.element == .f32, keep.count == weight.count,
          r.type(of: op.results[0]).dense == weight.type.dense else { return nil }
    var masked = weight
    masked.withUnsafeMutableBuffer(of: Float.self) { values in
      for i in values.indices where !keep[i] { values[i] = 0 }
    }
    let name = r.name(of: op.results[0]) + "_masked"
    return [r.insertConstant(masked, name: name, layout: r.type(of: op.results[0]).layout)]
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("mul-by-mask", roots: [.mul]) { op, r in
      for (wi, mi) in [(0, 1), (1, 0)] {
        guard let w = r.constantTensor(of: op.operands[wi]), let m = r.constantTensor(of: op.operands[mi]),
              m.shape == w.shape, let keep = keepMask(m) else { continue }
        if let v = fold(w, keep: keep, op: op, r) { return v }
      }
      return nil
    },
    RewritePattern("where-mask", roots: [.where]) { op, r in
      guard let m = r.constantTensor(of: op.operands[0]), m.element == .bool,
            let w = r.constantTensor(of: op.operands[1]), m.shape == w.shape,
            let zero = r.constantTensor(of: op.operands[2]), zero.count == 1 || zero.shape == w.shape,
            isAllZero(zero) else { return nil }
      return fold(w, keep: m.array(of: Bool.self), op: op, r)
    },
  ]
}
