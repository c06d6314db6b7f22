//===--- Scalars.swift - constants the importer builds from computed values ---===//
//
// Ops that the importer expands into constants (Range, EyeLike, windows, mel filters,
// attribute scalars) compute their values as Int64 or Double and convert them to the
// element type here, as ONNX Cast does; Unique and NonZero over known inputs gather
// elements. (Import-time folding of shape math has no evaluator of its own:
// `GraphImporter.fold` asks the interpreter, the one reference.)

import SparrowIR

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
