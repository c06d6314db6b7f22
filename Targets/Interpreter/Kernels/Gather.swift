//===--- Gather.swift - gathers, scatters, one_hot, reverse_sequence -----===//
//
// Index operands may be i32 or i64 (one_hot's any numeric type); negative indices count
// from the end, and an index out of range is a diagnostic, never a trap. Values move as
// bytes except in scatters with a reduction, which compute in the element type.

import SparrowIR

func evaluateGather(_ k: KernelArgs) throws -> Tensor {
  switch k.kind {
  case .gather: return try gather(k)
  case .gather_elements: return try gatherElements(k)
  case .gather_nd: return try gatherND(k)
  case .scatter_elements: return try scatterElements(k)
  case .scatter_nd: return try scatterND(k)
  case .one_hot: return try oneHot(k)
  case .reverse_sequence: return try reverseSequence(k)
  default: preconditionFailure("\(k.kind) is not a gather op")
  }
}

/// The index operand's values as Int.
func indexOperandValues(_ t: some TensorBytes) -> [Int] {
  switch t.element {
  case .i64: return t.withUnsafeBuffer(of: Int64.self) { $0.map { Int($0) } }
  case .i32: return t.withUnsafeBuffer(of: Int32.self) { $0.map { Int($0) } }
  default: return t.ints
  }
}

/// `i` made non-negative for an axis of size `n`, or a diagnostic.
private func normalized(_ i: Int, _ n: Int, _ k: KernelArgs) throws -> Int {
  let j = i < 0 ? i + n : i
  guard j >= 0 && j < n else {
    throw Diagnostic("'\(k.kind.rawValue)' index \(i) is out of range for an axis of size \(n)")
  }
  return j
}

private func requireIntegerIndices(_ t: some TensorBytes, _ k: KernelArgs) throws {
  guard t.element == .i64 || t.element == .i32 else { throw k.unsupported("\(t.element) indices") }
}

private func gather(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0].tensor, out = k.type()
  try requireIntegerIndices(k.inputs[1], k)
  let axis = k.attributes.int("axis")
  let indices = indexOperandValues(k.inputs[1])
  let n = x.shape[axis]
  let outer = x.shape[..<axis].reduce(1, *)
  let inner = x.shape[(axis + 1)...].reduce(1, *) * x.element.byteSize
  var bytes = [UInt8]()
  bytes.reserveCapacity(out.byteCount)
  let rows = try indices.map { try normalized($0, n, k) }
  for o in 0..<outer {
    for r in rows {
      let start = (o * n + r) * inner
      bytes += x.bytes[start..<(start + inner)]
    }
  }
  return Tensor(type: out, bytes: bytes)
}

/// Calls `body(position, flat)` for every element of `shape` in row-major order with its
/// multi-index.
private func forEachIndex(_ shape: [Int], _ body: ([Int], Int) throws -> Void) rethrows {
  let count = shape.reduce(1, *)
  if count == 0 { return }
  var index = [Int](repeating: 0, count: shape.count)
  for flat in 0..<count {
    try body(index, flat)
    advance(&index, within: shape)
  }
}

/// Flat element offsets into `data` of each position of the index tensor with its `axis`
/// coordinate replaced by the index value (gather_elements and scatter_elements).
private func elementOffsets(data: [Int], indices: some TensorBytes, axis: Int, _ k: KernelArgs) throws -> [Int] {
  let values = indexOperandValues(indices)
  let strides = contiguousStrides(data)
  var offsets = [Int](repeating: 0, count: values.count)
  try forEachIndex(indices.shape) { index, flat in
    var o = 0
    for (d, i) in index.enumerated() {
      o += (d == axis ? try normalized(values[flat], data[axis], k) : i) * strides[d]
    }
    offsets[flat] = o
  }
  return offsets
}

