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
// "Weight sparsity"): 2:4 1.5-1.8x and 1:4 2.6-3.4x -> N:M 0.78; unstructured 80% 3.0x ->
// CSR 0.60; BSR 4x4 at 90% ~7.9x -> 0.78. A format must beat dense by `minimumSpeedup`
// to be chosen: a wrong guess near 1x costs more than it gains.
//
// The dense alternative is the kernel the layer will actually run: for a conv that
// lower-conv gives a Winograd algorithm, dense runs `winogradSpeedup` times faster than
// the im2col GEMM the sparse estimates are relative to, so a format must beat that
// (e.g. "#nm<2,4> 1.56x < 1.10 x dense (winograd4) 1.55x est."). A converted conv goes
// back to the GEMM form (Sparsify). choose-conv-layout asks first, against the NHWC
// Winograd conv a dense one would become there (`channelsLast`, 1.7-2.3x), and keeps NCHW
// only the convs that beat it; sparsify then sees those against the NCHW Winograd.
//
// Shape: the sparse kernel vectorizes over the columns of the weight-left form (a gemm
// layer's tokens, a conv's output positions; 16 lanes a vector) while the dense GEMM
// fills its lanes whatever the shape (a gemm vectorizes over the weight's rows; the LLVM
// target runs a conv over few positions transposed, vectors along the output channels),
// so few tokens leave only sparse lanes empty: the sparse estimates are scaled by the
// lane fill tokens / (16 * ceil(tokens / 16)) (ResNet-50's fc, 1 token: 1/16, so dense;
// it measured 2.2x slower as #nm<1,4>). A conv over fewer positions than one panel also
// slows the dense GEMM (`convLaneFill`): ResNet-50's 7x7 convs, 49 positions, fill 0.77,
// count 0.90, so their 2:4 estimate is 1.41x (with the tables read in order, the 3x3/s1
// ones measured 1.44x faster than on Winograd F(2x2)).
//
// Every rate above is the target's (`TargetDescription.kernels`, read from the pass
// context): the numbers quoted are the Zen 4 entry's, the reference; `sparrowc tune`
// measures them on the machine at hand. The lane count is the target's vector width.

import SparrowIR
import SparrowTargetSupport

/// The user's choice: `auto` (the cost model), `off`, or one format family forced
/// wherever the data allows it exactly.
public enum SparsityMode: String, CaseIterable, Sendable {
  case auto, off, nm, bsr, csr
}

