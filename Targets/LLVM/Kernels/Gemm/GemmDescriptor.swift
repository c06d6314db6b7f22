//===--- GemmDescriptor.swift - what a generated GEMM computes, and its tiling ---===//
//
//   C[M,N] = act(A[M,K] · B[K,N] + bias + residual)
//
// Either operand may be a compile-time constant (a weight: packed at compile time into
// the layout the microkernel reads and embedded as a read-only global) or a run-time
// argument (row-major, contiguous). The conv orientation is W[Cout,K] · im2col[K,P]
// (constant A); gemm/matmul is X[M,K] · W[K,N] (constant B).

/// One operand of a generated GEMM.
public enum GemmOperand: Sendable {
  /// Passed to the kernel at run time, row-major and contiguous.
  case argument
  /// Known at compile time, row-major.
  case constant([Float])
  /// B only: a convolution's column matrix, gathered from the run-time argument (its
  /// zero-bordered input planes) while packing (ConvolutionColumns.swift).
  case convolutionColumns(ConvolutionColumns)
  /// B only: passed at run time already packed in the constant layout
  /// (`packColumnPanels` with this GEMM's tiling), e.g. one of several weight tables the
  /// caller picks from (WinogradConvNHWC.swift).
  case packed

  var isConstant: Bool { if case .constant = self { return true } else { return false } }
  /// Read from panels packed ahead of time: a constant or `packed`.
  var isPrepacked: Bool {
    switch self {
    case .constant, .packed: return true
    case .argument, .convolutionColumns: return false
    }
  }
}

/// An elementwise activation applied on the accumulators before the store.
public enum Activation: Sendable, Equatable {
  case none, relu
  case clip(min: Float, max: Float)
  case leakyRelu(alpha: Float)
  case sigmoid, tanh, hardSwish
  /// x * sigmoid(x).
  case silu
  /// 0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation.
  case gelu(tanhApproximation: Bool)
}

/// One step of a GEMM epilogue, after the bias.
public enum GemmEpilogueStep: Sendable, Equatable {
  /// Adds the run-time residual tensor (shaped like C).
  case addResidual
  case activation(Activation)
}

/// Bias added to every row or every column of C.
public enum GemmBias: Sendable {
  case none
  /// One value per row of C (conv: per output channel).
  case perRow([Float])
  /// One value per column of C (gemm: per output feature).
  case perColumn([Float])
}

/// The fused epilogue: + bias, then `steps` in order.
public struct GemmEpilogue: Sendable {
  public var bias: GemmBias
  /// At most one `.addResidual`.
  public var steps: [GemmEpilogueStep]

  public init(bias: GemmBias = .none, steps: [GemmEpilogueStep]) {
    precondition(steps.filter { $0 == .addResidual }.count <= 1, "one residual at most")
    self.bias = bias
    self.steps = steps
  }

  /// + bias, + residual, activation.
  public init(bias: GemmBias = .none, residual: Bool = false, activation: Activation = .none) {
    self.init(bias: bias, steps: (residual ? [.addResidual] : [])
      + (activation == .none ? [] : [.activation(activation)]))
  }

  /// Whether a run-time residual is added.
  public var residual: Bool { steps.contains(.addResidual) }
}

/// Register and cache blocking.
public struct GemmTiling: Sendable, Equatable, CustomStringConvertible {
  /// Rows of C per microkernel (broadcasts of A).
  public var rows: Int
  /// Vectors of C per microkernel row.
  public var vectors: Int
  /// Depth of one K block (A and B slices of this depth stay in cache).
  public var kBlock: Int
  /// Columns of C per N block (a multiple of rows' panel width).
  public var nBlock: Int

  public init(rows: Int, vectors: Int, kBlock: Int, nBlock: Int) {
    self.rows = rows
    self.vectors = vectors
    self.kBlock = kBlock
    self.nBlock = nBlock
  }

  public var description: String { "\(rows)x\(vectors)v kc=\(kBlock) nc=\(nBlock)" }
}

