//===--- Folding.swift - import-time evaluation of small shape math -------===//
//
// Exported models compute shapes at run time (Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape). With static shapes those subgraphs are constants; this evaluator computes
// the few ops they use directly, so import does not depend on the interpreter's kernels.
// Anything else returns nil and the importer asks the interpreter (or keeps the op).

import SparrowIR

/// Evaluates `op` on small known inputs, or nil when this evaluator does not cover it.
func evaluateLocally(_ op: Operation, _ x: [Tensor], resultTypes: [TensorType]) -> [Tensor]? {
  let a = op.attributes
  let out = resultTypes[0]
  switch op.kind {
  case .identity, .reshape:
    return [Tensor(type: out, bytes: x[0].bytes)]
  case .cast:
    return [fromScalars(out, scalars(x[0]))]
  case .transpose:
    let perm = a.ints("perm")
    let inStrides = contiguousStrides(x[0].shape)
    return [gatherElements(x[0], out) { idx in zip(perm, idx).reduce(0) { $0 + inStrides[$1.0] * $1.1 } }]
  case .expand:
    return [broadcast(x[0], to: out)]
  case .slice:
    let starts = a.ints("starts"), ends = a.ints("ends"), axes = a.ints("axes"), steps = a.ints("steps")
    var first = [Int](repeating: 0, count: x[0].shape.count)
    var step = [Int](repeating: 1, count: x[0].shape.count)
    for i in axes.indices {
      first[axes[i]] = sliceRange(start: starts[i], end: ends[i], step: steps[i], dim: x[0].shape[axes[i]]).first
      step[axes[i]] = steps[i]
    }
    let st = contiguousStrides(x[0].shape)
    return [gatherElements(x[0], out) { idx in idx.indices.reduce(0) { $0 + (first[$1] + idx[$1] * step[$1]) * st[$1] } }]
  case .concat:
    let axis = a.int("axis")
    var offsets: [Int] = []
    var total = 0
    for t in x { offsets.append(total); total += t.shape[axis] }
    let size = out.element.byteSize
    var bytes = [UInt8](repeating: 0, count: out.byteCount)
    let outStrides = contiguousStrides(out.shape)
    for (t, off) in zip(x, offsets) {
      let st = contiguousStrides(t.shape)
      for i in 0..<t.count {
        var rem = i, o = 0
        for d in 0..<t.shape.count {
          let c = rem / st[d]
          rem %= st[d]
          o += (d == axis ? c + off : c) * outStrides[d]
        }
        bytes.replaceSubrange(o * size..<(o + 1) * size, with: t.bytes[i * size..<(i + 1) * size])
      }
    }
    return [Tensor(type: out, bytes: bytes)]
  case .gather:
    let axis = a.int("axis")
    let indices = x[1].ints
    let inShape = x[0].shape
    let st = contiguousStrides(inShape)
    let q = x[1].shape.count
    let qStrides = contiguousStrides(x[1].shape)
    for i in indices where i < -inShape[axis] || i >= inShape[axis] { _ = i; return nil }
    return [gatherElements(x[0], out) { idx in
      var k = 0
      for j in 0..<q { k += idx[axis + j] * qStrides[j] }
      var g = indices[k]
      if g < 0 { g += inShape[axis] }
      var o = g * st[axis]
      for d in 0..<axis { o += idx[d] * st[d] }
      for d in (axis + 1)..<inShape.count { o += idx[d + q - 1] * st[d] }
      return o
    }]
  case .add, .sub, .mul, .div, .mod, .max, .min, .equal, .less, .less_or_equal, .greater,
       .greater_or_equal, .and, .or, .where, .neg, .abs, .not, .sum:
    return elementwise(op.kind, x, out, fmod: op.kind == .mod && a.bool("fmod")).map { [$0] }
  case .reduce_prod, .reduce_sum, .reduce_min, .reduce_max:
    guard x[0].element.isInteger else { return nil }
    let axes = a.ints("axes")
    let v = x[0].ints
    let inStrides = contiguousStrides(x[0].shape)
    let keptShape = x[0].shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    let keptStrides = contiguousStrides(keptShape)
    var acc = [Int?](repeating: nil, count: out.count)
    for i in 0..<v.count {
      var rem = i, o = 0
      for d in 0..<x[0].shape.count {
        let c = rem / inStrides[d]
        rem %= inStrides[d]
        if !axes.contains(d) { o += c * keptStrides[d] }
      }
      let old = acc[o]
      switch op.kind {
      case .reduce_prod: acc[o] = (old ?? 1) &* v[i]
      case .reduce_sum: acc[o] = (old ?? 0) &+ v[i]
      case .reduce_min: acc[o] = min(old ?? .max, v[i])
      default: acc[o] = max(old ?? .min, v[i])
      }
    }
    let fill: Int = op.kind == .reduce_prod ? 1 : 0
    return [fromScalars(out, .ints(acc.map { Int64($0 ?? fill) }))]
  default:
    return nil
  }
}