private func gatherElements(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0].tensor, out = k.type()
  try requireIntegerIndices(k.inputs[1], k)
  // Off the axis, indices may be smaller than the data (ONNX) but not larger.
  guard zip(k.inputs[1].shape, x.shape).enumerated().allSatisfy({ $0.offset == k.attributes.int("axis") || $0.element.0 <= $0.element.1 }) else {
    throw Diagnostic("gather_elements indices \(k.inputs[1].type) exceed data \(x.type) off the axis")
  }
  let offsets = try elementOffsets(data: x.shape, indices: k.inputs[1], axis: k.attributes.int("axis"), k)
  let es = x.element.byteSize
  var bytes = [UInt8](repeating: 0, count: out.byteCount)
  for (o, s) in offsets.enumerated() {
    for b in 0..<es { bytes[o * es + b] = x.bytes[s * es + b] }
  }
  return Tensor(type: out, bytes: bytes)
}

/// Start offsets (in elements) of the slices gather_nd/scatter_nd address, and the slice
/// length; the first `batchDims` axes of data and indices are shared.
private func ndSlices(data: [Int], indices: some TensorBytes, batchDims b: Int, _ k: KernelArgs) throws
  -> (starts: [Int], length: Int) {
  let values = indexOperandValues(indices)
  let q = indices.shape
  let depth = q.last!
  let strides = contiguousStrides(data)
  let length = data[(b + depth)...].reduce(1, *)
  let tuples = q.dropLast().reduce(1, *)
  let perBatch = tuples / max(q[..<b].reduce(1, *), 1)
  var starts = [Int](repeating: 0, count: tuples)
  for t in 0..<tuples {
    var batch = t / max(perBatch, 1)
    var o = 0
    for axis in stride(from: b - 1, through: 0, by: -1) {
      o += (batch % data[axis]) * strides[axis]
      batch /= data[axis]
    }
    for j in 0..<depth {
      o += try normalized(values[t * depth + j], data[b + j], k) * strides[b + j]
    }
    starts[t] = o
  }
  return (starts, length)
}

private func gatherND(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0].tensor, out = k.type()
  try requireIntegerIndices(k.inputs[1], k)
  let (starts, length) = try ndSlices(data: x.shape, indices: k.inputs[1],
                                      batchDims: k.attributes.int("batch_dims"), k)
  let es = x.element.byteSize
  var bytes = [UInt8]()
  bytes.reserveCapacity(out.byteCount)
  for s in starts { bytes += x.bytes[(s * es)..<((s + length) * es)] }
  return Tensor(type: out, bytes: bytes)
}

// MARK: - Scatters

private func scatterElements(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0]
  try requireIntegerIndices(k.inputs[1], k)
  guard k.inputs[1].shape.count == x.shape.count, k.inputs[2].shape == k.inputs[1].shape,
        k.attributes.int("axis") < x.shape.count else {
    throw Diagnostic("scatter_elements indices \(k.inputs[1].type) and updates \(k.inputs[2].type) must have one shape of rank \(x.shape.count)")
  }
  let offsets = try elementOffsets(data: x.shape, indices: k.inputs[1], axis: k.attributes.int("axis"), k)
  return try scatter(k, targets: offsets.map { ($0, 1) })
}

private func scatterND(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0]
  try requireIntegerIndices(k.inputs[1], k)
  guard let depth = k.inputs[1].shape.last, depth <= x.shape.count else {
    throw Diagnostic("scatter_nd indices \(k.inputs[1].type) do not fit data \(x.type)")
  }
  let (starts, length) = try ndSlices(data: x.shape, indices: k.inputs[1], batchDims: 0, k)
  return try scatter(k, targets: starts.map { ($0, length) })
}

