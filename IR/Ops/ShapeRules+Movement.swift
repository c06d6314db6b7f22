//===--- ShapeRules+Movement.swift - reshapes, slices, gathers, resize ---===//

/// ONNX Slice semantics along one axis: clamps start/end for `dim` and returns the first
/// index and the element count.
public func sliceRange(start: Int, end: Int, step: Int, dim: Int) -> (first: Int, count: Int) {
  precondition(step != 0)
  var s = start < 0 ? start + dim : start
  var e = end < 0 ? end + dim : end
  if step > 0 {
    s = min(max(s, 0), dim)
    e = min(max(e, 0), dim)
    return (s, e > s ? (e - s - 1) / step + 1 : 0)
  }
  s = min(max(s, -1), dim - 1)
  e = min(max(e, -1), dim - 1)
  return (s, s > e ? -((s - e - 1) / step) + 1 : 0)
}

func movementTypes(_ kind: OpKind, _ x: [TensorType], _ a: Attributes) throws -> [TensorType] {
  let t = x[0]
  let e = t.element
  switch kind {
  case .reshape:
    let s = a.ints("shape")
    try expect(checkedElementCount(s) == t.count,
               "cannot reshape \(t) to \(s)")
    return [TensorType(e, s)]
  case .transpose:
    let p = a.ints("perm")
    try expect(p.sorted() == Array(0..<t.rank), "bad perm \(p) for \(t)")
    return [TensorType(e, p.map { t.shape[$0] })]
  case .expand:
    return [TensorType(e, try broadcastShapes([t.shape, a.ints("shape")]))]
  case .tile:
    let r = a.ints("repeats")
    try expect(r.count == t.rank && r.allSatisfy { $0 >= 0 }, "bad repeats \(r) for \(t)")
    return [TensorType(e, try zip(t.shape, r).map { try checkedProduct($0, $1) })]
  case .concat:
    let axis = try checkDimensionAxis(a.int("axis"), rank: t.rank)
    var s = t.shape
    s[axis] = 0
    for o in x {
      var os = o.shape
      try expect(os.count == t.rank && o.element == e, "concat operands \(t) and \(o) do not fit")
      s[axis] = try checkedSum(s[axis], os[axis])
      os[axis] = 0
      var ts = t.shape
      ts[axis] = 0
      try expect(os == ts, "concat operands \(t) and \(o) differ off axis \(axis)")
    }
    return [TensorType(e, s)]
  case .split:
    let axis = try checkDimensionAxis(a.int("axis"), rank: t.rank)
    let sizes = a.ints("sizes")
    try expect(sizes.allSatisfy { $0 >= 0 && $0 <= t.shape[axis] }
               && (try sizes.reduce(0) { try checkedSum($0, $1) }) == t.shape[axis],
               "split sizes \(sizes) do not add up to \(t.shape[axis])")
    return sizes.map { var s = t.shape; s[axis] = $0; return TensorType(e, s) }
  case .slice:
    let starts = a.ints("starts"), ends = a.ints("ends"), axes = a.ints("axes"), steps = a.ints("steps")
    try expect(starts.count == ends.count && axes.count == starts.count && steps.count == starts.count,
               "slice starts/ends/axes/steps lengths differ")
    var s = t.shape
    for i in axes.indices {
      let ax = try checkDimensionAxis(axes[i], rank: t.rank)
      try expect(steps[i] != 0, "slice step 0")
      s[ax] = sliceRange(start: starts[i], end: ends[i], step: steps[i], dim: t.shape[ax]).count
    }
    return [TensorType(e, s)]
  case .pad:
    let p = a.ints("pads")
    try expect(p.count == 2 * t.rank, "pads \(p) must have 2 x rank \(t.rank) entries")
    let s = try (0..<t.rank).map { try checkedSum(checkedSum(t.shape[$0], p[$0]), p[t.rank + $0]) }
    try expect(s.allSatisfy { $0 >= 0 }, "pads \(p) make \(t) negative")
    return [TensorType(e, s)]
  case .gather:
    let axis = try checkDimensionAxis(a.int("axis"), rank: t.rank)
    try expect(x[1].element == .i64 || x[1].element == .i32, "gather indices must be integers, got \(x[1])")
    return [TensorType(e, Array(t.shape[..<axis]) + x[1].shape + Array(t.shape[(axis + 1)...]))]
  case .gather_elements:
    _ = try checkAxis(a.int("axis"), rank: t.rank)
    try expect(x[1].rank == t.rank, "gather_elements indices \(x[1]) must have rank \(t.rank)")
    return [TensorType(e, x[1].shape)]
  case .gather_nd:
    let b = a.int("batch_dims")
    let q = x[1].shape
    try expect(!q.isEmpty && b >= 0 && q.last! >= 0 && b <= t.rank && q.last! <= t.rank - b,
               "gather_nd indices \(x[1]) do not fit \(t)")
    return [TensorType(e, Array(q.dropLast()) + Array(t.shape[(b + q.last!)...]))]
  case .scatter_elements, .scatter_nd:
    return [t.dense]
  case .depth_to_space:
    let b = a.int("blocksize")
    try expect(t.rank == 4 && b > 0, "depth_to_space \(t) with blocksize \(b)")
    let b2 = try checkedProduct(b, b)
    try expect(t.shape[1] % b2 == 0, "depth_to_space \(t) with blocksize \(b)")
    return [TensorType(e, [t.shape[0], t.shape[1] / b2, try checkedProduct(t.shape[2], b),
                           try checkedProduct(t.shape[3], b)])]
  case .space_to_depth:
    let b = a.int("blocksize")
    try expect(t.rank == 4 && b > 0 && t.shape[2] % b == 0 && t.shape[3] % b == 0,
               "space_to_depth \(t) with blocksize \(b)")
    return [TensorType(e, [t.shape[0], try checkedProduct(t.shape[1], checkedProduct(b, b)),
                           t.shape[2] / b, t.shape[3] / b])]
  case .resize:
    let s = a.ints("sizes")
    try expect(s.count == t.rank && s.allSatisfy { $0 >= 0 }, "resize sizes \(s) do not fit \(t)")
    return [TensorType(e, s)]
  case .reverse_sequence, .trilu:
    return [t.dense]
  case .one_hot:
    let depth = a.int("depth")
    var axis = a.int("axis")
    if axis < 0 { axis += t.rank + 1 }
    try expect(axis >= 0 && axis <= t.rank && depth >= 0, "one_hot axis/depth out of range")
    var s = t.shape
    s.insert(depth, at: axis)
    return [TensorType(x[1].element, s)]
  default:
    preconditionFailure("\(kind) is not a movement op")
  }
}