/// Integer or floating element values of a tensor.
enum Scalars {
  case ints([Int64])
  case floats([Double])

  var count: Int {
    switch self {
    case let .ints(v): return v.count
    case let .floats(v): return v.count
    }
  }
  func int(_ i: Int) -> Int64 {
    switch self {
    case let .ints(v): return v[i]
    case let .floats(v): return v[i].isFinite ? Int64(max(min(v[i], 9.2e18), -9.2e18)) : 0
    }
  }
  func double(_ i: Int) -> Double {
    switch self {
    case let .ints(v): return Double(v[i])
    case let .floats(v): return v[i]
    }
  }
}

func scalars(_ t: Tensor) -> Scalars {
  t.element.isFloat ? .floats(t.doubles) : .ints((0..<t.count).map { t.int64(at: $0) })
}

/// Builds a tensor of `type` from scalars (converting as ONNX Cast does, saturating nothing).
func fromScalars(_ type: TensorType, _ s: Scalars) -> Tensor {
  let n = type.count
  switch type.element {
  case .f32: return Tensor(shape: type.shape, scalars: (0..<n).map { Float(s.double($0)) })
  case .f64: return Tensor(shape: type.shape, scalars: (0..<n).map { s.double($0) })
  case .f16:
    let bits = (0..<n).map { Float(s.double($0)).float16Bits }
    return Tensor(type: type, bytes: bits.withUnsafeBytes { [UInt8]($0) })
  case .bf16:
    let bits = (0..<n).map { Float(s.double($0)).bfloat16Bits }
    return Tensor(type: type, bytes: bits.withUnsafeBytes { [UInt8]($0) })
  case .i64: return Tensor(shape: type.shape, scalars: (0..<n).map { s.int($0) })
  case .i32: return Tensor(shape: type.shape, scalars: (0..<n).map { Int32(truncatingIfNeeded: s.int($0)) })
  case .i16: return Tensor(shape: type.shape, scalars: (0..<n).map { Int16(truncatingIfNeeded: s.int($0)) })
  case .i8: return Tensor(shape: type.shape, scalars: (0..<n).map { Int8(truncatingIfNeeded: s.int($0)) })
  case .u64: return Tensor(shape: type.shape, scalars: (0..<n).map { UInt64(truncatingIfNeeded: s.int($0)) })
  case .u32: return Tensor(shape: type.shape, scalars: (0..<n).map { UInt32(truncatingIfNeeded: s.int($0)) })
  case .u16: return Tensor(shape: type.shape, scalars: (0..<n).map { UInt16(truncatingIfNeeded: s.int($0)) })
  case .u8: return Tensor(shape: type.shape, scalars: (0..<n).map { UInt8(truncatingIfNeeded: s.int($0)) })
  case .bool: return Tensor(type: type, bytes: (0..<n).map { s.double($0) != 0 ? 1 : 0 })
  }
}

/// Copies elements of `x` into a tensor of `type`: output element at a multi-index reads
/// input element `source(index)`.
func gatherElements(_ x: Tensor, _ type: TensorType, _ source: ([Int]) -> Int) -> Tensor {
  let size = x.element.byteSize
  var bytes = [UInt8](repeating: 0, count: type.byteCount)
  let st = contiguousStrides(type.shape)
  var idx = [Int](repeating: 0, count: type.shape.count)
  for i in 0..<type.count {
    var rem = i
    for d in 0..<idx.count { idx[d] = rem / st[d]; rem %= st[d] }
    let s = source(idx)
    bytes.replaceSubrange(i * size..<(i + 1) * size, with: x.bytes[s * size..<(s + 1) * size])
  }
  return Tensor(type: type.with(element: x.element), bytes: bytes)
}

