//===--- WinogradChoice.swift - when a 3x3 conv runs as Winograd tiles ---===//
//
// A group-1, 3x3, stride-1, dilation-1 2-D conv may run as Winograd F(2x2,3x3)
// ("winograd2": 2.25x fewer multiplies than im2col) or F(4x4,3x3) ("winograd4": 4x fewer,
// larger rounding error). The rule below was measured on the LLVM target against its
// im2col GEMM (bench/winograd.md); `mode` forces either tile or turns Winograd off.

import SparrowIR

/// How lower-conv uses Winograd for the convs it fits.
public enum WinogradMode: String, CaseIterable, Sendable {
  /// The measured rule (`WinogradChoice.tile`).
  case auto
  /// Never: im2col as before.
  case off
  /// F(2x2,3x3) for every conv it fits.
  case f2
  /// F(4x4,3x3) for every conv it fits.
  case f4
}

public enum WinogradChoice {
  /// Whether the conv fits Winograd at all: 2-D, 3x3, stride 1, dilation 1, group 1, a
  /// dense weight (a sparse layout runs the sparse GEMM), and computed at every position
  /// (no `kept_positions` mask).
  public static func fits(_ a: Attributes, weight: TensorType) -> Bool {
    a.optionalInts("kept_positions") == nil && weight.layout == nil && weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3 && a.int("group") == 1
      && a.ints("strides").allSatisfy { $0 == 1 } && a.ints("dilations").allSatisfy { $0 == 1 }
  }

  /// The algorithm (winograd2, winograd4) for a conv that fits, or nil for im2col.
  /// `input` is [N, Cin, H, W], `weight` [Cout, Cin, 3, 3].
  public static func algorithm(_ a: Attributes, input: TensorType, weight: TensorType,
                               mode: WinogradMode) -> ConvAlgorithm? {
    guard mode != .off, fits(a, weight: weight) else { return nil }
    let pads = a.ints("pads")
    let outHeight = input.shape[2] + pads[0] + pads[2] - 2
    let outWidth = input.shape[3] + pads[1] + pads[3] - 2
    guard outHeight > 0 && outWidth > 0 && input.shape[0] > 0 else { return nil }
    switch mode {
    case .off: return nil
    case .f2: return .winograd2
    case .f4: return .winograd4
    case .auto:
      return autoAlgorithm(inChannels: weight.shape[1], outChannels: weight.shape[0],
                           outHeight: outHeight, outWidth: outWidth)
    }
  }

  /// The measured rule (bench/winograd.md, 1 thread, against the im2col GEMM):
  /// - enough work per image, Cin·Cout·OH·OW ≥ 2^19 MACs/9 (64 channels at 7x7 lose: the
  ///   alpha² GEMM calls and the transforms cost more than they save);
  /// - at least 16 tiles per image (one full vector of tiles): below that the transformed
  ///   weights (alpha²/9 times the original) are read for too little work (512 channels at
  ///   4x4 ran 2.5x slower with F(2x2), 10x with F(4x4));
  /// - F(4x4) where it has 16 tiles and Cin ≥ 64 or ≥ 512 tiles (few channels: its larger
  ///   transforms dominate, F(2x2) is faster), F(2x2) otherwise.
  public static func autoAlgorithm(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int) -> ConvAlgorithm? {
    func tiles(_ m: Int) -> Int { ((outHeight + m - 1) / m) * ((outWidth + m - 1) / m) }
    guard inChannels * outChannels * outHeight * outWidth >= 1 << 19 else { return nil }
    if tiles(4) >= 16 && (inChannels >= 64 || tiles(4) >= 512) { return .winograd4 }
    if tiles(2) >= 16 { return .winograd2 }
    return nil
  }
}
