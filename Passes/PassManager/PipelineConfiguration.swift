//===--- PipelineConfiguration.swift - typed settings of the -O pipelines ---===//
//
//   sparrowc compile -O2 --sparsity=nm --winograd=off m.onnx
//     => Pipelines.passes(for: .O2, configuration: .init(sparsity: .nm, winograd: .off))
//
// The driver's pipeline flags reach the passes as values, not as text spliced into the
// pipeline string. Each decision is one field that every pass concerned reads: sparsify
// and choose-conv-layout (which keeps NCHW the convs sparsify will make sparse) both read
// `sparsity`; lower-conv and fold-activation-masks both read `winograd`. `--passes=` text
// still configures passes one by one with `name{option=value}`.

import SparrowIR

public struct PipelineConfiguration: Equatable, Sendable {
  /// Which sparse formats sparsify may choose (and choose-conv-layout expects it to).
  public var sparsity: SparsityMode
  /// lower-conv's Winograd rule (and fold-activation-masks' estimate of it).
  public var winograd: WinogradMode
  /// choose-conv-layout's mode.
  public var convLayout: ConvLayoutMode

  public init(sparsity: SparsityMode = .auto, winograd: WinogradMode = .auto, convLayout: ConvLayoutMode = .auto) {
    self.sparsity = sparsity
    self.winograd = winograd
    self.convLayout = convLayout
  }

  /// The pass for one pipeline entry built from this configuration, or nil for a pass
  /// the configuration does not concern.
  public func pass(named name: String) -> (any Pass)? {
    switch name {
    case Sparsify.name: return Sparsify(mode: sparsity)
    case ChooseConvLayout.name: return ChooseConvLayout(layout: convLayout, sparsity: sparsity)
    case LowerConv.name: return LowerConv(winograd: winograd)
    case FoldActivationMasks.name: return FoldActivationMasks(winograd: winograd)
    default: return nil
    }
  }
}