/// Writes consecutive runs of the updates (operand 2) to `targets` (start, length) of a
/// copy of the data, combining by the `reduction` attribute.
private func scatter(_ k: KernelArgs, targets: [(start: Int, length: Int)]) throws -> Tensor {
  var y = Tensor(type: k.type(), bytes: k.inputs[0].bytes)
  let updates = k.inputs[2].tensor
  guard updates.count == targets.reduce(0, { $0 + $1.length }) else {
    throw Diagnostic("'\(k.kind.rawValue)' updates \(updates.type) do not match the indices")
  }
  let reduction = k.attributes.string("reduction")
  if reduction == "none" {
    let es = y.element.byteSize
    var u = 0
    for (s, n) in targets {
      y.bytes.replaceSubrange((s * es)..<((s + n) * es), with: updates.bytes[(u * es)..<((u + n) * es)])
      u += n
    }
    return y
  }
  guard ["add", "mul", "max", "min"].contains(reduction) else { throw k.unsupported("reduction '\(reduction)'") }
  guard let t = kernelNumberType(y.element) else { throw k.unsupported("reduction on \(y.element)") }
  scatterReducing(&y, updates, targets, reduction, t)
  return y
}

private func scatterReducing<T: KernelNumber>(_ y: inout Tensor, _ updates: some TensorBytes,
                                              _ targets: [(start: Int, length: Int)],
                                              _ reduction: String, _: T.Type) {
  let one = T(converting: 1)
  let combine: (T, T) -> T
  switch reduction {
  case "add": combine = { T.multiplyAdd($0, $1, one) }
  case "mul": combine = { T.multiplyAdd(T.zero, $0, $1) }
  case "max": combine = { Swift.max($0, $1) }
  default: combine = { Swift.min($0, $1) }
  }
  updates.withElementPointer(of: T.self) { u in
    y.withUnsafeMutableBuffer(of: T.self) { d in
      var i = 0
      for (s, n) in targets {
        for j in 0..<n { d[s + j] = combine(d[s + j], u[i + j]) }
        i += n
      }
    }
  }
}

// MARK: - one_hot, reverse_sequence

private func oneHot(_ k: KernelArgs) throws -> Tensor {
  let indices = k.inputs[0], values = k.inputs[1], out = k.type()
  guard values.count == 2 else { throw Diagnostic("one_hot values must hold [off, on], got \(values.type)") }
  let depth = k.attributes.int("depth")
  var axis = k.attributes.int("axis")
  if axis < 0 { axis += indices.shape.count + 1 }
  let outer = indices.shape[..<axis].reduce(1, *)
  let inner = indices.shape[axis...].reduce(1, *)
  let idx = indexOperandValues(indices)
  let es = values.element.byteSize
  let off = Array(values.bytes[0..<es]), on = Array(values.bytes[es..<(2 * es)])
  var bytes = [UInt8]()
  bytes.reserveCapacity(out.byteCount)
  for o in 0..<outer {
    for d in 0..<depth {
      for i in 0..<inner {
        var v = idx[o * inner + i]
        if v < 0 { v += depth }
        bytes += v == d ? on : off
      }
    }
  }
  return Tensor(type: out, bytes: bytes)
}

private func reverseSequence(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0].tensor, out = k.type()
  let lens = indexOperandValues(k.inputs[1])
  let (batchAxis, timeAxis) = (k.attributes.int("batch_axis"), k.attributes.int("time_axis"))
  guard x.shape.count >= 2, batchAxis != timeAxis, (0..<x.shape.count).contains(batchAxis),
        (0..<x.shape.count).contains(timeAxis), lens.count == x.shape[batchAxis] else {
    throw Diagnostic("reverse_sequence: sequence_lens \(k.inputs[1].type) does not fit \(x.type)")
  }
  let steps = x.shape[timeAxis]
  for l in lens where l < 0 || l > steps {
    throw Diagnostic("reverse_sequence: sequence length \(l) is out of range 0...\(steps)")
  }
  let strides = contiguousStrides(x.shape)
  let es = x.element.byteSize
  var bytes = [UInt8](repeating: 0, count: out.byteCount)
  forEachIndex(x.shape) { index, flat in
    let t = index[timeAxis], n = lens[index[batchAxis]]
    let source = t < n ? flat + (n - 1 - 2 * t) * strides[timeAxis] : flat
    for b in 0..<es { bytes[flat * es + b] = x.bytes[source * es + b] }
  }
  return Tensor(type: out, bytes: bytes)
}
