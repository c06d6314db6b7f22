//===--- Reduction.swift - reduce_* over explicit axes ---------------------===//
//
// The op table's convention: `axes` lists every reduced axis (the frontend expands ONNX's
// "empty means all"), so an empty list reduces nothing and each element is reduced alone
// (reduce_sum_square then squares, reduce_l1 takes |x|, and so on).
//
// The input is viewed as [outer, R, inner] with R the product of the reduced axes. When
// the reduced axes are not adjacent (after dropping size-1 axes), the input is first
// permuted so they are, which keeps the kept axes in order. Float sums accumulate in
// Double; integers wrap (as onnxruntime's C++); max/min run in the element type and
// propagate NaN. An empty reduction gives the identity (0, 1, -inf/+inf or the integer
// extremes; the mean of nothing is NaN).

import SparrowIR

func evaluateReduction(_ k: KernelArgs) throws -> [Tensor] {
  try computingInFloat(k) { k in
    switch k.kind {
    case .argmax, .argmin: return [try evaluateArgExtreme(k)]
    case .cumsum: return [try evaluateCumsum(k)]
    case .top_k: return try evaluateTopK(k)
    default: break
    }
    let e = k.inputs[0].element
    if e == .bool && (k.kind == .reduce_max || k.kind == .reduce_min) { return [reduceBoolExtreme(k)] }
    if let t = try withFloatType(e, FloatReduction(k: k)) ?? withIntegerType(e, IntegerReduction(k: k)) {
      return [t]
    }
    throw k.unsupported("\(e)")
  }
}

/// reduce_max (any) and reduce_min (all) of a bool tensor, run on its bytes as u8. An
/// empty reduction gives false for max and true for min.
private func reduceBoolExtreme(_ k: KernelArgs) -> Tensor {
  let v = ReductionView(k.inputs[0].asBytes, axes: k.attributes.ints("axes"))
  let t = k.type().with(element: .u8)
  let bytes: Tensor
  if k.kind == .reduce_max {
    bytes = reduceView(v, t, UInt8.self, initial: 0, { $0 | $1 }) { $0 }
  } else {
    bytes = reduceView(v, t, UInt8.self, initial: 1, { $0 & $1 }) { $0 }
  }
  return Tensor(type: k.type(), bytes: bytes.bytes)
}

/// A tensor viewed as [outer, reduced, inner].
struct ReductionView {
  let input: TensorRef
  let outer: Int
  let reduced: Int
  let inner: Int

  /// `input` with `axes` reduced: contiguous if the axes (ignoring size-1 ones) are
  /// adjacent, otherwise a permuted copy.
  init(_ x: TensorRef, axes: [Int]) {
    let shape = x.shape
    let live = axes.filter { shape[$0] != 1 }.sorted()
    let reduced = live.reduce(1) { $0 * shape[$1] }
    let adjacent = live.isEmpty || (live.first!...live.last!).allSatisfy { live.contains($0) || shape[$0] == 1 }
    if adjacent {
      let first = live.first ?? shape.count
      let last = live.last ?? shape.count - 1
      input = x
      outer = shape[..<first].reduce(1, *)
      self.reduced = reduced
      inner = shape[(last + 1)...].reduce(1, *)
    } else {
      let kept = shape.indices.filter { !live.contains($0) }
      input = permuted(x, kept + live).ref
      outer = kept.reduce(1) { $0 * shape[$1] }
      self.reduced = reduced
      inner = 1
    }
  }

  /// The view along one axis (argmax, cumsum, softmax ...); a rank-0 tensor is one
  /// element along an implicit axis.
  init(_ x: TensorRef, axis: Int) {
    input = x
    if x.shape.isEmpty {
      (outer, reduced, inner) = (1, 1, 1)
      return
    }
    outer = x.shape[..<axis].reduce(1, *)
    reduced = x.shape[axis]
    inner = x.shape[(axis + 1)...].reduce(1, *)
  }
}

/// out[o, i] = finish(fold(step, initial, x[o, 0..<R, i])) over a `ReductionView`.
@inline(__always)
func reduceView<T: TensorElement, Acc, R: TensorElement>(
  _ v: ReductionView, _ type: TensorType, _: T.Type, initial: Acc,
  _ step: (Acc, T) -> Acc, _ finish: (Acc) -> R
) -> Tensor {
  let (outer, n, inner) = (v.outer, v.reduced, v.inner)
  return v.input.withElements(T.self) { x in
    makeTensor(type, of: R.self) { y in
      if inner == 1 {
        for o in 0..<outer {
          var acc = initial
          let row = x + o * n
          for r in 0..<n { acc = step(acc, row[r]) }
          y[o] = finish(acc)
        }
        return
      }
      var acc = [Acc](repeating: initial, count: inner)
      for o in 0..<outer {
        for i in 0..<inner { acc[i] = initial }
        let block = x + o * n * inner
        acc.withUnsafeMutableBufferPointer { a in
          for r in 0..<n {
            let row = block + r * inner
            for i in 0..<inner { a[i] = step(a[i], row[i]) }
          }
          for i in 0..<inner { y[o * inner + i] = finish(a[i]) }
        }
      }
    }
  }
}

private struct FloatReduction: FloatKernel {
  let k: KernelArgs

