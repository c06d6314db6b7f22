//===--- GemmPacking.swift - compile-time panel layouts of constant operands ---===//
//
// The microkernel reads A as [K][rows] broadcasts and B as [K][vectors*lanes] rows of
// vectors. A constant operand is rearranged once, here, into exactly that order:
//
//   A[M,K] -> [ceil(M/rows)][K][rows]     B[K,N] -> [ceil(N/width)][K][width]
//
// zero-padded at the M and N edges, so panel p starts at p * K * rows (or width).

/// Packs row-major A[m,k] into row panels of `rows`.
func packRowPanels(_ a: [Float], m: Int, k: Int, rows: Int) -> [Float] {
  let panels = (m + rows - 1) / rows
  var out = [Float](repeating: 0, count: panels * k * rows)
  a.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      for p in 0..<panels {
        for r in 0..<min(rows, m - p * rows) {
          let row = (p * rows + r) * k
          for kk in 0..<k { dst[(p * k + kk) * rows + r] = src[row + kk] }
        }
      }
    }
  }
  return out
}

/// Packs row-major B[k,n] into column panels of `width`.
func packColumnPanels(_ b: [Float], k: Int, n: Int, width: Int) -> [Float] {
  let panels = (n + width - 1) / width
  var out = [Float](repeating: 0, count: panels * k * width)
  b.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      for p in 0..<panels {
        let cols = min(width, n - p * width)
        for kk in 0..<k {
          for c in 0..<cols { dst[(p * k + kk) * width + c] = src[kk * n + p * width + c] }
        }
      }
    }
  }
  return out
}
