//===--- InspectHTML.swift - `inspect --html`: a per-layer sparsity chart ---===//
//
// A self-contained page: per gemm/conv layer, a bar for its share of the model's FLOPs,
// its weight density, the chosen format and the estimated speedup, then the full table.

import SparrowPasses

/// The HTML report for `layers` of `model`.
func htmlReport(_ layers: [LayerInfo], model: String) -> String {
  let analyzed = layers.filter { $0.sparsity != nil }
  let maxFlops = max(1, analyzed.map(\.flops).max() ?? 1)
  func esc(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }
  var rows: [String] = []
  for l in analyzed {
    let s = l.sparsity!
    let format = l.layout.map { "\($0)" } ?? "dense"
    let width = 300.0 * Double(l.flops) / Double(maxFlops)
    let color = l.layout == nil ? "#999" : "#2a7"
    rows.append("""
      <tr><td>\(esc(l.name))</td><td>\(l.op)</td><td>\(s.rows)x\(s.k)</td>
      <td><div class="bar" style="width:\(Int(width))px;background:#58c"></div>\(String(format: "%.1f", Double(l.flops) / 1e6))</td>
      <td><div class="bar" style="width:\(Int(100 * s.density))px;background:#c85"></div>\(String(format: "%.1f%%", s.density * 100))</td>
      <td>\(s.nm.map { "\($0)" } ?? "-") (\(s.nmOrder))</td>
      <td>\(String(format: "%.1f%%", s.blockDensities[1] * 100))</td>
      <td style="color:\(color)"><b>\(esc(format))</b></td>
      <td>\(String(format: "%.2fx", l.choice?.estimatedSpeedup ?? 1))</td>
      <td class="why">\(esc(l.choice?.reason ?? ""))</td></tr>
      """)
  }
  return """
    <!doctype html><html><head><meta charset="utf-8"><title>Sparrow: \(esc(model))</title>
    <style>body{font:13px sans-serif;margin:2em}table{border-collapse:collapse}
    td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
    .bar{display:inline-block;height:10px;margin-right:6px;vertical-align:middle}.why{color:#666;font-size:11px}</style>
    </head><body><h1>\(esc(model))</h1>
    <p>\(analyzed.count) gemm/conv layers with constant weights. Bars: MFLOPs (relative to the largest layer) and weight density.
    Estimated speedups come from the cost model in bench/sparse-cost-model.md.</p>
    <table><tr><th>layer</th><th>op</th><th>rows x K</th><th>MFLOPs</th><th>density</th><th>N:M (order)</th><th>4x4 blocks</th><th>format</th><th>est.</th><th>reason</th></tr>
    \(rows.joined(separator: "\n"))
    </table></body></html>
    """
}
