//===--- TestData.swift - the one seeded data source of the tests ---===//
//
//   var g = SeededGenerator(seed: 7)
//   let w = g.tensor([4, 3, 3, 3])          // f32 in [-1, 1)
//   var s: UInt64 = 7; seededFloats(16, seed: &s)
//
// Every test draws its data from the product's generator (`SeededGenerator`, SplitMix64,
// Targets/Support/RandomTensors.swift), so a case means the same numbers on every machine
// and in every test target.

import SparrowIR
import SparrowTargetSupport

extension SeededGenerator {
  /// Uniform in [-1, 1).
  public mutating func float() -> Float { Float.random(in: -1..<1, using: &self) }
  /// `n` values uniform in [-1, 1).
  public mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
  /// An f32 tensor of `shape` with values in [-1, 1).
  public mutating func tensor(_ shape: [Int]) -> Tensor { Tensor(shape: shape, scalars: floats(shape.reduce(1, *))) }
  /// Uniform in `range`.
  public mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
  /// Uniform in [0, 1).
  public mutating func unit() -> Double { Double.random(in: 0..<1, using: &self) }
}

/// `n` values in [-1, 1) from the generator seeded with `seed`; `seed` becomes the state
/// to continue from (callers chain several draws through one variable).
public func seededFloats(_ n: Int, seed: inout UInt64) -> [Float] {
  var g = SeededGenerator(seed: seed)
  defer { seed = g.next() }
  return g.floats(n)
}

/// An f32 tensor of `shape` with seeded values in [-1, 1).
public func seededTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  var g = SeededGenerator(seed: seed)
  return g.tensor(shape)
}

/// Seeded inputs for every argument of `f`: f32 in [-1, 1); i64 arguments get indices in
/// [-2, 8) (negative ones exercise the gathers' wrap-around).
public func seededInputs(for f: Function, seed: UInt64) -> [Tensor] {
  var g = SeededGenerator(seed: seed)
  return f.arguments.map { v -> Tensor in
    let t = f.type(of: v)
    if t.element == .i64 { return Tensor(shape: t.shape, scalars: (0..<t.count).map { _ in Int64(g.int(-2..<8)) }) }
    return g.tensor(t.shape)
  }
}
