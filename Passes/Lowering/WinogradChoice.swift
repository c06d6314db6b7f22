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
  /// Whether the conv fits Winograd at all: 2-D, 3x3, stride 1, dilation 1, group 1, and
  /// computed at every position (no `kept_positions` mask).
  public static func fits(_ a: Attributes, weight: TensorType) -> Bool {
    a.optionalInts("kept_positions") == nil && weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3 && a.int("group") == 1
      && a.ints("strides").allSatisfy { $0 == 1 } && a.ints("dilations").allSatisfy { $0 == 1 }
  }

  /// The algorithm ("winograd2", "winograd4") for a conv that fits, or nil for im2col.
  /// `input` is [N, Cin, H, W], `weight` [Cout, Cin, 3, 3].
  public static func algorithm(_ a: Attributes, input: TensorType, weight: TensorType,
                               mode: WinogradMode) -> String? {
    guard mode != .off, fits(a, weight: weight) else { return nil }
    switch mode {
    case .off: return nil
    case .f2: return "winograd2"
    case .f4: return "winograd4"
    case .auto:
      let (inChannels, outChannels) = (weight.shape[1], weight.shape[0])
      let pads = a.ints("pads")
      let outHeight = input.shape[2] + pads[0] + pads[2] - 2
      let outWidth = input.shape[3] + pads[1] + pads[3] - 2
      return autoAlgorithm(inChannels: inChannels, outChannels: outChannels,
                           outHeight: outHeight, outWidth: outWidth)
    }
  }

  /// The measured rule (bench/winograd.md).
  static func autoAlgorithm(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int) -> String? {
    // Small channel counts: the transforms cost as much as the GEMMs save.
    guard inChannels >= 32, outChannels >= 32, outHeight >= 4, outWidth >= 4 else { return nil }
    // F(4x4) needs enough tiles for full GEMM vectors; otherwise F(2x2).
    let tiles4 = ((outHeight + 3) / 4) * ((outWidth + 3) / 4)
    return tiles4 >= 16 ? "winograd4" : "winograd2"
  }
}
