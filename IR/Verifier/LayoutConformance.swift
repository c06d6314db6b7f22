//===--- LayoutConformance.swift - does a weight's data fit its sparse layout ---===//
//
//   #nm<N,M>  rank 2 [rows, K]: at most N non-zeros in every M consecutive elements of
//             each row (K % M == 0); rank 4 conv weights [O, C, kh, kw]: at most N
//             non-zeros in every M consecutive input channels at each (o, kh, kw)
//             (C % M == 0).
//   #bsr<R,C> rank 2 [rows, cols] (rank 4 [O, C, kh, kw] viewed as [O, C*kh*kw]): rows
//             divisible by R, cols by C.
//   #csr      any data.
//
// Used by the verifier and by the sparsity passes before they attach a layout.

/// Why `tensor`'s data does not conform to `layout`, or nil when it does. A non-zero is
/// any element that is not exactly zero (NaN counts as non-zero).
public func layoutViolation(of tensor: Tensor, layout: SparseLayout) -> String? {
  let shape = tensor.shape
  if case .nm = layout, shape.count == 2 || shape.count == 4 {
    return nmViolation(nonZeroMask(tensor), shape: shape, layout: layout)
  }
  switch layout {
  case .csr:
    return nil
  case let .bsr(r, c):
    guard let (rows, cols) = matrixView(shape) else {
      return "#bsr<\(r),\(c)> needs a rank-2 or rank-4 weight, got shape \(shape)"
    }
    guard r >= 1, c >= 1, rows % r == 0, cols % c == 0 else {
      return "#bsr<\(r),\(c)> needs rows divisible by \(r) and columns by \(c), got \(rows)x\(cols)"
    }
    return nil
  case let .nm(n, m):
    return "#nm<\(n),\(m)> needs a rank-2 [rows, K] or rank-4 [O, C, kh, kw] weight, got shape \(shape)"
  }
}

/// Whether each element is non-zero (anything but exactly zero; NaN counts as non-zero).
public func nonZeroMask(_ tensor: Tensor) -> [Bool] {
  if tensor.element == .f32 {
    return tensor.withUnsafeBuffer(of: Float.self) { buffer in buffer.map { $0 != 0 } }
  }
  return (0..<tensor.count).map { tensor.double(at: $0) != 0 }
}

/// The N:M check on a rank-2 or rank-4 weight's non-zero mask.
private func nmViolation(_ nonZero: [Bool], shape: [Int], layout: SparseLayout) -> String? {
  guard case let .nm(n, m) = layout else { return nil }
  guard n >= 1, m >= 1, n <= m else { return "#nm<\(n),\(m)> needs 1 <= N <= M" }
  if shape.count == 2 {
    let (rows, k) = (shape[0], shape[1])
    guard k % m == 0 else {
      return "#nm<\(n),\(m)> needs the reduction size divisible by \(m), got \(k) in shape \(shape)"
    }
    for row in 0..<rows {
      for k0 in stride(from: 0, to: k, by: m) {
        var nonZeros = 0
        for i in k0..<(k0 + m) where nonZero[row * k + i] { nonZeros += 1 }
        if nonZeros > n { return "#nm<\(n),\(m)>: \(nonZeros) non-zeros in row \(row), elements \(k0)..<\(k0 + m)" }
      }
    }
    return nil
  }
  // [O, C, kh, kw]: consecutive channels at one (o, kh, kw) are kh*kw apart.
  let (o, ch, kw) = (shape[0], shape[1], shape[3])
  let spatial = shape[2] * shape[3]
  guard ch % m == 0 else {
    return "#nm<\(n),\(m)> needs input channels divisible by \(m), got \(ch) in shape \(shape)"
  }
  for oi in 0..<o {
    for p in 0..<spatial {
      for c0 in stride(from: 0, to: ch, by: m) {
        var nonZeros = 0
        for c in c0..<(c0 + m) where nonZero[(oi * ch + c) * spatial + p] { nonZeros += 1 }
        if nonZeros > n {
          return "#nm<\(n),\(m)>: \(nonZeros) non-zeros in channels \(c0)..<\(c0 + m) of output channel \(oi) at position (\(p / max(kw, 1)), \(p % max(kw, 1)))"
        }
      }
    }
  }
  return nil
}

/// [rows, cols] for rank 2, [O, C*kh*kw] for rank 4.
private func matrixView(_ shape: [Int]) -> (Int, Int)? {
  switch shape.count {
  case 2: return (shape[0], shape[1])
  case 4: return (shape[0], shape[1] * shape[2] * shape[3])
  default: return nil
  }
}
