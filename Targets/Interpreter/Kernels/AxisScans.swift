//===--- AxisScans.swift - argmax/argmin, cumsum, top_k along one axis ----===//
//
// Each walks the [outer, n, inner] view of one axis (`ReductionView(axis:)`).
// - argmax/argmin: the first extreme index, or the last with `select_last_index`; NaN
//   counts as the extreme (as numpy).
// - cumsum: inclusive or `exclusive` running sums, from the end with `reverse`; floats
//   accumulate in Double, integers wrap.
// - top_k: the k largest (or smallest) values with their indices; equal values keep the
//   lower index first (ONNX's rule); NaN sorts above every number. Results are always
//   sorted, which `sorted = false` allows.

import SparrowIR

func evaluateArgExtreme(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0]
  let axis = k.attributes.int("axis")
  let v = ReductionView(x, axis: axis)
  guard v.reduced > 0 else { throw k.unsupported("an empty axis") }
  let last = k.attributes.bool("select_last_index"), isMax = k.kind == .argmax
  func run<T: TensorElement & Comparable>(_: T.Type) -> Tensor {
    // `better(a, b)`: a replaces the current best b.
    let better: (T, T) -> Bool
    switch (isMax, last) {
    case (true, false): better = { a, b in (a > b && !isNaN(b)) || (isNaN(a) && !isNaN(b)) }
    case (true, true): better = { a, b in (a >= b && !isNaN(b)) || isNaN(a) }
    case (false, false): better = { a, b in (a < b && !isNaN(b)) || (isNaN(a) && !isNaN(b)) }
    case (false, true): better = { a, b in (a <= b && !isNaN(b)) || isNaN(a) }
    }
    let (outer, n, inner) = (v.outer, v.reduced, v.inner)
    return x.withElements(T.self) { p in
      makeTensor(k.type(), of: Int64.self) { y in
        for o in 0..<outer {
          for i in 0..<inner {
            let base = p + o * n * inner + i
            var best = base[0], at = 0
            for r in 1..<n where better(base[r * inner], best) {
              best = base[r * inner]
              at = r
            }
            y[o * inner + i] = Int64(at)
          }
        }
      }
    }
  }
  switch x.element {
  case .f32: return run(Float.self)
  case .f64: return run(Double.self)
  case .i64: return run(Int64.self)
  case .i32: return run(Int32.self)
  case .i16: return run(Int16.self)
  case .i8: return run(Int8.self)
  case .u64: return run(UInt64.self)
  case .u32: return run(UInt32.self)
  case .u16: return run(UInt16.self)
  case .u8: return run(UInt8.self)
  default: throw k.unsupported("\(x.element)")
  }
}

/// NaN test for any comparable element (only floats can be unequal to themselves).
@inline(__always)
private func isNaN<T: Comparable>(_ x: T) -> Bool { x != x }

// MARK: - cumsum

func evaluateCumsum(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0]
  let v = ReductionView(x, axis: k.attributes.int("axis"))
  let exclusive = k.attributes.bool("exclusive"), reverse = k.attributes.bool("reverse")
  @inline(__always)
  func scan<T: TensorElement, Acc>(_: T.Type, _ zero: Acc, _ add: (Acc, T) -> Acc, _ out: (Acc) -> T) -> Tensor {
    let (outer, n, inner) = (v.outer, v.reduced, v.inner)
    return x.withElements(T.self) { p in
      makeTensor(k.type(), of: T.self) { y in
        for o in 0..<outer {
          for i in 0..<inner {
            let base = o * n * inner + i
            var acc = zero
            for s in 0..<n {
              let at = base + (reverse ? n - 1 - s : s) * inner
              if exclusive {
                y[at] = out(acc)
                acc = add(acc, p[at])
              } else {
                acc = add(acc, p[at])
                y[at] = out(acc)
              }
            }
          }
        }
      }
    }
  }
  switch x.element {
  case .f32: return scan(Float.self, 0.0, { $0 + Double($1) }) { Float($0) }
  case .f64: return scan(Double.self, 0.0, { $0 + $1 }) { $0 }
  case .i64: return scan(Int64.self, Int64(0), { $0 &+ $1 }) { $0 }
  case .i32: return scan(Int32.self, Int32(0), { $0 &+ $1 }) { $0 }
  case .u64: return scan(UInt64.self, UInt64(0), { $0 &+ $1 }) { $0 }
  case .u32: return scan(UInt32.self, UInt32(0), { $0 &+ $1 }) { $0 }
  default: throw k.unsupported("\(x.element)")
  }
}

// MARK: - top_k

func evaluateTopK(_ k: KernelArgs) throws -> [Tensor] {
  let x = k.inputs[0]
  let axis = k.attributes.int("axis"), count = k.attributes.int("k")
  let largest = k.attributes.bool("largest")
  let v = ReductionView(x, axis: axis)
  func run<T: TensorElement & Comparable>(_: T.Type) -> [Tensor] {
    let (outer, n, inner) = (v.outer, v.reduced, v.inner)
    var order = [Int](repeating: 0, count: n)
    var indices = [Int64](repeating: 0, count: k.type(1).count)
    let values = x.withElements(T.self) { p in
      makeTensor(k.type(0), of: T.self) { y in
        for o in 0..<outer {
          for i in 0..<inner {
            let base = p + o * n * inner + i
            for r in 0..<n { order[r] = r }
            // a before b: more extreme value, then lower index. NaN is the largest.
            order.sort { a, b in
              let va = base[a * inner], vb = base[b * inner]
              let (na, nb) = (isNaN(va), isNaN(vb))
              if na || nb {
                if na && nb { return a < b }
                return largest ? na : nb
              }
              if va != vb { return largest ? va > vb : va < vb }
              return a < b
            }
            for j in 0..<count {
              let at = (o * count + j) * inner + i
              y[at] = base[order[j] * inner]
              indices[at] = Int64(order[j])
            }
          }
        }
      }
    }
    return [values, Tensor(shape: k.type(1).shape, scalars: indices)]
  }
  switch x.element {
  case .f32: return run(Float.self)
  case .f64: return run(Double.self)
  case .i64: return run(Int64.self)
  case .i32: return run(Int32.self)
  case .i16: return run(Int16.self)
  case .i8: return run(Int8.self)
  case .u64: return run(UInt64.self)
  case .u32: return run(UInt32.self)
  case .u16: return run(UInt16.self)
  case .u8: return run(UInt8.self)
  default: throw k.unsupported("\(x.element)")
  }
}
