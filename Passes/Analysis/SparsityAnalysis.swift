//===--- SparsityAnalysis.swift - N:M patterns and block densities of GEMM weights ---===//
//
// For a gemm/conv with a constant weight, the weight is viewed as the GEMM's [rows, K]
// matrix with rows the output features and K the reduction axis:
//   gemm, transB    W [N, K]          -> rows N, K as stored
//   gemm, no transB W [K, N]          -> W^T
//   conv            W [O, C, kh, kw]  -> rows O, K in the order (kh, kw, Cin), Cin innermost
//                                        (NVIDIA ASP / SR-STE prune W.permute(0,2,3,1))
// and, for conv, also in the other plausible order (Cin, kh, kw) (plain flattening).
// Along each order we find the sparsest N:M pattern that holds exactly, block densities
// (the fraction of R x C blocks holding a non-zero) and the groups that violate the
// nearest N:M pattern (what a pruning step missed).

import SparrowIR

/// A weight's non-zero pattern as a [rows, k] matrix in GEMM K order.
public struct WeightMatrix: Sendable {
  public let rows: Int
  public let k: Int
  /// Row-major [rows][k].
  public let nonZero: [Bool]

  public init(rows: Int, k: Int, nonZero: [Bool]) {
    precondition(nonZero.count == rows * k, "mask of \(nonZero.count) for \(rows)x\(k)")
    self.rows = rows
    self.k = k
    self.nonZero = nonZero
  }

  /// The gemm/conv weight `w` as [rows, K] in the order kernels and pruning tools use:
  /// (kh, kw, Cin) for conv; transposed for a gemm without transB. nil for other ranks.
  public init?(weight w: Tensor, transposed: Bool, channelsInnermost: Bool = true) {
    let mask = nonZeroMask(w)
    switch w.shape.count {
    case 2:
      if transposed {
        self.init(rows: w.shape[0], k: w.shape[1], nonZero: mask)
      } else {
        let (kk, n) = (w.shape[0], w.shape[1])
        var t = [Bool](repeating: false, count: mask.count)
        for i in 0..<kk { for j in 0..<n { t[j * kk + i] = mask[i * n + j] } }
        self.init(rows: n, k: kk, nonZero: t)
      }
    case 4:
      let (o, c, spatial) = (w.shape[0], w.shape[1], w.shape[2] * w.shape[3])
      let k = c * spatial
      guard channelsInnermost else { self.init(rows: o, k: k, nonZero: mask); return }
      var t = [Bool](repeating: false, count: mask.count)
      for oi in 0..<o { for ci in 0..<c { for p in 0..<spatial {
        t[oi * k + p * c + ci] = mask[(oi * c + ci) * spatial + p]
      } } }
      self.init(rows: o, k: k, nonZero: t)
    default:
      return nil
    }
  }

  public var nonZeros: Int { nonZero.reduce(0) { $0 + ($1 ? 1 : 0) } }
  public var density: Double { nonZero.isEmpty ? 1 : Double(nonZeros) / Double(nonZero.count) }

  /// The number of M-groups along K holding more than `n` non-zeros (nil when K % m != 0).
  public func violations(n: Int, m: Int) -> Int? {
    guard m >= 1, k % m == 0 else { return nil }
    var bad = 0
    for r in 0..<rows {
      for k0 in stride(from: 0, to: k, by: m) {
        var count = 0
        for i in (r * k + k0)..<(r * k + k0 + m) where nonZero[i] { count += 1 }
        if count > n { bad += 1 }
      }
    }
    return bad
  }

  /// The maximum number of non-zeros in any M-group along K (nil when K % m != 0).
  public func maxPerGroup(m: Int) -> Int? {
    guard m >= 1, k % m == 0 else { return nil }
    var most = 0
    for g in 0..<(rows * k / m) {
      var count = 0
      for i in (g * m)..<(g * m + m) where nonZero[i] { count += 1 }
      most = max(most, count)
    }
    return most
  }

  /// The fraction of `r` x `c` blocks (edges padded) holding at least one non-zero.
  public func blockDensity(r: Int, c: Int) -> Double {
    let (br, bc) = ((rows + r - 1) / r, (k + c - 1) / c)
    guard br * bc > 0 else { return 1 }
    var filled = [Bool](repeating: false, count: br * bc)
    for i in 0..<rows { for j in 0..<k where nonZero[i * k + j] { filled[(i / r) * bc + j / c] = true } }
    return Double(filled.reduce(0) { $0 + ($1 ? 1 : 0) }) / Double(filled.count)
  }

