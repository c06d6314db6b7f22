//===--- Inspect.swift - `sparrowc inspect`: per-layer report -------------===//

import ArgumentParser
import Foundation
import SparrowIR
import SparrowPasses

struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Per-layer report: op, output shape, FLOPs, weight shape and density.")

  @OptionGroup var model: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  func run() throws {
    var module = try loadModule(model)
    try optimize(&module, pipeline, file: model.model)
    let layers = layerReport(module)
    if json {
      let rows = layers.map { l -> String in
        var fields = ["\"name\": \"\(jsonEscaped(l.name))\"", "\"op\": \"\(l.op)\"",
                      "\"shape\": \(l.outputType.shape)", "\"dtype\": \"\(l.outputType.element.rawValue)\"",
                      "\"flops\": \(l.flops)"]
        if let w = l.weightType {
          fields.append("\"weight_shape\": \(w.shape)")
          fields.append("\"params\": \(w.count)")
          fields.append("\"density\": \(String(format: "%.6f", l.density ?? 1))")
        }
        return "    {" + fields.joined(separator: ", ") + "}"
      }
      print("{\n  \"model\": \"\(jsonEscaped(model.model))\",\n  \"total_flops\": \(layers.map(\.flops).reduce(0, +)),\n  \"layers\": [\n" + rows.joined(separator: ",\n") + "\n  ]\n}")
      return
    }
    let header = ["layer", "op", "output", "MFLOPs", "weight", "density"]
    var rows = [header]
    for l in layers {
      rows.append([l.name, l.op, l.outputType.description, String(format: "%.2f", Double(l.flops) / 1e6),
                   l.weightType?.description ?? "-",
                   l.density.map { String(format: "%.1f%%", $0 * 100) } ?? "-"])
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
}
