//===--- SparsityTestHelpers.swift - pruned weights built independently of the passes ---===//

import SparrowIR
import SparrowTestSupport

/// `w` [rows, K] (row-major floats) with all but the `n` largest magnitudes of every `m`
/// consecutive elements of each row set to zero (what bench/prune.py does).
func prunedNM(_ w: [Float], rows: Int, k: Int, n: Int, m: Int) -> [Float] {
  var out = w
  for r in 0..<rows {
    for g in stride(from: 0, to: k, by: m) {
      let idx = (g..<(g + m)).map { r * k + $0 }.sorted { abs(w[$0]) > abs(w[$1]) }
      for i in idx.dropFirst(n) { out[i] = 0 }
    }
  }
  return out
}

/// A seeded conv weight [o, c, kh, kw] pruned N:M along (kh, kw, Cin) (Cin innermost)
/// or, with `channelsInnermost` false, along the plain flattening (Cin, kh, kw).
func prunedConvWeight(_ shape: [Int], n: Int, m: Int, channelsInnermost: Bool, seed: UInt64) -> Tensor {
  let (o, c, s) = (shape[0], shape[1], shape[2] * shape[3])
  let w = seededTensor(shape, seed: seed).array(of: Float.self)
  guard channelsInnermost else {
    return Tensor(shape: shape, scalars: prunedNM(w, rows: o, k: c * s, n: n, m: m))
  }
  // [o, c, s] -> [o, s, c], prune along c, and back.
  var rows = [Float](repeating: 0, count: w.count)
  for oi in 0..<o { for ci in 0..<c { for p in 0..<s { rows[(oi * s + p) * c + ci] = w[(oi * c + ci) * s + p] } } }
  let pruned = prunedNM(rows, rows: o, k: c * s, n: n, m: m)
  var back = [Float](repeating: 0, count: w.count)
  for oi in 0..<o { for ci in 0..<c { for p in 0..<s { back[(oi * c + ci) * s + p] = pruned[(oi * s + p) * c + ci] } } }
  return Tensor(shape: shape, scalars: back)
}

/// A seeded [rows, k] weight keeping only a `keepEvery`-th of its r x c blocks.
func blockPruned(rows: Int, k: Int, r: Int, c: Int, keepEvery: Int, seed: UInt64) -> [Float] {
  var w = seededTensor([rows, k], seed: seed).array(of: Float.self)
  for i in 0..<rows { for j in 0..<k where ((i / r) * (k / c) + j / c) % keepEvery != 0 { w[i * k + j] = 0 } }
  return w
}

/// A seeded weight with the elements whose magnitude is below `threshold` set to zero.
func magnitudePruned(_ shape: [Int], threshold: Float, seed: UInt64) -> Tensor {
  Tensor(shape: shape, scalars: seededTensor(shape, seed: seed).array(of: Float.self).map { abs($0) < threshold ? 0 : $0 })
}