  func run<T: KernelFloat>(_: T.Type) throws -> Tensor {
    let v = ReductionView(k.inputs[0], axes: k.attributes.ints("axes"))
    let t = k.type()
    let n = Double(v.reduced)
    switch k.kind {
    case .reduce_sum: return reduceView(v, t, T.self, initial: 0.0, { $0 + Double($1) }) { T($0) }
    case .reduce_mean: return reduceView(v, t, T.self, initial: 0.0, { $0 + Double($1) }) { T($0 / n) }
    case .reduce_prod: return reduceView(v, t, T.self, initial: 1.0, { $0 * Double($1) }) { T($0) }
    case .reduce_l1: return reduceView(v, t, T.self, initial: 0.0, { $0 + Double(Swift.abs($1)) }) { T($0) }
    case .reduce_l2:
      return reduceView(v, t, T.self, initial: 0.0, { $0 + Double($1) * Double($1) }) { T($0.squareRoot()) }
    case .reduce_sum_square:
      return reduceView(v, t, T.self, initial: 0.0, { $0 + Double($1) * Double($1) }) { T($0) }
    case .reduce_log_sum:
      return reduceView(v, t, T.self, initial: 0.0, { $0 + Double($1) }) { T(Double.log($0)) }
    case .reduce_max:
      return reduceView(v, t, T.self, initial: -T.infinity, { $1 > $0 || $1.isNaN ? $1 : $0 }) { $0 }
    case .reduce_min:
      return reduceView(v, t, T.self, initial: T.infinity, { $1 < $0 || $1.isNaN ? $1 : $0 }) { $0 }
    case .reduce_log_sum_exp: return logSumExp(v, t, T.self)
    default: throw k.unsupported("\(T.elementType)")
    }
  }

  /// max + log(sum(exp(x - max))): no overflow for large inputs.
  private func logSumExp<T: KernelFloat>(_ v: ReductionView, _ type: TensorType, _: T.Type) -> Tensor {
    let maxima = reduceView(v, type, T.self, initial: -T.infinity, { $1 > $0 || $1.isNaN ? $1 : $0 }) { $0 }
    let (outer, n, inner) = (v.outer, v.reduced, v.inner)
    return v.input.withElements(T.self) { x in
      maxima.withElements(T.self) { m in
        makeTensor(type, of: T.self) { y in
          for o in 0..<outer {
            for i in 0..<inner {
              let mx = m[o * inner + i]
              if !mx.isFinite { y[o * inner + i] = mx; continue }
              var s = 0.0
              let base = x + o * n * inner + i
              for r in 0..<n { s += Double.exp(Double(base[r * inner] - mx)) }
              y[o * inner + i] = mx + T(Double.log(s))
            }
          }
        }
      }
    }
  }
}

private struct IntegerReduction: IntegerKernel {
  let k: KernelArgs

  func run<T: KernelInteger>(_: T.Type) throws -> Tensor {
    let v = ReductionView(k.inputs[0], axes: k.attributes.ints("axes"))
    let t = k.type()
    let n = T(truncatingIfNeeded: v.reduced)
    func wrap(_ x: T) -> T { x }
    switch k.kind {
    case .reduce_sum: return reduceView(v, t, T.self, initial: T.zero, { $0 &+ $1 }, wrap)
    case .reduce_mean:
      return reduceView(v, t, T.self, initial: T.zero, { $0 &+ $1 }) { $0.dividedReportingOverflow(by: n).partialValue }
    case .reduce_prod: return reduceView(v, t, T.self, initial: T(1), { $0 &* $1 }, wrap)
    case .reduce_l1: return reduceView(v, t, T.self, initial: T.zero, { $0 &+ ($1 < 0 ? 0 &- $1 : $1) }, wrap)
    case .reduce_sum_square: return reduceView(v, t, T.self, initial: T.zero, { $0 &+ $1 &* $1 }, wrap)
    case .reduce_max: return reduceView(v, t, T.self, initial: T.min, { Swift.max($0, $1) }, wrap)
    case .reduce_min: return reduceView(v, t, T.self, initial: T.max, { Swift.min($0, $1) }, wrap)
    case .reduce_l2:
      return reduceView(v, t, T.self, initial: 0.0, { $0 + Double($1) * Double($1) }) { T.truncating($0.squareRoot()) }
    case .reduce_log_sum:
      return reduceView(v, t, T.self, initial: 0.0, { $0 + Double($1) }) { T.truncating(Double.log($0)) }
    case .reduce_log_sum_exp:
      return reduceView(v, t, T.self, initial: 0.0, { $0 + Double.exp(Double($1)) }) { T.truncating(Double.log($0)) }
    default: throw k.unsupported("\(T.elementType)")
    }
  }
}

/// A copy of `x` with its axes permuted (`perm[i]` is the source axis of result axis i).
private func permuted(_ x: some TensorBytes, _ perm: [Int]) -> Tensor {
  let shape = perm.map { x.shape[$0] }
  let type = TensorType(x.element, shape)
  switch x.element.byteSize {
  case 1: return permuted(x, perm, shape, type, UInt8.self)
  case 2: return permuted(x, perm, shape, type, UInt16.self)
  case 4: return permuted(x, perm, shape, type, UInt32.self)
  default: return permuted(x, perm, shape, type, UInt64.self)
  }
}

private func permuted<T>(_ x: some TensorBytes, _ perm: [Int], _ shape: [Int], _ type: TensorType, _: T.Type) -> Tensor {
  let source = contiguousStrides(x.shape)
  let strides = perm.map { source[$0] }
  var bytes = [UInt8](repeating: 0, count: x.bytes.count)
  x.bytes.withUnsafeBytes { raw in
    bytes.withUnsafeMutableBytes { out in
      let src = raw.bindMemory(to: T.self), dst = out.bindMemory(to: T.self)
      var index = [Int](repeating: 0, count: shape.count)
      var offset = 0
      for i in 0..<type.count {
        dst[i] = src[offset]
        var d = shape.count - 1
        while d >= 0 {
          index[d] += 1
          offset += strides[d]
          if index[d] < shape[d] { break }
          offset -= strides[d] * shape[d]
          index[d] = 0
          d -= 1
        }
      }
    }
  }
  return Tensor(type: type, bytes: bytes)
}
