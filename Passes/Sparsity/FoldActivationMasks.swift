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
// Only where it pays (`pays`): a 3x3 conv that lower-conv would run as Winograd does
// ~1/2.2 of the im2col work per position, so a mask keeping more than that stays a `mul`
// after the dense conv (option `winograd`: lower-conv's mode, set by `--winograd`).

import SparrowIR

public struct FoldActivationMasks: Pass {
  public static let name = "fold-activation-masks"
  public static let summary = "Fold binary spatial masks on conv outputs into the conv (compute only kept positions)."
  public static let options = [
    PassOptionSpec("winograd", .string("auto"), help: "lower-conv's mode (auto | off | f2 | f4): a mask that keeps too much to beat the Winograd conv stays a mul"),
  ]

  public let winograd: WinogradMode

  public init(options: PassOptions) throws {
    let text = options.string("winograd")
    guard let mode = WinogradMode(rawValue: text) else {
      throw Diagnostic("fold-activation-masks: winograd must be one of \(WinogradMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
    }
    winograd = mode
  }

  public init(winograd: WinogradMode = .auto) { self.winograd = winograd }

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns(winograd: winograd), to: &function, context: context)
  }

  /// The masked conv's speed per computed position relative to the NCHW im2col GEMM: the
  /// channels-last kernel (MaskedConvNHWC.swift) runs the weight-right GEMM over the kept
  /// rows plus a gather and a scatter of channel vectors. Fit to one conv + mask + BN +
  /// relu at 50 % (bench/RESULTS.md, "Activation masks", 2026-12-07): against the dense
  /// NHWC Winograd F(4x4) conv and its mul, 64@56 0.75x (efficiency ~0.85), 256@14 1.1x
  /// (~1.2).
  static let maskedEfficiency = 1.1

  /// Whether computing only `keptRatio` of the positions beats the dense conv lower-conv
  /// would give `conv` (NHWC Winograd is 1.7-2.3x faster than the im2col GEMM per
  /// position, SparseCostModel.winogradSpeedup): a Winograd conv keeps its dense form
  /// when the mask keeps more than ~1 / 2.2 of the positions.
  static func pays(_ conv: Operation, keptRatio: Double, _ r: Rewriter, winograd: WinogradMode) -> Bool {
    let x = r.type(of: conv.operands[0]), w = r.type(of: conv.operands[1]), y = r.type(of: conv.result)
    let dense = LowerConv.algorithm(conv.attributes, input: x, weight: w, winograd: winograd)
    let speedup = SparseCostModel.denseSpeedup(algorithm: dense, positions: y.shape.dropFirst(2).reduce(1, *),
                                               channelsLast: true, on: r.context.target)
    return keptRatio / maskedEfficiency < 1 / speedup
  }

  static func patterns(winograd: WinogradMode) -> [RewritePattern] { [
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
              conv.attributes.convLayout == .nchw else { continue }
        var kept = pattern.indices.filter { pattern[$0] }
        let previous = ActivationMask(conv.attributes, output: out)
        if let previous { kept = kept.filter(Set(previous.kept).contains) }
        guard previous != nil || pays(conv, keptRatio: Double(kept.count) / Double(max(pattern.count, 1)), r,
                                      winograd: winograd) else { continue }
        let zeroAtMasked = previous?.fill == nil && epilogueSteps(conv.attributes).isEmpty
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
  ] }

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
