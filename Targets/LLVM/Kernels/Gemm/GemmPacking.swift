//===--- GemmPacking.swift - compile-time panel layouts of constant operands ---===//
//
// The microkernel reads A as [K][rows] broadcasts and B as [K][vectors*lanes] rows of
// vectors. A constant operand is rearranged once, here, into exactly that order, K block
// by K block (the order the kernel walks them, so a weight larger than the caches streams
// from memory in one sequential pass instead of page-sized chunks a panel apart):
//
//   A[M,K] -> [K/kBlock][ceil(M/rows)][kc][rows]     B[K,N] -> [K/kBlock][ceil(N/width)][kc][width]
//
// zero-padded at the M and N edges; kc is kBlock but for a shorter last block. Panel p of
// the block at k0 starts at k0 * panels * rows + p * kc * rows (width for B).

/// Packs row-major A[m,k] into row panels of `rows`, K block by K block.
func packRowPanels(_ a: [Float], m: Int, k: Int, rows: Int, kBlock: Int) -> [Float] {
  packPanels(count: (m + rows - 1) / rows, of: rows, k: k, kBlock: kBlock) { p, kk, r in
    p * rows + r < m ? a[(p * rows + r) * k + kk] : 0
  }
}

/// Packs row-major B[k,n] into column panels of `width`, K block by K block.
func packColumnPanels(_ b: [Float], k: Int, n: Int, width: Int, kBlock: Int) -> [Float] {
  packPanels(count: (n + width - 1) / width, of: width, k: k, kBlock: kBlock) { p, kk, c in
    p * width + c < n ? b[kk * n + p * width + c] : 0
  }
}

/// `[K/kBlock][count][kc][size]` of `value(panel, k, lane)`.
private func packPanels(count: Int, of size: Int, k: Int, kBlock: Int,
                        _ value: (_ panel: Int, _ k: Int, _ lane: Int) -> Float) -> [Float] {
  var out = [Float]()
  out.reserveCapacity(count * k * size)
  for k0 in stride(from: 0, to: k, by: kBlock) {
    for p in 0..<count {
      for kk in k0..<min(k0 + kBlock, k) {
        for lane in 0..<size { out.append(value(p, kk, lane)) }
      }
    }
  }
  return out
}
