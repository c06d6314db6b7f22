//===--- AnalyzeSparsity.swift - the per-layer sparsity report as a pass ---===//
//
// `--passes=...,analyze-sparsity` prints, to stderr, one line per gemm/conv with a
// constant weight: density, the sparsest exact N:M pattern along (kh, kw, Cin) and along
// (Cin, kh, kw), block densities, and the format the cost model would pick. It changes
// nothing; `sparrowc inspect` shows the same data as a table, JSON or HTML.

import Foundation
import SparrowIR

public struct AnalyzeSparsity: Pass {
  public static let name = "analyze-sparsity"
  public static let summary = "Report (stderr) each gemm/conv weight's density, N:M patterns and block densities; changes nothing."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool { false }

  public func run(on module: inout Module, context: PassContext) throws -> Bool {
    var m = module
    m.constants = context.constants
    for line in sparsityLines(layerReport(m)) {
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
    return false
  }
}

/// One line per analyzed layer: `name op [rows x K] density nm=.. (order) blocks=.. -> choice`.
public func sparsityLines(_ layers: [LayerInfo]) -> [String] {
  layers.compactMap { l in
    guard let s = l.sparsity else { return nil }
    let blocks = zip(reportedBlockShapes, s.blockDensities)
      .map { "\($0.r)x\($0.c)=\(String(format: "%.3f", $1))" }.joined(separator: " ")
    return "\(l.name) \(l.op) [\(s.rows)x\(s.k)] density=\(String(format: "%.4f", s.density)) "
      + "nm=\(s.nm.map { "\($0)" } ?? "-") nm(cin,kh,kw)=\(s.nmChannelsOuter.map { "\($0)" } ?? "-") "
      + "order=\(s.nmOrder) blocks: \(blocks) -> \(l.choice?.layout.map { "\($0)" } ?? "dense")"
  }
}
