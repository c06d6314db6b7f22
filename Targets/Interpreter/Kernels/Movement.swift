//===--- Movement.swift - reshapes, transposes, slices, pads, concat -----===//
//
// Every kernel here moves bytes by element size, so it works for every element type.
// Most are one strided copy (StridedCopy.swift): transpose permutes strides, expand and
// tile use stride 0, slice scales strides by its steps, depth_to_space/space_to_depth are
// a reshape-transpose-reshape. Gathers, scatters, one_hot and reverse_sequence are in
// Gather.swift.

import SparrowIR

/// Reshape, transpose, expand, tile, concat and split write at their destinations; the
/// rest return owned tensors.
func evaluateMovement(_ k: KernelArgs) throws -> [TensorRef] {
  let x = k.inputs[0]
  let a = k.attributes
  let out = k.type()
  let destination = k.destination(0)
  switch k.kind {
  case .reshape: return [x.withUnsafeBytes { src in rawResult(out, at: destination) { copyBytes(src, to: $0) } }]
  case .transpose:
    let perm = a.ints("perm")
    let strides = contiguousStrides(x.shape)
    return [copyStrided(x, StridedView(shape: out.shape, strides: perm.map { strides[$0] }), as: out,
                        into: destination)]
  case .expand:
    return [copyStrided(x, StridedView(shape: out.shape, strides: stridesBroadcasting(x.shape, to: out.shape)),
                        as: out, into: destination)]
  case .tile:
    // Output axis i is (repeat, position) row-major: shape [r0, d0, r1, d1, ...].
    let strides = contiguousStrides(x.shape)
    let view = StridedView(shape: zip(a.ints("repeats"), x.shape).flatMap { [$0, $1] },
                           strides: strides.flatMap { [0, $0] })
    return [copyStrided(x, view, as: out, into: destination)]
  case .concat: return [concat(k.inputs, axis: a.int("axis"), as: out, into: destination)]
  case .split: return split(x, axis: a.int("axis"), as: k.resultTypes, into: k.resultTypes.indices.map(k.destination))
  case .slice: return [slice(x, a, as: out).ref]
  case .pad: return [try pad(k).ref]
  case .depth_to_space, .space_to_depth: return [try depthToSpace(k).ref]
  case .trilu:
    guard x.shape.count >= 2 else { throw k.unsupported("rank \(x.shape.count) (trilu needs rank >= 2)") }
    return [trilu(x, upper: a.bool("upper"), diagonal: a.int("k"), as: out).ref]
  case .gather, .gather_elements, .gather_nd, .scatter_elements, .scatter_nd, .one_hot,
       .reverse_sequence:
    return [try evaluateGather(k).ref]
  default: preconditionFailure("\(k.kind) is not a movement op")
  }
}

/// Copies all of `source` to `destination`.
private func copyBytes(_ source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer) {
  if let base = source.baseAddress, source.count > 0 { destination.copyMemory(from: base, byteCount: source.count) }
}

private func concat(_ inputs: [TensorRef], axis: Int, as out: TensorType,
                    into destination: UnsafeMutableRawPointer?) -> TensorRef {
  let es = out.element.byteSize
  let outer = out.shape[..<axis].reduce(1, *)
  let chunks = inputs.map { $0.shape[axis...].reduce(1, *) * es }
  let row = chunks.reduce(0, +)
  return rawResult(out, at: destination) { y in
    var offset = 0
    for (t, chunk) in zip(inputs, chunks) {
      if chunk > 0 {
        t.withUnsafeBytes { src in
          for o in 0..<outer { (y + o * row + offset).copyMemory(from: src.baseAddress! + o * chunk, byteCount: chunk) }
        }
      }
      offset += chunk
    }
  }
}

private func split(_ x: some TensorBytes, axis: Int, as types: [TensorType],
                   into destinations: [UnsafeMutableRawPointer?]) -> [TensorRef] {
  let es = x.element.byteSize
  let outer = x.shape[..<axis].reduce(1, *)
  let row = x.shape[axis...].reduce(1, *) * es
  var start = 0
  return x.withUnsafeBytes { src in
    zip(types, destinations).map { t, destination in
      let chunk = t.shape[axis...].reduce(1, *) * es
      let first = start
      start += chunk
      return rawResult(t, at: destination) { y in
        guard chunk > 0 else { return }
        for o in 0..<outer { (y + o * chunk).copyMemory(from: src.baseAddress! + o * row + first, byteCount: chunk) }
      }
    }
  }
}

private func slice(_ x: some TensorBytes, _ a: Attributes, as out: TensorType) -> Tensor {
  var strides = contiguousStrides(x.shape)
  var offset = 0
  let (starts, ends, axes, steps) = (a.ints("starts"), a.ints("ends"), a.ints("axes"), a.ints("steps"))
  for i in axes.indices {
    let axis = axes[i]
    let r = sliceRange(start: starts[i], end: ends[i], step: steps[i], dim: x.shape[axis])
    if r.count > 0 { offset += r.first * strides[axis] }
    strides[axis] *= steps[i]
  }
  if out.count == 0 { return Tensor(zeros: out) }
  return copyStrided(x, StridedView(shape: out.shape, strides: strides, offset: offset), as: out).tensor
}

// MARK: - pad