/// A GEMM to generate.
public struct GemmDescriptor: Sendable {
  public var m: Int, n: Int, k: Int
  public var a: GemmOperand
  public var b: GemmOperand
  public var epilogue: GemmEpilogue
  /// Forces a tiling (benchmarks); nil chooses one from the shape.
  public var tiling: GemmTiling?
  /// A (a run-time argument) and C (and the residual) are stored transposed, as [K][M]
  /// and [N][M]: a pointwise conv with few positions computes Yᵀ = Xᵀ · Wᵀ with vectors
  /// along the output channels (Conv.swift). C is stored by transposing the register tile.
  public var transposedAC = false

  public init(m: Int, n: Int, k: Int, a: GemmOperand, b: GemmOperand,
              epilogue: GemmEpilogue = GemmEpilogue(), tiling: GemmTiling? = nil) {
    precondition(m > 0 && n > 0 && k > 0, "empty GEMM \(m)x\(n)x\(k)")
    if case let .constant(v) = a { precondition(v.count == m * k, "A has \(v.count) values") }
    if case let .constant(v) = b { precondition(v.count == k * n, "B has \(v.count) values") }
    self.m = m
    self.n = n
    self.k = k
    self.a = a
    self.b = b
    self.epilogue = epilogue
    self.tiling = tiling
  }

  /// Floats of scratch the kernel needs (B panels packed at run time).
  func scratchFloats(_ t: GemmTiling, lanes: Int) -> Int {
    b.isPrepacked ? 0 : t.nBlock * t.kBlock
  }
}

extension GemmTiling {
  /// The register tile with the least wasted work for this shape (tails compute only
  /// the vectors they need; few accumulators are latency-bound), with K blocks of at
  /// most ~384 and B blocks of ~384 KiB (L2).
  public static func choose(m: Int, n: Int, k: Int, lanes: Int) -> GemmTiling {
    let (rows, vectors) = candidates(lanes: lanes).min {
      cost(m: m, n: n, lanes: lanes, rows: $0.0, vectors: $0.1) < cost(m: m, n: n, lanes: lanes, rows: $1.0, vectors: $1.1)
    }!
    let blocks = (k + 383) / 384
    let kBlock = (k + blocks - 1) / blocks
    let width = vectors * lanes
    let panels = max(1, (384 * 1024 / 4) / (kBlock * width))
    let nBlock = min(panels, (n + width - 1) / width) * width
    return GemmTiling(rows: rows, vectors: vectors, kBlock: kBlock, nBlock: nBlock)
  }

  /// The register tiles `choose` picks from.
  static func candidates(lanes: Int) -> [(Int, Int)] {
    lanes == 16 ? [(6, 4), (8, 3), (12, 2), (4, 6)] : [(6, 2), (4, 3), (8, 1)]
  }

  /// Vector FMAs per step of K the best register tile issues for an m x n C (counting
  /// the lanes tails waste and latency-bound tiles as at least 10 accumulators).
  public static func cost(m: Int, n: Int, lanes: Int) -> Int {
    candidates(lanes: lanes).map { cost(m: m, n: n, lanes: lanes, rows: $0.0, vectors: $0.1) }.min()!
  }

  /// Whether C = A · B (A constant, m x n) runs faster as Cᵀ = Bᵀ · Aᵀ with transposed
  /// A and C (`GemmDescriptor.transposedAC`): when the lanes along N go to waste (at
  /// least 15 % fewer vector FMAs along M, which pays for transposing C).
  public static func prefersTransposed(m: Int, n: Int, lanes: Int) -> Bool {
    cost(m: n, n: m, lanes: lanes) * 100 <= cost(m: m, n: n, lanes: lanes) * 85
  }

  static func cost(m: Int, n: Int, lanes: Int, rows r: Int, vectors v: Int) -> Int {
    let minimumAccumulators = 10
    let width = v * lanes
    let fullPanels = n / width
    let tailVectors = (n % width + lanes - 1) / lanes
    func tileCost(_ rows: Int, _ vecs: Int) -> Int { max(rows * vecs, minimumAccumulators) }
    func rowCost(_ rows: Int) -> Int {
      fullPanels * tileCost(rows, v) + (tailVectors > 0 ? tileCost(rows, tailVectors) : 0)
    }
    return (m / r) * rowCost(r) + (m % r > 0 ? rowCost(m % r) : 0)
  }
}
