//===--- Inspect.swift - `sparrowc inspect`: per-layer report -------------===//
//
// One row per op: output shape and FLOPs; for gemm/conv with a constant weight, its
// density, the sparsest exact N:M pattern (along the GEMM K order (kh, kw, Cin) and which
// order holds it), block densities, the format sparsify chose and the cost model's reason.
// `--json` for scripts, `--html FILE` for a per-layer chart.

import ArgumentParser
import Foundation
import SparrowIO
import SparrowIR
import SparrowPasses

struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Per-layer report: op, output shape, FLOPs, weight density, N:M pattern, block density, chosen format.")

  @OptionGroup var model: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  @Option(help: ArgumentHelp("Also write an HTML report with a per-layer chart.", valueName: "FILE"))
  var html: String?

  func run() throws {
    var module = try loadModule(model)
    try optimize(&module, pipeline, file: model.model)
    let layers = try layerReport(module, sparsity: pipeline.sparsity, target: pipeline.targetDescription())
    if let html {
      try Data(htmlReport(layers, model: model.model).utf8).write(to: URL(fileURLWithPath: html))
    }
    if json {
      print(jsonReport(layers))
      return
    }
    let header = ["nodes", "op", "output", "MFLOPs", "weight", "density", "N:M", "order", "4x4", "format", "reason", "precision"]
    var rows = [header]
    for l in layers {
      let s = l.sparsity
      rows.append([nodesText(l), l.op, l.outputType.description, String(format: "%.2f", Double(l.flops) / 1e6),
                   l.weightType?.dense.description ?? "-",
                   l.density.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                   s.map { $0.nm?.description ?? "-" } ?? "",
                   s?.nmOrder ?? "",
                   s.map { String(format: "%.1f%%", $0.blockDensities[1] * 100) } ?? "",
                   s == nil ? "" : (l.layout.map { "\($0)" } ?? "dense"),
                   l.choice?.reason ?? "",
                   l.precision.map { "\($0.label): \($0.reason)" } ?? ""])
    }
    let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
    for r in rows {
      print(r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
    let total = layers.map(\.flops).reduce(0, +)
    print("total: \(layers.count) ops, \(String(format: "%.2f", Double(total) / 1e6)) MFLOPs")
    activationMaskTable(module).forEach { print($0) }
  }

  /// The layer's model nodes (`conv1+bn1+relu1`, long lists cut), else its IR value name.
  private func nodesText(_ l: LayerInfo) -> String {
    guard !l.nodes.isEmpty else { return "%" + l.name }
    let shown = l.nodes.prefix(3).joined(separator: "+")
    return l.nodes.count > 3 ? shown + "+(\(l.nodes.count - 3) more)" : shown
  }

  private func jsonReport(_ layers: [LayerInfo]) -> String {
    let rows = layers.map { l -> String in
      let list = { (names: [String]) in "[" + names.map(jsonQuoted).joined(separator: ", ") + "]" }
      var fields = ["\"name\": \(jsonQuoted(l.name))", "\"nodes\": \(list(l.nodes))",
                    "\"weights\": \(list(l.weights))", "\"op\": \"\(l.op)\"",
                    "\"shape\": \(l.outputType.shape)", "\"dtype\": \"\(l.outputType.element.rawValue)\"",
                    "\"flops\": \(l.flops)"]
      if let w = l.weightType {
        fields.append("\"weight_shape\": \(w.shape)")
        fields.append("\"params\": \(w.count)")
        fields.append("\"density\": \(String(format: "%.6f", l.density ?? 1))")
      }
      if let p = l.precision {
        fields.append("\"precision\": \"\(p.label)\"")
        fields.append("\"precision_reason\": \(jsonQuoted(p.reason))")
      }
      if let s = l.sparsity {
        let q = { (p: NMPattern?) in p.map { "\"\($0)\"" } ?? "null" }
        fields.append("\"gemm_shape\": [\(s.rows), \(s.k)]")
        fields.append("\"nm\": \(q(s.nm))")
        fields.append("\"nm_cin_kh_kw\": \(q(s.nmChannelsOuter))")
        fields.append("\"nm_order\": \"\(s.nmOrder)\"")
        fields.append("\"nearest_nm\": \(q(s.nearest))")
        fields.append("\"nearest_nm_violations\": \(s.nearestViolations.map(String.init) ?? "null")")
        let blocks = zip(reportedBlockShapes, s.blockDensities)
          .map { "\"\($0.r)x\($0.c)\": \(String(format: "%.6f", $1))" }.joined(separator: ", ")
        fields.append("\"block_density\": {\(blocks)}")
        fields.append("\"format\": \"\(l.layout.map { "\($0)" } ?? "dense")\"")
        if let c = l.choice {
          fields.append("\"estimated_speedup\": \(String(format: "%.3f", c.estimatedSpeedup))")
          fields.append("\"reason\": \(jsonQuoted(c.reason))")
        }
      }
      return "    {" + fields.joined(separator: ", ") + "}"
    }
    return "{\n  \"model\": \(jsonQuoted(model.model)),\n  \"total_flops\": \(layers.map(\.flops).reduce(0, +)),\n  \"layers\": [\n" + rows.joined(separator: ",\n") + "\n  ]\n}"
  }
}