/// The input element index of a numpy broadcast for each output multi-index.
func broadcastSource(_ inShape: [Int], _ outShape: [Int]) -> ([Int]) -> Int {
  let off = outShape.count - inShape.count
  let st = contiguousStrides(inShape)
  return { idx in
    var s = 0
    for d in 0..<inShape.count where inShape[d] != 1 { s += idx[off + d] * st[d] }
    return s
  }
}

func broadcast(_ x: Tensor, to type: TensorType) -> Tensor {
  gatherElements(x, type, broadcastSource(x.shape, type.shape))
}

private func elementwise(_ kind: OpKind, _ x: [Tensor], _ out: TensorType, fmod: Bool) -> Tensor? {
  let shape = out.shape
  let expanded = x.map { scalars(broadcast($0, to: TensorType($0.element, shape))) }
  let n = out.count
  let operandIsFloat = kind == .where ? x[1].element.isFloat : x[0].element.isFloat
  if operandIsFloat {
    var r = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let a = expanded[0].double(i), b = expanded.count > 1 ? expanded[1].double(i) : 0
      switch kind {
      case .add, .sum: r[i] = expanded.indices.reduce(0) { $0 + expanded[$1].double(i) }
      case .sub: r[i] = a - b
      case .mul: r[i] = a * b
      case .div: r[i] = a / b
      case .mod: r[i] = fmod ? a.truncatingRemainder(dividingBy: b) : a - b * (a / b).rounded(.down)
      case .max: r[i] = expanded.indices.map { expanded[$0].double(i) }.max()!
      case .min: r[i] = expanded.indices.map { expanded[$0].double(i) }.min()!
      case .equal: r[i] = a == b ? 1 : 0
      case .less: r[i] = a < b ? 1 : 0
      case .less_or_equal: r[i] = a <= b ? 1 : 0
      case .greater: r[i] = a > b ? 1 : 0
      case .greater_or_equal: r[i] = a >= b ? 1 : 0
      case .where: r[i] = a != 0 ? b : expanded[2].double(i)
      case .neg: r[i] = -a
      case .abs: r[i] = Swift.abs(a)
      default: return nil
      }
    }
    return fromScalars(out, .floats(r))
  }
  var r = [Int64](repeating: 0, count: n)
  for i in 0..<n {
    let a = expanded[0].int(i), b = expanded.count > 1 ? expanded[1].int(i) : 0
    switch kind {
    case .add, .sum: r[i] = expanded.indices.reduce(Int64(0)) { $0 &+ expanded[$1].int(i) }
    case .sub: r[i] = a &- b
    case .mul: r[i] = a &* b
    case .div:
      guard b != 0, b != -1 || a != .min else { return nil }
      r[i] = a / b
    case .mod:
      guard b != 0, b != -1 || a != .min else { return nil }
      let m = a % b
      r[i] = fmod || m == 0 || (m < 0) == (b < 0) ? m : m + b
    case .max: r[i] = expanded.indices.map { expanded[$0].int(i) }.max()!
    case .min: r[i] = expanded.indices.map { expanded[$0].int(i) }.min()!
    case .equal: r[i] = a == b ? 1 : 0
    case .less: r[i] = a < b ? 1 : 0
    case .less_or_equal: r[i] = a <= b ? 1 : 0
    case .greater: r[i] = a > b ? 1 : 0
    case .greater_or_equal: r[i] = a >= b ? 1 : 0
    case .and: r[i] = a != 0 && b != 0 ? 1 : 0
    case .or: r[i] = a != 0 || b != 0 ? 1 : 0
    case .not: r[i] = a == 0 ? 1 : 0
    case .where: r[i] = a != 0 ? b : expanded[2].int(i)
    case .neg: r[i] = 0 &- a
    case .abs: r[i] = a < 0 ? 0 &- a : a
    default: return nil
    }
  }
  return fromScalars(out, .ints(r))
}
