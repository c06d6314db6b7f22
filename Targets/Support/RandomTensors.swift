//===--- RandomTensors.swift - seeded inputs for bench and pass checking --===//
//
// A small deterministic generator (SplitMix64), so `bench` and `--check-passes` feed the
// same inputs on every machine.

import SparrowIR

public struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// A tensor of `type` with values in [-1, 1) for floats, [0, 4) for integers (small, so
/// they are valid indices for most gathers), random bools.
public func randomTensor(_ type: TensorType, using g: inout SeededGenerator) -> Tensor {
  let n = type.count
  switch type.element {
  case .f32:
    return Tensor(shape: type.shape, scalars: (0..<n).map { _ in Float.random(in: -1..<1, using: &g) })
  case .f64:
    return Tensor(shape: type.shape, scalars: (0..<n).map { _ in Double.random(in: -1..<1, using: &g) })
  case .f16:
    let bits = (0..<n).map { _ in Float.random(in: -1..<1, using: &g).float16Bits }
    return Tensor(type: type.dense, bytes: bits.withUnsafeBytes { [UInt8]($0) })
  case .bf16:
    let bits = (0..<n).map { _ in Float.random(in: -1..<1, using: &g).bfloat16Bits }
    return Tensor(type: type.dense, bytes: bits.withUnsafeBytes { [UInt8]($0) })
  case .bool:
    return Tensor(shape: type.shape, scalars: (0..<n).map { _ in Bool.random(using: &g) })
  case .i64, .i32, .i16, .i8, .u64, .u32, .u16, .u8:
    // Little-endian small values: the low byte carries the value, the rest is zero.
    var bytes = [UInt8](repeating: 0, count: type.byteCount)
    let size = type.element.byteSize
    for i in 0..<n { bytes[i * size] = UInt8.random(in: 0..<4, using: &g) }
    return Tensor(type: type.dense, bytes: bytes)
  }
}

/// Seeded random inputs for every argument of `f`.
public func randomInputs(for f: Function, seed: UInt64 = 0) -> [Tensor] {
  var g = SeededGenerator(seed: seed)
  return f.arguments.map { randomTensor(f.type(of: $0), using: &g) }
}
