//===--- ActivationMaskReport.swift - masked convs in `sparrowc inspect` ---===//
//
// For every conv with `kept_positions` (fold-activation-masks): the share of output
// positions that are masked and the multiply-add FLOPs that are not computed (two per
// multiply-add, as layerReport counts them).

import SparrowIR

/// One masked conv.
public struct ActivationMaskInfo: Sendable, Equatable {
  public var name: String
  /// Masked share of the output positions (0 to 1).
  public var maskedRatio: Double
  /// FLOPs of the full conv's GEMM minus those of the masked conv.
  public var flopsSaved: Int
}

/// The masked convs of `m`'s main function, in op order.
public func activationMaskReport(_ m: Module) -> [ActivationMaskInfo] {
  let f = m.main
  return f.ops.compactMap { op -> ActivationMaskInfo? in
    guard op.kind == .conv else { return nil }
    let out = f.type(of: op.result).shape, w = f.type(of: op.operands[1]).shape
    guard let mask = ActivationMask(op.attributes, output: out) else { return nil }
    let perPosition = 2 * out[0] * w[0] * w.dropFirst().reduce(1, *)  // images x Cout x Cin*kh*kw (either layout)
    return ActivationMaskInfo(name: f.name(of: op.result), maskedRatio: mask.maskedRatio,
                              flopsSaved: perPosition * (mask.planeSize - mask.kept.count))
  }
}

/// The report as table lines for `inspect` (empty when no conv is masked).
public func activationMaskTable(_ m: Module) -> [String] {
  let rows = activationMaskReport(m)
  guard !rows.isEmpty else { return [] }
  let width = max(5, rows.map(\.name.count).max()!)
  var lines = ["activation masks:", "layer".padding(toLength: width, withPad: " ", startingAt: 0)
               + "  masked  MFLOPs saved"]
  for r in rows {
    lines.append(r.name.padding(toLength: width, withPad: " ", startingAt: 0)
                 + "  " + String(format: "%5.1f%%", r.maskedRatio * 100)
                 + "  " + String(format: "%12.2f", Double(r.flopsSaved) / 1e6))
  }
  let saved = rows.map(\.flopsSaved).reduce(0, +)
  lines.append("total: \(rows.count) masked convs, \(String(format: "%.2f", Double(saved) / 1e6)) MFLOPs saved")
  return lines
}
