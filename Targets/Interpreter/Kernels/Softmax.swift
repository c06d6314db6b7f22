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
      var s = 0.0
      for r in 0..<n { s += Double(T.exp(x[r] - m)) }
      let shift = m + T(Double.log(s))
      for r in 0..<n { y[r] = x[r] - shift }
    default:
      var s = 0.0
      for r in 0..<n {
        let e = T.exp(x[r] - m)
        y[r] = e
        s += Double(e)
      }
      let scale = T(1 / s)
      for r in 0..<n { y[r] *= scale }
    }
  }
}
