//===--- Softmax.swift - softmax, log_softmax, hardmax on one axis --------===//
//
// Opset-13 semantics: the normalization runs along `axis` only (the frontend rewrites
// older opsets' "flatten from axis" form). Softmax subtracts the row maximum before
// exponentiating and sums in Double. Hardmax puts 1 at the first maximum.

import SparrowIR

struct SoftmaxKernel: FloatKernel {
  let k: KernelArgs

  func run<T: KernelFloat>(_: T.Type) throws -> TensorRef {
    let x = k.inputs[0]
    let v = ReductionView(x, axis: k.attributes.int("axis"))
    let (outer, n, inner) = (v.outer, v.reduced, v.inner)
    let kind = k.kind
    return x.withElements(T.self) { p in
      k.result(of: T.self) { y in
        if n == 0 { return }
        if inner == 1 {
          for o in 0..<outer { lane(kind, p + o * n, y + o * n, n) }
        } else {
          var m = [T](repeating: 0, count: inner), s = [Double](repeating: 0, count: inner)
          m.withUnsafeMutableBufferPointer { m in
            s.withUnsafeMutableBufferPointer { s in
              for o in 0..<outer {
                block(kind, p + o * n * inner, y + o * n * inner, n, inner, m.baseAddress!, s.baseAddress!)
              }
            }
          }
        }
      }
    }
  }

  /// One [n, inner] block, normalizing along n with contiguous loops over inner.
  @inline(__always)
  private func block<T: KernelFloat>(_ kind: OpKind, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                     _ n: Int, _ inner: Int, _ m: UnsafeMutablePointer<T>,
                                     _ s: UnsafeMutablePointer<Double>) {
    // Column maxima (hardmax keeps the row index of each in `s`).
    for i in 0..<inner { m[i] = x[i]; s[i] = 0 }
    for r in 1..<n {
      let row = x + r * inner
      for i in 0..<inner where row[i] > m[i] || (row[i].isNaN && !m[i].isNaN) {
        m[i] = row[i]
        s[i] = Double(r)
      }
    }
    if kind == .hardmax {
      for j in 0..<n * inner { y[j] = 0 }
      for i in 0..<inner { y[Int(s[i]) * inner + i] = 1 }
      return
    }
    for i in 0..<inner { s[i] = 0 }
    for r in 0..<n {
      let (src, dst) = (x + r * inner, y + r * inner)
      for i in 0..<inner {
        let e = T.fastExp(src[i] - m[i])
        dst[i] = e
        s[i] += Double(e)
      }
    }
    if kind == .log_softmax {
      for i in 0..<inner { m[i] += T(Double.log(s[i])) }
      for r in 0..<n {
        let (src, dst) = (x + r * inner, y + r * inner)
        for i in 0..<inner { dst[i] = src[i] - m[i] }
      }
    } else {
      for i in 0..<inner { s[i] = 1 / s[i] }
      for r in 0..<n {
        let dst = y + r * inner
        for i in 0..<inner { dst[i] *= T(s[i]) }
      }
    }
  }

  /// Sum in Double with four independent accumulators.
  @inline(__always)
  private func sum<T: KernelFloat>(_ y: UnsafeMutablePointer<T>, _ n: Int) -> Double {
    var s = (0.0, 0.0, 0.0, 0.0)
    var r = 0
    while r + 4 <= n {
      s.0 += Double(y[r]); s.1 += Double(y[r + 1]); s.2 += Double(y[r + 2]); s.3 += Double(y[r + 3])
      r += 4
    }
    while r < n { s.0 += Double(y[r]); r += 1 }
    return (s.0 + s.1) + (s.2 + s.3)
  }

  /// One contiguous lane of `n` elements.
  @inline(__always)
  private func lane<T: KernelFloat>(_ kind: OpKind, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                    _ n: Int) {
    var m = x[0], at = 0
    for r in 1..<n where x[r] > m || (x[r].isNaN && !m.isNaN) {
      m = x[r]
      at = r
    }
    switch kind {
    case .hardmax:
      for r in 0..<n { y[r] = 0 }
      y[at] = 1
    case .log_softmax:
      for r in 0..<n { y[r] = T.fastExp(x[r] - m) }
      let shift = m + T(Double.log(sum(y, n)))
      for r in 0..<n { y[r] = x[r] - shift }
    default:
      for r in 0..<n { y[r] = T.fastExp(x[r] - m) }
      let scale = T(1 / sum(y, n))
      for r in 0..<n { y[r] *= scale }
    }
  }
}