  /// The sparsest N:M pattern (M in 4, 8, 16; N <= M / 2: 1:4, 2:4, 2:8, 4:8 ...) that
  /// holds exactly: the smallest N/M, ties to the smaller M (1:4 rather than 2:8, which
  /// 1:4 implies). nil when none (a 5:8 "pattern" is just a dense weight).
  public var sparsestNM: NMPattern? {
    var best: NMPattern?
    for m in NMPattern.groupSizes {
      guard let most = maxPerGroup(m: m), 2 * most <= m else { continue }
      let p = NMPattern(n: max(most, 1), m: m)
      if best == nil || p.ratio < best!.ratio { best = p }
    }
    return best
  }

  /// The N:M pattern nearest the density (N = density * M rounded, M in 4, 8, 16) that
  /// the fewest groups (as a fraction) violate, ties to the smaller M, with the number of
  /// violating groups: what pruning to N:M would still have to remove. nil when dense.
  public var nearestNM: (pattern: NMPattern, violations: Int)? {
    var best: (pattern: NMPattern, violations: Int, fraction: Double)?
    for m in NMPattern.groupSizes {
      let n = max(1, Int((density * Double(m)).rounded()))
      guard n < m, let bad = violations(n: n, m: m) else { continue }
      let fraction = Double(bad) / Double(max(1, rows * k / m))
      if best == nil || fraction < best!.fraction { best = (NMPattern(n: n, m: m), bad, fraction) }
    }
    return best.map { ($0.pattern, $0.violations) }
  }
}

/// N non-zeros in every M consecutive weights along K.
public struct NMPattern: Hashable, Sendable, CustomStringConvertible {
  public var n: Int
  public var m: Int
  public init(n: Int, m: Int) { self.n = n; self.m = m }
  public static let groupSizes = [4, 8, 16]
  public var ratio: Double { Double(n) / Double(m) }
  public var description: String { "\(n):\(m)" }
}

/// The block shapes the analysis reports (R rows x C reduction columns).
public let reportedBlockShapes: [(r: Int, c: Int)] = [(4, 1), (4, 4), (8, 1), (16, 1)]

/// What the analysis found for one GEMM-like layer's weight.
public struct WeightSparsity: Sendable {
  public var rows: Int
  public var k: Int
  public var density: Double
  /// The sparsest exact N:M along (kh, kw, Cin) (the GEMM K order; for gemm, along K).
  public var nm: NMPattern?
  /// The same along (Cin, kh, kw) (conv only).
  public var nmChannelsOuter: NMPattern?
  /// Which order holds an N:M pattern: "kh,kw,cin", "cin,kh,kw", "both", "none", or "k" for gemm.
  public var nmOrder: String
  /// The nearest N:M pattern and how many groups violate it (along the GEMM K order).
  public var nearest: NMPattern?
  public var nearestViolations: Int?
  /// Block densities for `reportedBlockShapes`, in that order.
  public var blockDensities: [Double]
}

/// Analyzes the weight of a gemm/conv (`transposed`: gemm's transB; ignored for conv).
public func analyzeWeight(_ w: Tensor, transposed: Bool) -> WeightSparsity? {
  guard let main = WeightMatrix(weight: w, transposed: transposed) else { return nil }
  // No zero at all (every dense layer): no pattern, every block filled. Skipping the
  // scans saves ~0.7 s of a dense ResNet-50's compile.
  if !main.nonZero.contains(false) {
    return WeightSparsity(rows: main.rows, k: main.k, density: 1, nm: nil, nmChannelsOuter: nil,
                          nmOrder: "none", nearest: nil, nearestViolations: nil,
                          blockDensities: reportedBlockShapes.map { _ in 1 })
  }
  let nm = main.sparsestNM
  var outer: NMPattern?
  var order = nm == nil ? "none" : "k"
  if w.shape.count == 4 {
    outer = WeightMatrix(weight: w, transposed: true, channelsInnermost: false)?.sparsestNM
    // A 1x1 conv has one order; report it like a gemm's K.
    if w.shape[2] * w.shape[3] == 1 {
      order = nm == nil ? "none" : "cin"
    } else {
      switch (nm != nil, outer != nil) {
      case (true, true): order = "both"
      case (true, false): order = "kh,kw,cin"
      case (false, true): order = "cin,kh,kw"
      case (false, false): order = "none"
      }
    }
  }
  let near = main.nearestNM
  return WeightSparsity(rows: main.rows, k: main.k, density: main.density, nm: nm, nmChannelsOuter: outer,
                        nmOrder: order, nearest: near?.pattern, nearestViolations: near?.violations,
                        blockDensities: reportedBlockShapes.map { main.blockDensity(r: $0.r, c: $0.c) })
}
