//===--- ShapeRules.swift - result types of every op ---------------------===//
//
// `inferStorageResultTypes` is the one exhaustive switch that says what each op produces.
// It throws a Diagnostic (without location; callers add it) for operands that do not fit.
// `inferResultTypes` (ShapeRules+Quantization.swift) adds the quantization rules.

func inferStorageResultTypes(_ kind: OpKind, _ x: [TensorType], _ a: Attributes,
                             constants: ConstantPool) throws -> [TensorType] {
  func same() -> [TensorType] { [x[0].dense] }
  switch kind {
  case .constant:
    let name = a.string("name")
    guard let t = constants[name] else { throw Diagnostic("unknown constant @\(name)") }
    return [t.type]

  case .abs, .neg, .exp, .log, .sqrt, .reciprocal, .floor, .ceil, .round, .sign,
       .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh,
       .erf, .tanh, .sigmoid, .relu, .softplus, .softsign, .mish, .hard_swish,
       .leaky_relu, .elu, .selu, .celu, .thresholded_relu, .hard_sigmoid, .gelu, .clip,
       .shrink, .bitwise_not, .identity:
    return same()
  case .not:
    try expect(x[0].element == .bool, "'not' needs a bool operand, got \(x[0])")
    return same()
  case .is_nan, .is_inf: return [x[0].dense.with(element: .bool)]
  case .cast: return [x[0].dense.with(element: a.type("to"))]

  case .add, .sub, .mul, .div, .mod, .max, .min, .sum, .mean, .and, .or, .xor,
       .bitwise_and, .bitwise_or, .bitwise_xor, .bit_shift, .prelu:
    try sameElements(kind, x)
    if kind == .and || kind == .or || kind == .xor {
      try expect(x[0].element == .bool, "'\(kind.rawValue)' needs bool operands")
    }
    return [TensorType(x[0].element, try broadcastShapes(x.map(\.shape)))]
  case .pow:
    return [TensorType(x[0].element, try broadcastShapes(x.map(\.shape)))]
  case .equal, .greater, .greater_or_equal, .less, .less_or_equal:
    try sameElements(kind, x)
    return [TensorType(.bool, try broadcastShapes(x.map(\.shape)))]
  case .where:
    try expect(x[0].element == .bool, "'where' condition must be bool, got \(x[0])")
    try sameElements(kind, Array(x[1...]))
    return [TensorType(x[1].element, try broadcastShapes(x.map(\.shape)))]

  case .reduce_sum, .reduce_mean, .reduce_max, .reduce_min, .reduce_prod, .reduce_l1,
       .reduce_l2, .reduce_log_sum, .reduce_log_sum_exp, .reduce_sum_square:
    let axes = try checkAxes(a.ints("axes"), rank: x[0].rank)
    return [TensorType(x[0].element, reducedShape(x[0].shape, axes, keepdims: a.bool("keepdims")))]
  case .argmax, .argmin:
    let axis = try checkAxis(a.int("axis"), rank: x[0].rank)
    return [TensorType(.i64, reducedShape(x[0].shape, [axis], keepdims: a.bool("keepdims")))]
  case .cumsum:
    _ = try checkAxis(a.int("axis"), rank: x[0].rank)
    return same()
  case .top_k:
    let axis = try checkDimensionAxis(a.int("axis"), rank: x[0].rank)
    let k = a.int("k")
    try expect(k >= 0 && k <= x[0].shape[axis], "top_k k=\(k) out of range for \(x[0])")
    var s = x[0].shape
    s[axis] = k
    return [TensorType(x[0].element, s), TensorType(.i64, s)]
  case .softmax, .log_softmax, .hardmax:
    _ = try checkAxis(a.int("axis"), rank: x[0].rank)
    return same()
  case .batch_norm:
    try expect(x[0].rank >= 2, "batch_norm needs rank >= 2, got \(x[0])")
    for p in x[1...] { try expect(p.shape == [x[0].shape[1]], "batch_norm parameter \(p) does not match \(x[0].shape[1]) channels") }
    return same()
  case .layer_norm:
    let axis = try checkAxis(a.int("axis"), rank: x[0].rank)
    let norm = Array(x[0].shape[axis...])
    for p in x[1...] { _ = try broadcastShapes([norm, p.shape]) }
    return same()
  case .instance_norm, .group_norm:
    try expect(x[0].rank >= 2, "\(kind.rawValue) needs rank >= 2, got \(x[0])")
    return same()
  case .lrn, .mean_variance_norm: return same()
  case .lp_norm:
    _ = try checkAxis(a.int("axis"), rank: x[0].rank)
    return same()

  case .gemm: return [try typeWithEpilogue(kind, x, a) { try gemmType($0, a) }]
  case .matmul: return [try matmulType(x[0], x[1])]
  case .conv: return [try typeWithEpilogue(kind, x, a) { try convType($0, a) }]
  case .conv_transpose: return [try convTransposeType(x, a)]
  case .einsum: return [try einsumType(a.string("equation"), x)]
  case .attention: return [try attentionType(x, a)]

  case .max_pool:
    let t = try poolType(x[0], a)
    return [t, t.with(element: .i64)]
  case .average_pool, .lp_pool: return [try poolType(x[0], a)]
  case .global_average_pool, .global_max_pool, .global_lp_pool:
    try expect(x[0].rank >= 3, "\(kind.rawValue) needs rank >= 3, got \(x[0])")
    return [TensorType(x[0].element, Array(x[0].shape[0..<2]) + Array(repeating: 1, count: x[0].rank - 2))]

  case .reshape, .transpose, .expand, .tile, .concat, .split, .slice, .pad, .gather,
       .gather_elements, .gather_nd, .scatter_elements, .scatter_nd, .depth_to_space,
       .space_to_depth, .resize, .reverse_sequence, .one_hot, .trilu:
    return try movementTypes(kind, x, a)

  case .lstm, .gru, .rnn: return try recurrentTypes(kind, x, a)

  case .quantize_linear: return [x[0].dense.with(element: x[2].element)]
  case .dequantize_linear: return [x[0].dense.with(element: x[1].element)]
  case .qconv, .qmatmul: return [try integerOpType(kind, x, a)]
  }
}

