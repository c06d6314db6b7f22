//===--- BenchProfile.swift - `sparrowc bench --profile`: time per kernel ---===//
//
//   share   ms/run  op    kind            output            detail
//   12.4%   3.010   %57   conv            1x256x14x14       3x3/s1 k=2304
//
// Glow-style: every kernel of the LLVM target, slowest first, then the same time
// summed per op kind. Times are means over the timed iterations.

import Foundation
import SparrowIO
import SparrowIR

/// Kernel times summed over runs.
struct KernelTimes {
  private var total: [Int: Int] = [:]
  private var order: [Int] = []
  private var runs = 0

  mutating func add(_ run: [(op: Int, nanoseconds: Int)]) {
    guard !run.isEmpty else { return }
    runs += 1
    for (op, ns) in run {
      if total[op] == nil { order.append(op) }
      total[op, default: 0] += ns
    }
  }

  /// (op index, mean ms per run), slowest first.
  private var slowestFirst: [(op: Int, ms: Double)] {
    order.map { ($0, Double(total[$0]!) / Double(max(runs, 1)) / 1e6) }.sorted { $0.ms > $1.ms }
  }

  private var totalMs: Double { slowestFirst.reduce(0) { $0 + $1.ms } }

  /// The per-kernel table and the per-kind summary.
  func table(_ f: Function) -> String {
    let all = totalMs
    func percent(_ ms: Double) -> String { String(format: "%5.1f%%", all > 0 ? 100 * ms / all : 0) }
    var lines = [String(format: "  kernels: %.3f ms per run (sum of kernel times)", all),
                 "  share    ms/run  op     kind                  output              detail  [model nodes]"]
    for (op, ms) in slowestFirst {
      let o = f.ops[op]
      let nodes = o.origin.nodes.isEmpty ? "" : "  [\(o.origin.nodes.joined(separator: ", "))]"
      lines.append("  \(percent(ms)) \(String(format: "%8.3f", ms))  \(pad("%\(op)", 6)) \(pad(o.kind.rawValue, 21)) "
                   + "\(pad(shapeText(f, o), 19)) \(detail(f, o))\(nodes)")
    }
    lines.append("  by kind:")
    for (kind, ms, count) in byKind(f) {
      lines.append("  \(percent(ms)) \(String(format: "%8.3f", ms))  \(pad(kind, 28)) \(count) op(s)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// A JSON array of {op, kind, nodes, family, shape, detail, ms, share}, slowest first
  /// (family: the kind, with convolutions split by window).
  func json(_ f: Function) -> String {
    let all = totalMs
    let items = slowestFirst.map { op, ms in
      let o = f.ops[op]
      let nodes = "[" + o.origin.nodes.map(jsonQuoted).joined(separator: ", ") + "]"
      return "{\"op\": \(op), \"kind\": \(jsonQuoted(o.kind.rawValue)), \"nodes\": \(nodes), \"family\": \(jsonQuoted(kindKey(f, o))), \"shape\": \(jsonQuoted(shapeText(f, o))), "
        + "\"detail\": \(jsonQuoted(detail(f, o))), \"ms\": \(String(format: "%.4f", ms)), "
        + "\"share\": \(String(format: "%.4f", all > 0 ? ms / all : 0))}"
    }
    return "[" + items.joined(separator: ", ") + "]"
  }

  private func byKind(_ f: Function) -> [(String, Double, Int)] {
    var sums: [String: (Double, Int)] = [:]
    for (op, ms) in slowestFirst {
      let key = kindKey(f, f.ops[op])
      let old = sums[key] ?? (0, 0)
      sums[key] = (old.0 + ms, old.1 + 1)
    }
    return sums.map { ($0.key, $0.value.0, $0.value.1) }.sorted { $0.1 > $1.1 }
  }

  /// The kind, with convolutions split by window (1x1, 3x3, depthwise ...).
  private func kindKey(_ f: Function, _ o: SparrowIR.Operation) -> String {
    guard o.kind == .conv, o.operands.count > 1 else { return o.kind.rawValue }
    let w = f.type(of: o.operands[1]).shape, x = f.type(of: o.operands[0]).shape
    guard w.count == 4, x.count == 4 else { return "conv" }
    let group = o.attributes.int("group")
    let channels = o.attributes.convLayout == .nhwc ? x[3] : x[1]
    if group > 1 { return group == channels ? "conv depthwise \(w[2])x\(w[3])" : "conv grouped \(w[2])x\(w[3])" }
    let stride = o.attributes.optionalInts("strides") ?? [1, 1]
    return "conv \(w[2])x\(w[3])/s\(stride.first ?? 1)"
  }

  private func detail(_ f: Function, _ o: SparrowIR.Operation) -> String {
    var parts: [String] = []
    if o.kind == .conv || o.kind == .gemm || o.kind == .matmul {
      parts.append(kindKey(f, o).replacingOccurrences(of: "conv ", with: ""))
      if o.kind == .conv, o.operands.count > 1 {
        let w = f.type(of: o.operands[1]).shape
        parts.append("k=\(w.dropFirst().reduce(1, *))")
      } else {
        parts.append("in " + o.operands.prefix(2).map { f.type(of: $0).shape.map(String.init).joined(separator: "x") }
          .joined(separator: ", "))
      }
    }
    if let layout = o.operands.count > 1 ? f.type(of: o.operands[1]).layout : nil { parts.append("\(layout)") }
    if o.kind == .conv, o.attributes.convLayout != .nchw { parts.append(o.attributes.convLayout.rawValue) }
    if case let steps = epilogueSteps(o.attributes), !steps.isEmpty {
      parts.append("+" + steps.map { "\($0)" }.joined(separator: "+"))
    }
    return parts.joined(separator: " ")
  }

  private func shapeText(_ f: Function, _ o: SparrowIR.Operation) -> String {
    o.results.map { f.type(of: $0).shape.map(String.init).joined(separator: "x") }.joined(separator: ",")
  }

  private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
