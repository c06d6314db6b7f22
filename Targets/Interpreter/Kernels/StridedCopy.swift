//===--- StridedCopy.swift - copy a strided view into a contiguous buffer ---===//
//
// Transpose, expand, tile, slice and einsum's operand layouts are all one operation:
// walk an output shape in row-major order and read the source through per-axis strides
// (0 broadcasts, negative steps walk backwards). Data-movement kernels work on bytes, so
// the copy is generic over an element of the right byte size.

import SparrowIR

/// A strided view of a source buffer: `shape` and per-axis `strides` in elements, starting
/// at element `offset`.
struct StridedView {
  var shape: [Int]
  var strides: [Int]
  var offset: Int = 0

  /// The contiguous view of `shape`.
  init(contiguous shape: [Int]) {
    self.shape = shape
    self.strides = contiguousStrides(shape)
  }

  init(shape: [Int], strides: [Int], offset: Int = 0) {
    precondition(shape.count == strides.count)
    self.shape = shape
    self.strides = strides
    self.offset = offset
  }

  var count: Int { shape.reduce(1, *) }

  /// Drops axes of size 1 and merges axes that are contiguous in the source, so the copy
  /// loop runs over as few and as long rows as possible.
  func simplified() -> StridedView {
    var s: [Int] = [], st: [Int] = []
    for (d, t) in zip(shape, strides) where d != 1 {
      if let last = s.last, st.last! == t * d {
        s[s.count - 1] = last * d
        st[st.count - 1] = t
      } else {
        s.append(d)
        st.append(t)
      }
    }
    if s.isEmpty { return StridedView(shape: [1], strides: [1], offset: offset) }
    return StridedView(shape: s, strides: st, offset: offset)
  }
}

/// Copies `view` of `src` into `dst` in row-major order of the view's shape.
func copyStrided<T>(_ src: UnsafePointer<T>, _ view: StridedView, to dst: UnsafeMutablePointer<T>) {
  let v = view.simplified()
  let total = view.count
  if total == 0 { return }
  let rank = v.shape.count
  let inner = v.shape[rank - 1], innerStride = v.strides[rank - 1]
  var index = [Int](repeating: 0, count: rank)
  var base = v.offset
  var out = 0
  while out < total {
    let p = src + base
    if innerStride == 1 {
      (dst + out).update(from: p, count: inner)
    } else {
      for i in 0..<inner { dst[out + i] = p[i * innerStride] }
    }
    out += inner
    // Advance the outer odometer.
    var axis = rank - 2
    while axis >= 0 {
      index[axis] += 1
      base += v.strides[axis]
      if index[axis] < v.shape[axis] { break }
      base -= v.strides[axis] * v.shape[axis]
      index[axis] = 0
      axis -= 1
    }
  }
}

/// Copies a strided view of `source` into a tensor of `type` (same element type), at
/// `destination` when given.
func copyStrided(_ source: some TensorBytes, _ view: StridedView, as type: TensorType,
                 into destination: UnsafeMutableRawPointer? = nil) -> TensorRef {
  precondition(view.count == type.count && source.element == type.element)
  return rawResult(type.dense, at: destination) { out in
    // Concrete types (not an opened existential) so each copy loop is specialized.
    switch source.element.byteSize {
    case 1: copyStrided(source, view, into: out, as: UInt8.self)
    case 2: copyStrided(source, view, into: out, as: UInt16.self)
    case 4: copyStrided(source, view, into: out, as: UInt32.self)
    case 8: copyStrided(source, view, into: out, as: UInt64.self)
    default: preconditionFailure("element size \(source.element.byteSize)")
    }
  }
}

private func copyStrided<E: FixedWidthInteger>(_ source: some TensorBytes, _ view: StridedView,
                                               into out: UnsafeMutableRawPointer, as: E.Type) {
  guard view.count > 0 else { return }
  source.withUnsafeBytes { s in
    guard let sp = s.baseAddress else { return }
    copyStrided(sp.assumingMemoryBound(to: E.self), view, to: out.assumingMemoryBound(to: E.self))
  }
}

/// Strides (in elements) that broadcast `shape` to `target` (numpy rules, right-aligned):
/// broadcast axes get stride 0.
func stridesBroadcasting(_ shape: [Int], to target: [Int]) -> [Int] {
  let own = contiguousStrides(shape)
  let off = target.count - shape.count
  precondition(off >= 0)
  return target.indices.map { i in
    i < off || shape[i - off] == 1 ? 0 : own[i - off]
  }
}