// MARK: - Shared helpers

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
  if !condition { throw Diagnostic(message()) }
}

func sameElements(_ kind: OpKind, _ x: [TensorType]) throws {
  for t in x.dropFirst() where t.element != x[0].element {
    throw Diagnostic("'\(kind.rawValue)' operands have different element types: \(x[0]) and \(t)")
  }
}

/// Numpy-style broadcast of several shapes.
public func broadcastShapes(_ shapes: [[Int]]) throws -> [Int] {
  let rank = shapes.map(\.count).max() ?? 0
  var out = [Int](repeating: 1, count: rank)
  for s in shapes {
    let off = rank - s.count
    for (i, d) in s.enumerated() {
      let o = out[off + i]
      if o == d || d == 1 { continue }
      if o == 1 { out[off + i] = d; continue }
      throw Diagnostic("shapes \(shapes.map { "\($0)" }.joined(separator: ", ")) do not broadcast")
    }
  }
  return out
}

func checkAxis(_ axis: Int, rank: Int) throws -> Int {
  try expect(axis >= 0 && axis < max(rank, 1), "axis \(axis) out of range for rank \(rank)")
  return axis
}

/// An axis that indexes a dimension (`axis < rank`, so never 0 for a scalar).
func checkDimensionAxis(_ axis: Int, rank: Int) throws -> Int {
  try expect(axis >= 0 && axis < rank, "axis \(axis) out of range for rank \(rank)")
  return axis
}

/// `a * b`, or a Diagnostic when it overflows (attributes from files can be anything).
func checkedProduct(_ a: Int, _ b: Int) throws -> Int {
  let (p, overflow) = a.multipliedReportingOverflow(by: b)
  try expect(!overflow, "size \(a) x \(b) is too large")
  return p
}

/// `a + b`, or a Diagnostic when it overflows.
func checkedSum(_ a: Int, _ b: Int) throws -> Int {
  let (s, overflow) = a.addingReportingOverflow(b)
  try expect(!overflow, "size \(a) + \(b) is too large")
  return s
}

func checkAxes(_ axes: [Int], rank: Int) throws -> [Int] {
  for a in axes { _ = try checkAxis(a, rank: rank) }
  try expect(Set(axes).count == axes.count, "repeated axis in \(axes)")
  return axes
}

public func reducedShape(_ shape: [Int], _ axes: [Int], keepdims: Bool) -> [Int] {
  var out: [Int] = []
  for (i, d) in shape.enumerated() {
    if axes.contains(i) { if keepdims { out.append(1) } } else { out.append(d) }
  }
  return out
}

func gemmType(_ x: [TensorType], _ a: Attributes) throws -> TensorType {
  try expect(x[0].rank == 2 && x[1].rank == 2, "gemm needs rank-2 operands, got \(x[0]) and \(x[1])")
  let (m, k) = a.bool("transA") ? (x[0].shape[1], x[0].shape[0]) : (x[0].shape[0], x[0].shape[1])
  let (k2, n) = a.bool("transB") ? (x[1].shape[1], x[1].shape[0]) : (x[1].shape[0], x[1].shape[1])
  try expect(k == k2, "gemm reduction sizes differ: \(k) vs \(k2) (\(x[0]) x \(x[1]))")
  if x.count == 3 {
    let c = try broadcastShapes([[m, n], x[2].shape])
    try expect(c == [m, n], "gemm C \(x[2]) does not broadcast to [\(m), \(n)]")
  }
  return TensorType(x[0].element, [m, n])
}

func matmulType(_ a: TensorType, _ b: TensorType) throws -> TensorType {
  try expect(a.rank >= 1 && b.rank >= 1, "matmul operands must have rank >= 1, got \(a) and \(b)")
  let sa = a.rank == 1 ? [1] + a.shape : a.shape
  let sb = b.rank == 1 ? b.shape + [1] : b.shape
  let k = sa[sa.count - 1], k2 = sb[sb.count - 2]
  try expect(k == k2, "matmul reduction sizes differ: \(a) x \(b)")
  let batch = try broadcastShapes([Array(sa.dropLast(2)), Array(sb.dropLast(2))])
  var out = batch
  if a.rank != 1 { out.append(sa[sa.count - 2]) }
  if b.rank != 1 { out.append(sb[sb.count - 1]) }
  return TensorType(a.element, out)
}
