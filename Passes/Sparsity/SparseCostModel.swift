//===--- SparseCostModel.swift - which weight format runs a layer fastest ---===//
//
// Estimated time of a GEMM-like layer, relative to the dense kernel, for each format the
// weight's data allows exactly:
//
//   dense      1
//   #nm<N,M>   (N / M) / nmEfficiency
//   #bsr<R,C>  blockDensity(R x C) / bsrEfficiency(R, C)
//   #csr       density / csrEfficiency
//
// The efficiencies are the sparse kernel's FLOP rate on the work it does relative to the
// dense kernel, fit to Sparrow's own sparse GEMM (Targets/LLVM/Kernels/Sparse: X packed
// per panel and K block, N:M and CSR rows in lockstep blocks, blocks sharing X loads) on
// the LLVM issue shapes, both orientations (bench/sparse-cost-model.md, RESULTS.md
// "Weight sparsity"): 2:4 1.4-1.5x and 1:4 2.7x -> N:M 0.70; unstructured 80% 3.0x ->
// CSR 0.60; BSR 4x4 at 90% ~7.9x -> 0.78. A format must beat dense by `minimumSpeedup`
// to be chosen: a wrong guess near 1x costs more than it gains.

import SparrowIR

/// The user's choice: `auto` (the cost model), `off`, or one format family forced
/// wherever the data allows it exactly.
public enum SparsityMode: String, CaseIterable, Sendable {
  case auto, off, nm, bsr, csr
}

/// One candidate format for a layer and its estimated speedup over dense.
public struct FormatEstimate: Sendable, CustomStringConvertible {
  public var layout: SparseLayout?
  public var speedup: Double
  /// The fraction of the dense weight the format stores and computes (1 for dense).
  public var fill: Double = 1
  public var description: String {
    "\(layout.map { "\($0)" } ?? "dense") \(String(format: "%.2f", speedup))x"
  }
}

/// The chosen format of a layer and why.
public struct FormatChoice: Sendable {
  public var layout: SparseLayout?
  public var estimatedSpeedup: Double
  public var reason: String
  public var candidates: [FormatEstimate]
}

public enum SparseCostModel {
  public static let nmEfficiency = 0.70
  public static let csrEfficiency = 0.60
  public static let minimumSpeedup = 1.10
  /// Block shapes sparsify may choose, with their efficiency relative to dense.
  public static let blockShapes: [(r: Int, c: Int, efficiency: Double)] = [
    (4, 4, 0.78), (8, 1, 0.65), (4, 1, 0.72),
  ]

  /// The formats `w` (the gemm/conv weight, `transposed` = gemm's transB) allows exactly,
  /// with estimated speedups; `mode` limits the families. Dense is always first.
  public static func candidates(_ s: WeightSparsity, mode: SparsityMode) -> [FormatEstimate] {
    var out = [FormatEstimate(layout: nil, speedup: 1)]
    if mode == .auto || mode == .nm, let p = s.nm {
      out.append(FormatEstimate(layout: .nm(n: p.n, m: p.m), speedup: nmEfficiency / p.ratio, fill: p.ratio))
    }
    if mode == .auto || mode == .bsr {
      for b in blockShapes where s.rows % b.r == 0 && s.k % b.c == 0 {
        let d = blockDensity(s, r: b.r, c: b.c)
        out.append(FormatEstimate(layout: .bsr(r: b.r, c: b.c), speedup: b.efficiency / max(d, 1e-6), fill: d))
      }
    }
    if mode == .auto || mode == .csr {
      out.append(FormatEstimate(layout: .csr, speedup: csrEfficiency / max(s.density, 1e-6), fill: s.density))
    }
    return out
  }

  /// The reported density of r x c blocks (1 for a shape the analysis does not report).
  private static func blockDensity(_ s: WeightSparsity, r: Int, c: Int) -> Double {
    reportedBlockShapes.firstIndex { $0.r == r && $0.c == c }.map { s.blockDensities[$0] } ?? 1
  }

  /// The format for a layer: the fastest candidate when it beats dense by
  /// `minimumSpeedup`, else dense. A forced family takes its fastest candidate that skips
  /// anything (fill < 1), however slow.
  public static func choose(_ s: WeightSparsity?, mode: SparsityMode) -> FormatChoice {
    guard mode != .off else {
      return FormatChoice(layout: nil, estimatedSpeedup: 1, reason: "--sparsity off", candidates: [])
    }
    guard let s else {
      return FormatChoice(layout: nil, estimatedSpeedup: 1, reason: "weight not analyzable", candidates: [])
    }
    let all = candidates(s, mode: mode)
    // A forced family still needs something to skip.
    let sparse = all.dropFirst().filter { mode == .auto || $0.fill < 1 }.sorted { $0.speedup > $1.speedup }
    let runnerUp = sparse.dropFirst().first.map { "; next \($0)" } ?? ""
    guard let best = sparse.first else {
      return FormatChoice(layout: nil, estimatedSpeedup: 1,
                          reason: "no \(mode == .auto ? "sparse" : mode.rawValue) format fits the data exactly",
                          candidates: all)
    }
    if mode != .auto || best.speedup >= minimumSpeedup {
      return FormatChoice(layout: best.layout, estimatedSpeedup: best.speedup,
                          reason: "\(best) est.\(runnerUp)\(mode == .auto ? "" : " (forced \(mode.rawValue))")",
                          candidates: all)
    }
    return FormatChoice(layout: nil, estimatedSpeedup: 1,
                        reason: "best sparse \(best) < \(String(format: "%.2f", minimumSpeedup))x needed",
                        candidates: all)
  }
}
