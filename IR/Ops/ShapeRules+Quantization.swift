//===--- ShapeRules+Quantization.swift - which ops take quantized types ---===//
//
//   %q = quantize_linear %x, %s, %z : tensor<1x64xu8, #quant<0.02:128>>    (written, checked)
//   %r = reshape %q {shape = [64]} : tensor<64xu8, #quant<0.02:128>>        (carried)
//   %y = qmatmul %q2, %w, %b {epilogue = ["relu"]} : tensor<1x10xu8, #quant<0.05:0>>
//   %f = dequantize_linear %y, %s2, %z2 : tensor<1x10xf32>
//   %bad = add %q, %q : ...        error: 'add' does not take quantized operands
//
// `inferResultTypes` = the storage rule of ShapeRules.swift plus these rules: ops that
// only move elements carry operand 0's per-tensor quantization to their results;
// `dequantize_linear`, `qconv` and `qmatmul` take quantized operands; no other op does.
// `qconv` and `qmatmul` infer an f32 result; `resultTypeProblem` lets their written
// result be a per-tensor quantized u8/i8 of the same shape instead.

/// The result types of an op (shapes, element types and quantization).
public func inferResultTypes(_ kind: OpKind, _ x: [TensorType], _ a: Attributes,
                             constants: ConstantPool) throws -> [TensorType] {
  var results = try inferStorageResultTypes(kind, x, a, constants: constants)
  let quantized = x.indices.filter { x[$0].quantization != nil }
  if quantized.isEmpty { return results }
  switch kind {
  case .dequantize_linear:
    try expect(quantized == [0], "dequantize_linear's scale and zero point must not be quantized")
  case .qconv, .qmatmul:
    break  // integerOpType checked every operand
  default:
    guard isQuantizationCarrier(kind) else {
      throw Diagnostic("'\(kind.rawValue)' does not take quantized operands (dequantize_linear first)")
    }
    let q = x[0].quantization
    try expect(q?.isPerTensor ?? false,
               "'\(kind.rawValue)' carries only per-tensor quantization, got \(x[0])")
    // Concat joins values of one quantization; gather's indices are plain.
    let moved = kind == .concat ? x.indices : 0..<1
    try expect(quantized == Array(moved) && moved.allSatisfy { x[$0].quantization == q },
               "'\(kind.rawValue)' operands \(x.map(\.description).joined(separator: ", ")) "
               + "must share one quantization (dequantize_linear first)")
    for i in results.indices where results[i].element == x[0].element {
      results[i].quantization = q
    }
  }
  return results
}

/// Ops whose results hold operand 0's elements, moved but not computed (or the max of
/// some), so a quantized operand gives a result of the same quantization.
public func isQuantizationCarrier(_ kind: OpKind) -> Bool {
  switch kind {
  case .reshape, .transpose, .expand, .tile, .concat, .split, .slice, .gather,
       .depth_to_space, .space_to_depth, .reverse_sequence, .identity, .max_pool:
    return true
  default:
    return false
  }
}

/// `qconv` / `qmatmul`: x (per-tensor quantized u8/i8), w (quantized u8/i8, per tensor or
/// per output channel: axis 0 of a conv weight, axis 1 of a matmul's [K, N]), an i32
/// bias per output channel, then one residual per `add` step (the result's shape; f32 or
/// per-tensor quantized u8/i8). The inferred result is f32; see resultTypeProblem.
func integerOpType(_ kind: OpKind, _ x: [TensorType], _ a: Attributes) throws -> TensorType {
  let steps = a.epilogue
  let residuals = steps.filter { $0 == .add }.count
  try expect(x.count == 3 + residuals,
             "'\(kind.rawValue)' takes x, w, bias and \(residuals) residual\(residuals == 1 ? "" : "s"), got \(x.count) operands")
  let (input, weight, bias) = (x[0], x[1], x[2])
  try expect(isQuantized8(input) && input.quantization!.isPerTensor,
             "'\(kind.rawValue)' input must be per-tensor quantized u8 or i8, got \(input)")
  let channelAxis = kind == .qconv ? 0 : 1
  try expect(isQuantized8(weight) && (weight.quantization!.axis ?? channelAxis) == channelAxis,
             "'\(kind.rawValue)' weight must be quantized u8 or i8, per tensor or along axis \(channelAxis), got \(weight)")
  let result: TensorType
  if kind == .qconv {
    try expect(input.rank == 4, "'qconv' takes 2-D convs (a rank-4 input), got \(input)")
    var convAttributes: [String: AttributeValue] = [:]
    for name in ["strides", "pads", "dilations", "group", "layout"] { convAttributes[name] = a[name] }
    let depthwise = a.int("group") > 1 && weight.rank > 1 && weight.shape[1] == 1
    if depthwise { convAttributes["algorithm"] = .convAlgorithm(.depthwise) }  // else unchosen: structural
    try expect(weight.layout == nil || a.convLayout == .nchw,
               "'qconv' with a sparse weight runs NCHW, got layout \"\(a.convLayout.rawValue)\"")
    result = try convType([input.dense, weight.dense], Attributes(.conv, convAttributes))
      .with(element: .f32)
  } else {
    try expect(input.rank >= 2 && weight.rank == 2, "'qmatmul' needs [..., M, K] x [K, N], got \(input) x \(weight)")
    result = try matmulType(input.dense, weight.dense).with(element: .f32)
  }
  let channels = weight.shape[channelAxis]
  try expect(bias.element == .i32 && bias.quantization == nil && bias.shape == [channels],
             "'\(kind.rawValue)' bias must be a plain i32 [\(channels)] (accumulator units), got \(bias)")
  for r in x.suffix(residuals) {
    try expect(r.shape == result.shape && (r == result || (isQuantized8(r) && r.quantization!.isPerTensor)),
               "residual \(r) of '\(kind.rawValue)' must be \(result) or per-tensor quantized u8/i8 of that shape")
  }
  return result
}

/// A u8 or i8 tensor with a quantization.
func isQuantized8(_ t: TensorType) -> Bool {
  t.quantization != nil && (t.element == .u8 || t.element == .i8)
}

/// Why the written result type of a `qconv` / `qmatmul` does not fit (nil when it does):
/// f32 as inferred, or per-tensor quantized u8/i8 of that shape with epilogue steps that
/// run in requantized units (relu, clip, add) and quantized residuals.
func integerResultProblem(_ kind: OpKind, written: TensorType, inferred: TensorType) -> String? {
  if written == inferred { return nil }
  guard written.shape == inferred.shape, written.layout == nil, isQuantized8(written),
        written.quantization!.isPerTensor else {
    return "type \(written) must be \(inferred) or a per-tensor quantized u8/i8 of that shape"
  }
  return nil
}
