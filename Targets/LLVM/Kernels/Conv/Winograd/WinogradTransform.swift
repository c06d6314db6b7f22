//===--- WinogradTransform.swift - F(2x2,3x3) and F(4x4,3x3) matrices ---===//
//
// Winograd's minimal filtering (Lavin & Gray 2016): an m x m output tile of a 3x3
// convolution reads an alpha x alpha input tile d (alpha = m + 2) and is
//
//   Y = A^T [ Σ_c (G g_c G^T) ⊙ (B^T d_c B) ] A
//
// so per tile and channel pair the alpha² elementwise products replace 9 m² multiplies:
// F(2x2,3x3) does 16 instead of 36 (2.25x fewer), F(4x4,3x3) 36 instead of 144 (4x),
// at the price of larger transform constants and so larger rounding errors.
// The weight side U = G g G^T is computed here at compile time (in Double).

/// Which Winograd tile a conv uses (the conv `algorithm` "winograd2" / "winograd4").
import SparrowIR

enum WinogradTile: Int {
  /// F(2x2, 3x3).
  case f2 = 2
  /// F(4x4, 3x3).
  case f4 = 4

  init?(_ algorithm: ConvAlgorithm) {
    switch algorithm {
    case .winograd2: self = .f2
    case .winograd4: self = .f4
    case .direct, .gemm1x1, .depthwise, .im2col: return nil
    }
  }

  /// Output tile side m.
  var outputSide: Int { rawValue }
  /// Input tile side alpha = m + 2.
  var inputSide: Int { rawValue + 2 }

  /// B^T [alpha x alpha]: the input transform V = B^T d B.
  var inputTransposed: [[Double]] {
    switch self {
    case .f2:
      return [[1, 0, -1, 0],
              [0, 1, 1, 0],
              [0, -1, 1, 0],
              [0, 1, 0, -1]]
    case .f4:
      return [[4, 0, -5, 0, 1, 0],
              [0, -4, -4, 1, 1, 0],
              [0, 4, -4, -1, 1, 0],
              [0, -2, -1, 2, 1, 0],
              [0, 2, -1, -2, 1, 0],
              [0, 4, 0, -5, 0, 1]]
    }
  }

  /// G [alpha x 3]: the weight transform U = G g G^T.
  var weight: [[Double]] {
    switch self {
    case .f2:
      return [[1, 0, 0],
              [0.5, 0.5, 0.5],
              [0.5, -0.5, 0.5],
              [0, 0, 1]]
    case .f4:
      return [[1.0 / 4, 0, 0],
              [-1.0 / 6, -1.0 / 6, -1.0 / 6],
              [-1.0 / 6, 1.0 / 6, -1.0 / 6],
              [1.0 / 24, 1.0 / 12, 1.0 / 6],
              [1.0 / 24, -1.0 / 12, 1.0 / 6],
              [0, 0, 1]]
    }
  }

  /// A^T [m x alpha]: the output transform Y = A^T M A.
  var outputTransposed: [[Double]] {
    switch self {
    case .f2:
      return [[1, 1, 1, 0],
              [0, 1, -1, -1]]
    case .f4:
      return [[1, 1, 1, 1, 1, 0],
              [0, 1, -1, 2, -2, 0],
              [0, 1, 1, 4, 4, 0],
              [0, 1, -1, 8, -8, 1]]
    }
  }

  /// U = G g G^T for every (output, input) channel pair of a [Cout, Cin, 3, 3] weight,
  /// laid out [alpha²][Cout][Cin]: one row-major GEMM operand per transform position.
  func transformedWeights(_ w: [Float], outChannels: Int, inChannels: Int) -> [Float] {
    precondition(w.count == outChannels * inChannels * 9, "a [Cout, Cin, 3, 3] weight")
    let alpha = inputSide, g = weight
    let pairs = outChannels * inChannels
    var u = [Float](repeating: 0, count: alpha * alpha * pairs)
    for pair in 0..<pairs {
      let kernel = w[pair * 9 ..< pair * 9 + 9].map(Double.init)
      // t = G g: alpha x 3.
      var t = [Double](repeating: 0, count: alpha * 3)
      for i in 0..<alpha { for j in 0..<3 { t[i * 3 + j] = (0..<3).reduce(0) { $0 + g[i][$1] * kernel[$1 * 3 + j] } } }
      for i in 0..<alpha {
        for j in 0..<alpha {
          let v = (0..<3).reduce(0) { $0 + t[i * 3 + $1] * g[j][$1] }
          u[(i * alpha + j) * pairs + pair] = Float(v)
        }
      }
    }
    return u
  }
}

extension CodegenModule {
  /// Σ_j matrix[i][j] · x[j] for every row i, skipping zero coefficients and multiplying
  /// by ±1 as adds and subtracts. `x` are vectors (or scalars) of one type.
  func linearCombinations(_ matrix: [[Double]], _ x: [Value]) -> [Value] {
    matrix.map { row in
      var sum: Value?
      for (c, v) in zip(row, x) where c != 0 {
        if let s = sum {
          if c == 1 { sum = fadd(s, v) } else if c == -1 { sum = fsub(s, v) }
          else { sum = fma(constant(Float(c), like: v), v, s) }
        } else {
          sum = c == 1 ? v : fmul(constant(Float(c), like: v), v)
        }
      }
      return sum ?? constant(0, like: x[0])
    }
  }

  /// matrix · X · matrixᵀ for an n x n grid X of values (row-major), matrix k x n.
  func sandwich(_ matrix: [[Double]], _ x: [Value], side n: Int) -> [Value] {
    let k = matrix.count
    // Columns first: T = matrix · X  (k x n), column by column.
    var t = [Value](repeating: x[0], count: k * n)
    for j in 0..<n {
      let column = (0..<n).map { x[$0 * n + j] }
      for (i, v) in linearCombinations(matrix, column).enumerated() { t[i * n + j] = v }
    }
    // Then rows: R = T · matrixᵀ (k x k).
    var r: [Value] = []
    for i in 0..<k { r += linearCombinations(matrix, Array(t[i * n ..< i * n + n])) }
    return r
  }
}
