//===--- VectorRows.swift - loops over a contiguous row of floats, a vector at a time ---===//
//
//   forEachVector(count: n) { offset, valid in ... }      full vectors, then one masked tail
//   reduceRow(p, count: n, neutral: 0) { acc, v in fadd(acc, v) } -> scalar
//
// Reductions carry a vector accumulator (the tail is loaded with `neutral` in its unused
// lanes) and fold it horizontally once at the end: scalar loops with an fadd chain are
// latency-bound, and LLVM may not reassociate them.

internal import CLLVM

extension CodegenModule {
  /// Calls `body(offset, valid)` for offsets 0, L, 2L ... below `count`; `valid` is the
  /// number of lanes in range (L except on the last, partial vector).
  func forEachVector(count: Int, _ body: (_ offset: Value, _ valid: Int) -> Void) {
    let full = count / lanes
    if full > 0 { forLoop(0, full * lanes, step: lanes) { body($0, lanes) } }
    if count % lanes > 0 { body(int(full * lanes), count % lanes) }
  }

  /// Folds the `count` floats at `p`, after `transform`, with `combine` (associative,
  /// `neutral` its identity) into a scalar; `horizontal` folds the final vector.
  func reduceRow(_ p: Value, count: Int, neutral: Float, transform: (Value) -> Value = { $0 },
                 combine: (Value, Value) -> Value, horizontal: (Value) -> Value) -> Value {
    var acc = splat(neutral)
    let full = count / lanes
    if full > 0 {
      acc = forLoop(int(0), int(full * lanes), step: lanes, carrying: [acc]) { i, a in
        [combine(a[0], transform(load(vectorAt: at(p, i))))]
      }[0]
    }
    if count % lanes > 0 {
      let v = transform(load(vectorAt: at(p, full * lanes), lanes: count % lanes))
      // Lanes past the end must stay neutral after the transform too.
      acc = combine(acc, select(prefixMask(count % lanes), v, splat(neutral)))
    }
    return horizontal(acc)
  }

  /// Σ of the row.
  func sumRow(_ p: Value, count: Int, transform: (Value) -> Value = { $0 }) -> Value {
    reduceRow(p, count: count, neutral: 0, transform: transform, combine: fadd, horizontal: reduceAdd)
  }
}
