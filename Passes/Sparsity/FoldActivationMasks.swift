//===--- FoldActivationMasks.swift - masked convs compute kept positions only ---===//
//
//   %c = conv %x, %w {...}                          %c = conv %x, %w {kept_positions = [..], ...}
//   %m = constant @mask : tensor<1x1x56x56xf32>  =>  (uses of %y now use %c)
//   %y = mul %c, %m
//
// Semi-structured activation sparsity (Grimaldi et al., 2023): a binary [H, W] mask,
// the same for every channel, multiplied into a conv's output. The conv then computes
// only the kept positions (targets gather only those im2col columns). Fires when:
// - the other operand of the `mul` (either side) is a constant of 0s and 1s whose
//   broadcast over the conv's output is one [H, W] pattern for every image and channel;
// - the `mul` does not change the conv's type, the conv is 2-D with group 1 and the mask
//   is its only user.
// Masked positions must read 0. With no bias (or a zero bias), no epilogue and no
// `masked_fill` yet, the conv's own rule gives 0 there (sum 0, bias 0), and a later
// BatchNorm fold or activation fusion stays exact: run it before fold-batch-norm. Else
// (a fused epilogue or bias, e.g. conv -> BN -> relu -> mask after fusion) the conv gets
// `masked_fill = 0.0`. A conv that is already masked keeps the intersection.

import SparrowIR

public struct FoldActivationMasks: Pass {
  public static let name = "fold-activation-masks"
  public static let summary = "Fold binary spatial masks on conv outputs into the conv (compute only kept positions)."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("mask-into-conv", roots: [.mul]) { op, r in
      for (ci, mi) in [(0, 1), (1, 0)] {
        let c = op.operands[ci]
        guard r.hasOneUse(c), let slot = r.definingSlot(of: c), r.op(at: slot).kind == .conv,
              r.type(of: op.result).dense == r.type(of: c).dense,
              let mask = r.constantTensor(of: op.operands[mi]), mask.element == .f32,
              let pattern = spatialPattern(mask.array(of: Float.self), shape: mask.shape,
                                           output: r.type(of: c).shape)
        else { continue }
        let conv = r.op(at: slot)
        let out = r.type(of: c).shape
        guard out.count == 4, conv.attributes.int("group") == 1,
              conv.attributes.string("layout") == "nchw" else { continue }
        var kept = pattern.indices.filter { pattern[$0] }
        let previous = ActivationMask(conv.attributes, output: out)
        if let previous { kept = kept.filter(Set(previous.kept).contains) }
        let zeroAtMasked = previous?.fill == nil && (try? epilogueSteps(conv.attributes))?.isEmpty == true
          && (conv.operands.count < 3 || r.constantTensor(of: conv.operands[2])
                .map { $0.element == .f32 && $0.array(of: Float.self).allSatisfy { $0 == 0 } } == true)
        r.modifyOp(slot) { op in
          op.attributes.values["kept_positions"] = .ints(kept)
          op.attributes.values["masked_fill"] = zeroAtMasked ? nil : .float(0)
        }
        return [c]
      }
      return nil
    },
  ]

  /// The [H, W] pattern (true = kept) of `mask` (`shape`) broadcast over a conv `output`
  /// [N, C, H, W], or nil when it is not binary, does not broadcast without growing the
  /// output, or differs between images or channels.
  static func spatialPattern(_ mask: [Float], shape: [Int], output: [Int]) -> [Bool]? {
    guard output.count == 4, shape.count <= 4, mask.allSatisfy({ $0 == 0 || $0 == 1 }) else { return nil }
    let m = [Int](repeating: 1, count: 4 - shape.count) + shape
    guard zip(m, output).allSatisfy({ $0 == $1 || $0 == 1 }) else { return nil }
    let strides = [m[1] * m[2] * m[3], m[2] * m[3], m[3], 1]
    func at(_ i: [Int]) -> Float {
      mask[(0..<4).reduce(0) { $0 + (m[$1] == 1 ? 0 : i[$1] * strides[$1]) }]
    }
    let (h, w) = (output[2], output[3])
    var pattern = [Bool](repeating: false, count: h * w)
    for y in 0..<h { for x in 0..<w { pattern[y * w + x] = at([0, 0, y, x]) == 1 } }
    for n in 0..<m[0] {
      for ch in 0..<m[1] where n > 0 || ch > 0 {
        for y in 0..<h { for x in 0..<w where (at([n, ch, y, x]) == 1) != pattern[y * w + x] { return nil } }
      }
    }
    return pattern
  }
}
