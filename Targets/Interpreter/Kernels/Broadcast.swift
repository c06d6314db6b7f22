//===--- Broadcast.swift - numpy broadcasting as runs of contiguous loops ---===//
//
// A `BroadcastPlan` collapses the output shape and the operands' broadcast strides
// (0 along broadcast axes) into as few axes as possible, so the common cases become one
// inner loop per run:
//
//   [1,64,56,56] + [1,64,1,1]  ->  dims [64, 3136], strides a [3136, 1], b [1, 0]
//   [8,16] * []                ->  dims [128],      strides a [1],       b [0]
//
// `binaryMap` specializes the inner loop for strides (1,1), (0,1), (1,0).

import SparrowIR

struct BroadcastPlan {
  /// Collapsed output dims (at least one).
  let dims: [Int]
  /// Per operand, its stride along each collapsed dim (0 where broadcast).
  let strides: [[Int]]
  let count: Int

  init(output: [Int], operands: [[Int]]) {
    count = output.reduce(1, *)
    let rank = output.count
    // Full-rank strides, 0 along broadcast axes.
    var full: [[Int]] = operands.map { shape in
      precondition(shape.count <= rank, "operand \(shape) outranks output \(output)")
      let own = contiguousStrides(shape)
      let off = rank - shape.count
      return (0..<rank).map { i in i < off || shape[i - off] == 1 ? 0 : own[i - off] }
    }
    // Drop size-1 axes, then merge an axis into its predecessor when every operand
    // steps contiguously across the boundary.
    var dims: [Int] = []
    var kept: [[Int]] = Array(repeating: [], count: operands.count)
    for i in 0..<rank where output[i] != 1 {
      if let last = dims.last,
         full.indices.allSatisfy({ full[$0][i] * output[i] == kept[$0].last! }) {
        dims[dims.count - 1] = last * output[i]
        for j in full.indices { kept[j][kept[j].count - 1] = full[j][i] }
      } else {
        dims.append(output[i])
        for j in full.indices { kept[j].append(full[j][i]) }
      }
    }
    if dims.isEmpty {
      dims = [1]
      for j in full.indices { kept[j] = [0] }
    }
    full = kept
    self.dims = dims
    self.strides = full
  }

  /// Length of each run (the innermost collapsed dim).
  var runLength: Int { dims[dims.count - 1] }

  /// Inner stride of operand `j`.
  func innerStride(_ j: Int) -> Int { strides[j][dims.count - 1] }

  /// Walks the runs in output order: `offsets` are each operand's element offset at the
  /// start of the current run.
  struct Runs {
    let plan: BroadcastPlan
    var index: [Int]
    var offsets: [Int]
    var remaining: Int

    init(_ plan: BroadcastPlan) {
      self.plan = plan
      index = [Int](repeating: 0, count: plan.dims.count)
      offsets = [Int](repeating: 0, count: plan.strides.count)
      remaining = plan.count == 0 ? 0 : plan.count / plan.runLength
    }

    /// Moves to the next run; false when done. Call once before reading the first run.
    mutating func advance(first: Bool) -> Bool {
      if remaining == 0 { return false }
      remaining -= 1
      if first { return true }
      var d = plan.dims.count - 2
      while d >= 0 {
        index[d] += 1
        for j in offsets.indices { offsets[j] += plan.strides[j][d] }
        if index[d] < plan.dims[d] { break }
        for j in offsets.indices { offsets[j] -= plan.strides[j][d] * plan.dims[d] }
        index[d] = 0
        d -= 1
      }
      return true
    }
  }
}

/// out[i] = f(a[ia], b[ib]) over the broadcast of `aShape` and `bShape` into `outShape`.
@inline(__always)
func binaryMap<A, B, R>(_ a: UnsafePointer<A>, _ aShape: [Int], _ b: UnsafePointer<B>, _ bShape: [Int],
                        _ out: UnsafeMutablePointer<R>, _ outShape: [Int], _ f: (A, B) -> R) {
  let plan = BroadcastPlan(output: outShape, operands: [aShape, bShape])
  if plan.count == 0 { return }
  let n = plan.runLength, sa = plan.innerStride(0), sb = plan.innerStride(1)
  var runs = BroadcastPlan.Runs(plan)
  var o = out
  var first = true
  while runs.advance(first: first) {
    first = false
    let pa = a + runs.offsets[0], pb = b + runs.offsets[1]
    if sa == 1 && sb == 1 {
      for i in 0..<n { o[i] = f(pa[i], pb[i]) }
    } else if sa == 1 && sb == 0 {
      let y = pb[0]
      for i in 0..<n { o[i] = f(pa[i], y) }
    } else if sa == 0 && sb == 1 {
      let x = pa[0]
      for i in 0..<n { o[i] = f(x, pb[i]) }
    } else {
      for i in 0..<n { o[i] = f(pa[i * sa], pb[i * sb]) }
    }
    o += n
  }
}

/// out[i] = f(a[ia], b[ib], c[ic]) over the broadcast of three operands (for `where`).
@inline(__always)
func ternaryMap<A, B, C, R>(_ a: UnsafePointer<A>, _ aShape: [Int], _ b: UnsafePointer<B>, _ bShape: [Int],
                            _ c: UnsafePointer<C>, _ cShape: [Int],
                            _ out: UnsafeMutablePointer<R>, _ outShape: [Int], _ f: (A, B, C) -> R) {
  let plan = BroadcastPlan(output: outShape, operands: [aShape, bShape, cShape])
  if plan.count == 0 { return }
  let n = plan.runLength
  let sa = plan.innerStride(0), sb = plan.innerStride(1), sc = plan.innerStride(2)
  var runs = BroadcastPlan.Runs(plan)
  var o = out
  var first = true
  while runs.advance(first: first) {
    first = false
    let pa = a + runs.offsets[0], pb = b + runs.offsets[1], pc = c + runs.offsets[2]
    for i in 0..<n { o[i] = f(pa[i * sa], pb[i * sb], pc[i * sc]) }
    o += n
  }
}

/// Copies `x` (of `shape`) broadcast to `outShape` into `out` (any trivially copyable T).
func broadcastCopy<T>(_ x: UnsafePointer<T>, _ shape: [Int], _ out: UnsafeMutablePointer<T>,
                      _ outShape: [Int]) {
  let plan = BroadcastPlan(output: outShape, operands: [shape])
  if plan.count == 0 { return }
  let n = plan.runLength, s = plan.innerStride(0)
  var runs = BroadcastPlan.Runs(plan)
  var o = out
  var first = true
  while runs.advance(first: first) {
    first = false
    let p = x + runs.offsets[0]
    for i in 0..<n { o[i] = p[i * s] }
    o += n
  }
}
