//===--- ConvDecisions.swift - how a conv is computed and how its activations lie ---===//
//
//   %y = conv %x, %w {algorithm = "im2col", layout = "nhwc", ...}
//
// A conv carries two decisions as typed attributes (`AttributeValue.convAlgorithm`,
// `.convLayout`; the text format spells them as the quoted case names):
//
// - `algorithm` (`ConvAlgorithm`), set by lower-conv and only there. Absent means "not
//   chosen yet": `resolvedConvAlgorithm` then answers the structural choice (no Winograd,
//   which only lower-conv's measured rule picks), so a target given unlowered IR runs what
//   lower-conv would have chosen with Winograd off. Both targets switch on it.
// - `layout` (`ConvLayout`), set by choose-conv-layout and only there; NCHW by default.
//
// The legality rules live here, once: `ConvAlgorithm.check` (does the algorithm fit the
// conv; the verifier calls it) and `ConvLayout.mayRunChannelsLast` (which convs may be
// NHWC; the verifier and choose-conv-layout call it).

/// How a conv is computed.
public enum ConvAlgorithm: String, CaseIterable, Hashable, Sendable {
  /// The plain loop nest: grouped non-depthwise, 1-D/3-D, run-time weights.
  case direct
  /// 1x1 kernel, stride 1, no padding, dilation 1, group 1: one GEMM per image, no copy.
  case gemm1x1
  /// One input channel per group: a per-channel sliding window.
  case depthwise
  /// Other 2-D group-1 convs: unfold the input into columns, one GEMM per image.
  case im2col
  /// Winograd F(2x2,3x3) and F(4x4,3x3): 2-D 3x3, stride 1, dilation 1, group 1, dense weight.
  case winograd2, winograd4

  public var isWinograd: Bool { self == .winograd2 || self == .winograd4 }

  /// What lower-conv picks for a conv when Winograd is not chosen. `input` is NCHW.
  public static func structural(_ a: Attributes, input: TensorType, weight: TensorType) -> ConvAlgorithm {
    let group = a.int("group")
    let kernel = weight.shape.dropFirst(2)
    if kernel.allSatisfy({ $0 == 1 }) && group == 1 && a.ints("strides").allSatisfy({ $0 == 1 })
      && a.ints("pads").allSatisfy({ $0 == 0 }) && a.ints("dilations").allSatisfy({ $0 == 1 }) {
      return .gemm1x1
    }
    if group > 1 && group == input.shape[1] && weight.shape[1] == 1 { return .depthwise }
    if a.convLayout == .nhwc { return .im2col }
    if group == 1 && kernel.count == 2 { return .im2col }
    return .direct
  }

  /// Whether this algorithm fits the conv (the verifier's rule): `gemm1x1` needs a 1x1
  /// kernel with stride 1, no padding, dilation 1 and group 1; `depthwise` one input
  /// channel per group (group == input channels); `winograd2`/`winograd4` a 2-D 3x3 kernel
  /// with stride 1, dilation 1 and group 1, and a dense weight (sparsify puts a converted
  /// conv back to im2col). `input` is NCHW.
  public func check(_ a: Attributes, input: TensorType, weight w: TensorType) throws {
    switch self {
    case .direct, .im2col: return
    case .gemm1x1:
      try expect(w.shape[2...].allSatisfy { $0 == 1 } && a.ints("strides").allSatisfy { $0 == 1 }
                 && a.ints("pads").allSatisfy { $0 == 0 } && a.ints("dilations").allSatisfy { $0 == 1 }
                 && a.int("group") == 1,
                 "conv algorithm \"gemm1x1\" needs a 1x1 kernel, stride 1, no padding, group 1")
    case .depthwise:
      try expect(a.int("group") == input.shape[1] && w.shape[1] == 1,
                 "conv algorithm \"depthwise\" needs group == input channels (\(input.shape[1]))")
    case .winograd2, .winograd4:
      try expect(w.rank == 4 && w.shape[2...].allSatisfy { $0 == 3 } && a.ints("strides").allSatisfy { $0 == 1 }
                 && a.ints("dilations").allSatisfy { $0 == 1 } && a.int("group") == 1,
                 "conv algorithm \"\(rawValue)\" needs a 2-D 3x3 kernel, stride 1, dilation 1, group 1")
      try expect(w.layout == nil, "conv algorithm \"\(rawValue)\" needs a dense weight, got \(w) (sparse layouts run as im2col)")
    }
  }
}

/// The axis order of a conv's activations: NCHW, or NHWC (channels innermost). The weight
/// stays OIHW and the bias [Cout] either way.
public enum ConvLayout: String, CaseIterable, Hashable, Sendable {
  case nchw, nhwc

  /// The perm of a 2-D transpose NCHW -> NHWC and its inverse.
  public static let toChannelsLast = [0, 2, 3, 1]
  public static let toChannelsFirst = [0, 3, 1, 2]
  /// [N, C, spatial...] -> [N, spatial..., C].
  public static func channelsLast(_ s: [Int]) -> [Int] { [s[0]] + s[2...] + [s[1]] }
  /// [N, spatial..., C] -> [N, C, spatial...].
  public static func channelsFirst(_ s: [Int]) -> [Int] { [s[0], s[s.count - 1]] + s[1..<(s.count - 1)] }

  /// Whether the targets can run a conv NHWC (the one rule): 2-D, a dense weight, and
  /// group 1 with algorithm gemm1x1, im2col or winograd2/4, or depthwise without a channel
  /// multiplier. `input` is NCHW; an unchosen algorithm counts as its structural choice.
  /// Masked convs (kept_positions, group 1) run their own kernel in either layout.
  public static func mayRunChannelsLast(_ a: Attributes, input: TensorType, weight w: TensorType) -> Bool {
    guard input.rank == 4, w.rank == 4, w.layout == nil else { return false }
    switch a.convAlgorithm ?? ConvAlgorithm.structural(a, input: input, weight: w) {
    case .depthwise: return w.shape[0] == input.shape[1]
    case .gemm1x1, .im2col, .winograd2, .winograd4: return a.int("group") == 1
    case .direct: return false
    }
  }
}

extension Attributes {
  /// A conv's algorithm; nil while lower-conv has not chosen it.
  public var convAlgorithm: ConvAlgorithm? {
    get {
      guard case let .convAlgorithm(v)? = values["algorithm"] else { return nil }
      return v
    }
    set { values["algorithm"] = newValue.map(AttributeValue.convAlgorithm) }
  }

  /// The algorithm a target runs: the chosen one, or the structural choice while unchosen.
  /// `input` is the conv's NCHW input type.
  public func resolvedConvAlgorithm(input: TensorType, weight: TensorType) -> ConvAlgorithm {
    convAlgorithm ?? ConvAlgorithm.structural(self, input: input, weight: weight)
  }

  /// A conv's (or qconv's) activation layout; NCHW unless choose-conv-layout said NHWC.
  public var convLayout: ConvLayout {
    get {
      guard case let .convLayout(v)? = self["layout"] else { return .nchw }
      return v
    }
    set { values["layout"] = newValue == .nchw ? nil : .convLayout(newValue) }
  }
}