/// One candidate format for a layer and its estimated speedup over the dense GEMM.
public struct FormatEstimate: Sendable, CustomStringConvertible {
  public var layout: SparseLayout?
  /// Estimated speedup over the dense GEMM (im2col for a conv).
  public var speedup: Double
  /// The fraction of the dense weight the format stores and computes (1 for dense).
  public var fill: Double = 1
  /// For dense: the conv algorithm it runs when that is not the GEMM ("winograd4").
  public var algorithm: ConvAlgorithm? = nil
  public var description: String {
    let name = layout.map { "\($0)" } ?? (algorithm.map { "dense (\($0.rawValue))" } ?? "dense")
    return "\(name) \(String(format: "%.2f", speedup))x"
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
  /// A policy, not a machine rate: how much a format must beat dense by.
  public static let minimumSpeedup = 1.10
  /// Measured speedups of the Winograd convs over the im2col GEMM (1 thread, LLVM target,
  /// ResNet-50 profiles of 2026-12-04, bench/sparse-cost-model.md): F(4x4) by output
  /// positions, 64@56 1.57x, 128@28 1.31x, 256@14 1.18x (fewer positions: fewer tiles per
  /// GEMM); F(2x2), 512@7, 1.15x. (2.5 and 1.5 before the GEMM gathered its columns while
  /// packing.) `channelsLast`: the Winograd conv runs NHWC (WinogradConvNHWC.swift, the
  /// GEMMs vectorized over channels), measured against the same NCHW im2col GEMM
  /// (ResNet-50 profiles, 2026-12-04 fourth session): F(4x4) 64@56 2.27x, 128@28 2.34x,
  /// 256@14 2.1x; F(2x2) 512@7 1.69x. Nil for an algorithm that is not a Winograd tile.
  public static func winogradSpeedup(_ algorithm: ConvAlgorithm, positions: Int?, channelsLast: Bool = false,
                                     on target: TargetDescription = .reference) -> Double? {
    let tile: Int
    switch algorithm {
    case .winograd2: tile = 2
    case .winograd4: tile = 4
    case .direct, .gemm1x1, .depthwise, .im2col: return nil
    }
    // A description without a rate for this tile (a hand-written tuning file) says nothing: 1.
    return target.kernels.winogradSpeedup(tile: tile, positions: positions ?? 784, channelsLast: channelsLast) ?? 1
  }

  /// The dense kernel's speedup over the GEMM the sparse estimates are relative to: the
  /// measured Winograd speedup for winograd2/winograd4, else 1.
  public static func denseSpeedup(algorithm: ConvAlgorithm?, positions: Int? = nil, channelsLast: Bool = false,
                                  on target: TargetDescription = .reference) -> Double {
    algorithm.flatMap { winogradSpeedup($0, positions: positions, channelsLast: channelsLast, on: target) } ?? 1
  }

  /// The formats `w` (the gemm/conv weight, `transposed` = gemm's transB) allows exactly,
  /// with estimated speedups; `mode` limits the families. Dense is always first.
  /// `denseAlgorithm` is the conv algorithm the dense weight runs (nil: the GEMM).
  /// `tokens`: a gemm layer's rows of X or a conv's output positions (the sparse kernel's
  /// vector direction; nil: whole vectors).
  public static func candidates(_ s: WeightSparsity, mode: SparsityMode,
                                denseAlgorithm: ConvAlgorithm? = nil, tokens: Int? = nil,
                                conv: Bool = false, channelsLast: Bool = false,
                                on target: TargetDescription = .reference) -> [FormatEstimate] {
    let k = target.kernels
    let dense = denseSpeedup(algorithm: denseAlgorithm, positions: tokens, channelsLast: channelsLast, on: target)
    let fill = conv ? convLaneFill(positions: tokens, lanes: target.lanes, denseRate: k.fewPositionsDenseRate)
      : laneFill(tokens: tokens, lanes: target.lanes)
    var out = [FormatEstimate(layout: nil, speedup: dense, algorithm: dense == 1 ? nil : denseAlgorithm)]
    if mode == .auto || mode == .nm, let p = s.nm {
      out.append(FormatEstimate(layout: .nm(n: p.n, m: p.m), speedup: fill * k.nmEfficiency / p.ratio, fill: p.ratio))
    }
    if mode == .auto || mode == .bsr {
      for b in k.blocks where s.rows % b.rows == 0 && s.k % b.cols == 0 {
        let d = blockDensity(s, r: b.rows, c: b.cols)
        out.append(FormatEstimate(layout: .bsr(r: b.rows, c: b.cols), speedup: fill * b.efficiency / max(d, 1e-6), fill: d))
      }
    }
    if mode == .auto || mode == .csr {
      out.append(FormatEstimate(layout: .csr, speedup: fill * k.csrEfficiency / max(s.density, 1e-6), fill: s.density))
    }
    return out
  }

  /// The dense conv GEMM over fewer positions than one 16 x 4 panel (ResNet-50's 7x7
  /// stage) runs transposed at ~0.8 of its rate elsewhere (76-84 against 91-133 GFLOP/s,
  /// bench/RESULTS.md), so the sparse kernel loses less there than its lane fill says:
  /// 2:4 ran those layers 1.07-1.21x faster than dense (two profiles, 2026-12-04), where
  /// the fill alone (0.77) estimated 1.07x. (`KernelRates.fewPositionsDenseRate`, 0.85
  /// on Zen 4.)

  /// `laneFill` of a conv over `positions` outputs, relative to the dense GEMM's rate on it.
  public static func convLaneFill(positions: Int?, lanes: Int = 16,
                                  denseRate: Double = TargetDescription.reference.kernels.fewPositionsDenseRate) -> Double {
    let fill = laneFill(tokens: positions, lanes: lanes)
    guard let positions, positions < 4 * lanes else { return fill }
    return min(1, fill / denseRate)
  }

  /// The share of the sparse kernel's vector lanes a gemm with `tokens` rows of X fills.
  public static func laneFill(tokens: Int?, lanes: Int = 16) -> Double {
    guard let tokens, tokens > 0 else { return 1 }
    return Double(tokens) / Double((tokens + lanes - 1) / lanes * lanes)
  }

  /// The reported density of r x c blocks (1 for a shape the analysis does not report).
  private static func blockDensity(_ s: WeightSparsity, r: Int, c: Int) -> Double {
    reportedBlockShapes.firstIndex { $0.r == r && $0.c == c }.map { s.blockDensities[$0] } ?? 1
  }

  /// The format for a layer: the fastest candidate when it beats dense (running
  /// `denseAlgorithm`, nil: the GEMM) by `minimumSpeedup`, else dense. A forced family
  /// takes its fastest candidate that skips anything (fill < 1), however slow, even
  /// against Winograd. `channelsLast`: a dense Winograd conv would run NHWC.
  public static func choose(_ s: WeightSparsity?, mode: SparsityMode, denseAlgorithm: ConvAlgorithm? = nil,
                            tokens: Int? = nil, conv: Bool = false, channelsLast: Bool = false,
                            on target: TargetDescription = .reference) -> FormatChoice {
    let denseAlone = denseSpeedup(algorithm: denseAlgorithm, positions: tokens, channelsLast: channelsLast, on: target)
    guard mode != .off else {
      return FormatChoice(layout: nil, estimatedSpeedup: denseAlone, reason: "--sparsity off", candidates: [])
    }
    guard let s else {
      return FormatChoice(layout: nil, estimatedSpeedup: denseAlone, reason: "weight not analyzable", candidates: [])
    }
    let all = candidates(s, mode: mode, denseAlgorithm: denseAlgorithm, tokens: tokens, conv: conv,
                         channelsLast: channelsLast, on: target)
    let dense = all[0]
    // A forced family still needs something to skip.
    let sparse = all.dropFirst().filter { mode == .auto || $0.fill < 1 }.sorted { $0.speedup > $1.speedup }
    let runnerUp = sparse.dropFirst().first.map { "; next \($0)" } ?? ""
    guard let best = sparse.first else {
      return FormatChoice(layout: nil, estimatedSpeedup: dense.speedup,
                          reason: "no \(mode == .auto ? "sparse" : mode.rawValue) format fits the data exactly",
                          candidates: all)
    }
    // Forced against a faster dense Winograd: say so.
    let slower = dense.speedup > best.speedup ? "; \(dense) est." : ""
    if mode != .auto || best.speedup >= minimumSpeedup * dense.speedup {
      return FormatChoice(layout: best.layout, estimatedSpeedup: best.speedup,
                          reason: "\(best) est.\(runnerUp)\(mode == .auto ? "" : " (forced \(mode.rawValue)\(slower))")",
                          candidates: all)
    }
    if dense.speedup > 1 {
      return FormatChoice(layout: nil, estimatedSpeedup: dense.speedup,
                          reason: "\(best) < \(String(format: "%.2f", minimumSpeedup)) x \(dense) est.", candidates: all)
    }
    return FormatChoice(layout: nil, estimatedSpeedup: 1,
                        reason: "best sparse \(best) < \(String(format: "%.2f", minimumSpeedup))x needed",
                        candidates: all)
  }
}
