//===--- LowerConv.swift - decide each conv's algorithm -----------------------===//
//
//   %y = conv %x, %w {group = 1, pads = [0, 0, 0, 0], ...}
//     =>  %y = conv %x, %w {algorithm = "gemm1x1", group = 1, pads = [0, 0, 0, 0], ...}
//
// This pass is the only place that decides how a conv is computed (`ConvAlgorithm`,
// IR/Ops/ConvDecisions.swift); both targets switch on it (the interpreter computes the
// same sums its own way), and the verifier rejects an algorithm that does not fit the conv.
// Without Winograd the choice is `ConvAlgorithm.structural`, which a target also runs for
// a conv this pass has not seen. The activation layout is
// choose-conv-layout's (ChooseConvLayout.swift); an NHWC conv gets gemm1x1, im2col,
// Winograd or depthwise.
//
//   gemm1x1    1x1 kernel, stride 1, no padding, dilation 1, group 1: per image one gemm
//              W[Cout, Cin] x X[Cin, H*W], no data movement at all.
//   depthwise  one input channel per group (MobileNet's 3x3s): a per-channel sliding
//              window; as a gemm it would have K = kh*kw and waste the machine.
//   im2col     other 2-D convs with group 1: unfold the input into [Cin*kh*kw, Ho*Wo]
//              columns and run one gemm per image.
//   winograd2  3x3, stride 1, dilation 1, group 1, where WinogradChoice says it pays:
//   winograd4  Winograd F(2x2,3x3) / F(4x4,3x3) tiles, the GEMMs run per tile position.
//              Option `winograd` = auto (measured rule) | off | f2 | f4. Never for a
//              masked conv (`kept_positions`: its kernel is an im2col over kept positions).
//   direct     everything else (grouped non-depthwise, 1-D/3-D, transposed weights):
//              the plain loop nest.

import SparrowIR

public struct LowerConv: Pass {
  public static let name = "lower-conv"
  public static let summary = "Choose each conv's algorithm (gemm1x1, depthwise, im2col, winograd2/4, direct); targets obey it."
  public static let options = [
    PassOptionSpec("winograd", .string("auto"), help: "auto | off | f2 | f4"),
  ]

  public let winograd: WinogradMode

  public init(options: PassOptions) throws {
    let text = options.string("winograd")
    guard let mode = WinogradMode(rawValue: text) else {
      throw Diagnostic("lower-conv: winograd must be one of \(WinogradMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
    }
    winograd = mode
  }

  public init(winograd: WinogradMode = .auto) { self.winograd = winograd }

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns(winograd: winograd), to: &function, context: context)
  }

  /// The algorithm for a conv with these attributes, input and weight types: Winograd
  /// where `WinogradChoice` says it pays, else the structural choice (ConvDecisions.swift).
  public static func algorithm(_ a: Attributes, input: TensorType, weight: TensorType,
                               winograd: WinogradMode = .auto) -> ConvAlgorithm {
    let nhwc = a.convLayout == .nhwc
    let input = nhwc ? input.with(shape: ConvLayout.channelsFirst(input.shape)) : input  // [N, C, H, W]
    if a.values["kept_positions"] == nil,  // a masked conv gathers its kept positions' columns
       let chosen = WinogradChoice.algorithm(a, input: input, weight: weight, mode: winograd) { return chosen }
    return ConvAlgorithm.structural(a, input: input, weight: weight)
  }

  static func patterns(winograd: WinogradMode) -> [RewritePattern] { [
    RewritePattern("choose-algorithm", roots: [.conv]) { op, r in
      let chosen = algorithm(op.attributes, input: r.type(of: op.operands[0]),
                             weight: r.type(of: op.operands[1]), winograd: winograd)
      guard op.attributes.convAlgorithm != chosen else { return nil }
      r.modifyOp(r.root) { $0.attributes.convAlgorithm = chosen }
      return op.results
    },
  ] }
}
