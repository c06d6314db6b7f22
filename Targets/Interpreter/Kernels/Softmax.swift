//===--- Softmax.swift - softmax, log_softmax, hardmax on one axis --------===//
//
// Opset-13 semantics: the normalization runs along `axis` only (the frontend rewrites
// older opsets' "flatten from axis" form). Softmax subtracts the row maximum before
// exponentiating and sums in Double. Hardmax puts 1 at the first maximum.

import SparrowIR

struct SoftmaxKernel: FloatKernel {
  let k: KernelArgs

  func run<T: KernelFloat>(_: T.Type) throws -> Tensor {
    let x = k.inputs[0]
    let v = ReductionView(x, axis: k.attributes.int("axis"), scalarOK: true)
    let (outer, n, inner) = (v.outer, v.reduced, v.inner)
    let kind = k.kind
    return x.withElements(T.self) { p in
      makeTensor(k.type(), of: T.self) { y in
        if n == 0 { return }
        for o in 0..<outer {
          for i in 0..<inner {
            let base = o * n * inner + i
            if inner == 1 {
              lane(kind, p + base, y + base, n)
            } else {
              // Gather the strided lane, run it contiguously, scatter back.
              var row = [T](repeating: 0, count: n), out = row
              for r in 0..<n { row[r] = p[base + r * inner] }
              row.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in lane(kind, src.baseAddress!, dst.baseAddress!, n) }
              }
              for r in 0..<n { y[base + r * inner] = out[r] }
            }
          }
        }
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