private func pad(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0], out = k.type()
  let pads = k.attributes.ints("pads")
  let mode = k.attributes.string("mode")
  let rank = x.shape.count
  guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw k.unsupported("mode '\(mode)'") }
  if mode != "constant" && x.count == 0 && out.count > 0 {
    throw k.unsupported("mode '\(mode)' on an empty tensor")
  }
  // Per axis: the source index of each output index, or -1 for the constant.
  let maps: [[Int]] = (0..<rank).map { axis in
    let n = x.shape[axis]
    return (0..<out.shape[axis]).map { o in
      let i = o - pads[axis]
      if i >= 0 && i < n { return i }
      switch mode {
      case "edge": return min(max(i, 0), n - 1)
      case "wrap": return ((i % n) + n) % n
      case "reflect":
        if n == 1 { return 0 }
        let period = 2 * (n - 1)
        let r = ((i % period) + period) % period
        return r < n ? r : period - r
      default: return -1
      }
    }
  }
  let fill = elementBytes(Double(k.attributes.float("value")), as: x.element)
  return gatherAxes(x, maps: maps, fill: fill, as: out)
}

/// out[o0, ..., on] = x[maps[0][o0], ..., maps[n][on]], or `fill` (element bytes; empty
/// means zero) when any index is -1. Pad and nearest resize are this gather.
func gatherAxes(_ x: some TensorBytes, maps: [[Int]], fill: [UInt8], as out: TensorType) -> Tensor {
  let x = Tensor(type: x.type, bytes: x.bytes)  // read its bytes in loops without copies
  if out.count == 0 { return Tensor(zeros: out) }
  if maps.isEmpty { return Tensor(type: out, bytes: x.bytes) }
  var y = Tensor(zeros: out)
  // Concrete element types so each loop is specialized.
  switch x.element.byteSize {
  case 1: gatherAxes(x, maps, fill, into: &y, as: UInt8.self)
  case 2: gatherAxes(x, maps, fill, into: &y, as: UInt16.self)
  case 4: gatherAxes(x, maps, fill, into: &y, as: UInt32.self)
  case 8: gatherAxes(x, maps, fill, into: &y, as: UInt64.self)
  default: preconditionFailure("element size \(x.element.byteSize)")
  }
  return y
}

private func gatherAxes<E: FixedWidthInteger>(_ x: some TensorBytes, _ maps: [[Int]], _ fill: [UInt8],
                                              into y: inout Tensor, as: E.Type) {
  let rank = maps.count
  let strides = contiguousStrides(x.shape)
  let fillValue = fill.isEmpty ? E.zero : fill.withUnsafeBytes { $0.loadUnaligned(as: E.self) }
  let inner = maps[rank - 1], innerStride = strides[rank - 1]
  let outShape = y.shape
  let outer = outShape.dropLast().reduce(1, *)
  var index = [Int](repeating: 0, count: rank - 1)
  x.bytes.withUnsafeBytes { raw in
    y.bytes.withUnsafeMutableBytes { rawOut in
      let src = raw.bindMemory(to: E.self), dst = rawOut.bindMemory(to: E.self)
      var o = 0
      for _ in 0..<outer {
        // Offset of the row, or -1 when an outer index falls into the fill.
        var base = 0
        for axis in 0..<(rank - 1) {
          let i = maps[axis][index[axis]]
          if i < 0 { base = -1; break }
          base += i * strides[axis]
        }
        for i in inner {
          dst[o] = base < 0 || i < 0 ? fillValue : src[base + i * innerStride]
          o += 1
        }
        var axis = rank - 2
        while axis >= 0 {
          index[axis] += 1
          if index[axis] < outShape[axis] { break }
          index[axis] = 0
          axis -= 1
        }
      }
    }
  }
}

/// The little-endian bytes of `value` as element type `e` (integers saturate).
func elementBytes(_ value: Double, as e: ElementType) -> [UInt8] {
  func raw<T>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
  switch e {
  case .f32: return raw(Float(value))
  case .f64: return raw(value)
  case .f16: return raw(Float(value).float16Bits)
  case .bf16: return raw(Float(value).bfloat16Bits)
  case .bool: return [value != 0 ? 1 : 0]
  case .i64: return raw(Int64(converting: value))
  case .i32: return raw(Int32(converting: value))
  case .i16: return raw(Int16(converting: value))
  case .i8: return raw(Int8(converting: value))
  case .u64: return raw(UInt64(converting: value))
  case .u32: return raw(UInt32(converting: value))
  case .u16: return raw(UInt16(converting: value))
  case .u8: return raw(UInt8(converting: value))
  }
}

// MARK: - depth_to_space, space_to_depth, trilu

private func depthToSpace(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0], out = k.type()
  let b = k.attributes.int("blocksize")
  let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let shape: [Int], perm: [Int]
  if k.kind == .space_to_depth {
    shape = [n, c, h / b, b, w / b, b]
    perm = [0, 3, 5, 1, 2, 4]
  } else {
    let mode = k.attributes.string("mode")
    switch mode {
    case "DCR": shape = [n, b, b, c / (b * b), h, w]; perm = [0, 3, 4, 1, 5, 2]
    case "CRD": shape = [n, c / (b * b), b, b, h, w]; perm = [0, 1, 4, 2, 5, 3]
    default: throw k.unsupported("mode '\(mode)'")
    }
  }
  let strides = contiguousStrides(shape)
  return copyStrided(x, StridedView(shape: perm.map { shape[$0] }, strides: perm.map { strides[$0] }), as: out).tensor
}

/// Zeroes the elements off the kept triangle of each trailing matrix.
private func trilu(_ x: some TensorBytes, upper: Bool, diagonal k: Int, as out: TensorType) -> Tensor {
  var y = Tensor(type: out, bytes: x.bytes)
  let es = x.element.byteSize
  let (rows, cols) = (x.shape[x.shape.count - 2], x.shape[x.shape.count - 1])
  let matrices = x.count / max(rows * cols, 1)
  for m in 0..<matrices {
    for i in 0..<rows {
      for j in 0..<cols where upper ? j - i < k : j - i > k {
        let o = ((m * rows + i) * cols + j) * es
        for b in 0..<es { y.bytes[o + b] = 0 }
      }
    }
  }
  return y
}
