//===--- QuantizationRules.swift - verifier rules of quantized types -------===//
//
// Beyond the shape rules (ShapeRules+Quantization.swift), which see only types:
// - every quantization fits its type (storage u8/i8/u16/i16/i32, scales positive and
//   finite, zero points in range, per-axis: one scale per slice);
// - `quantize_linear` with a quantized result and `dequantize_linear` of a quantized
//   operand: the scale and zero point operands are constants equal to the type's;
// - `qconv` / `qmatmul` with a quantized result: epilogue steps only `relu`, `clip`, `add`
//   (they run in requantized units), residuals quantized.

/// The problems of `op`'s quantized types; `constant(v)` is the pool tensor defining `v`.
func quantizationProblems(_ op: Operation, in function: Function,
                          constant: (ValueID) -> Tensor?) -> [String] {
  var problems: [String] = []
  switch op.kind {
  case .quantize_linear, .dequantize_linear:
    let quantized = op.kind == .quantize_linear ? op.results[0] : op.operands[0]
    guard let q = function.type(of: quantized).quantization else { return [] }
    guard q.isPerTensor else {
      return ["'\(op.kind.rawValue)' of a quantized type takes a per-tensor quantization"]
    }
    guard let scale = constant(op.operands[1]), let zero = constant(op.operands[2]),
          scale.count == 1, zero.count == 1, scale.element == .f32 else {
      return ["'\(op.kind.rawValue)' of a quantized type needs a constant scalar scale and zero point"]
    }
    let s = scale.array(of: Float.self)[0]
    let z = zero.integerValue(0)
    if s != q.scales[0] || z != q.zeroPoints[0] {
      problems.append("scale \(formatFloat(s)) and zero point \(z.map(String.init) ?? "?") disagree with \(q)")
    }
  case .qconv, .qmatmul:
    guard function.type(of: op.results[0]).quantization != nil else { return [] }
    let steps = op.attributes.epilogue
    for step in steps where !Requantization.acceptsQuantized(step) {
      problems.append("epilogue step '\(step)' needs an f32 result (a quantized one takes relu, clip, add)")
    }
    for r in op.operands.dropFirst(3) where function.type(of: r).quantization == nil {
      problems.append("residual %\(spellName(function.name(of: r))) must be quantized for a quantized result")
    }
  default:
    break
  }
  return problems
}

/// Why `type`'s quantization is invalid, or nil.
func quantizationProblem(of type: TensorType) -> String? {
  type.quantization?.problem(for: type)
}

extension Tensor {
  /// Element `i` of an integer tensor as Int (nil for float or bool tensors).
  public func integerValue(_ i: Int) -> Int? {
    switch element {
    case .u8: return Int(array(of: UInt8.self)[i])
    case .i8: return Int(array(of: Int8.self)[i])
    case .u16: return Int(array(of: UInt16.self)[i])
    case .i16: return Int(array(of: Int16.self)[i])
    case .i32: return Int(array(of: Int32.self)[i])
    case .u32: return Int(array(of: UInt32.self)[i])
    case .i64: return Int(array(of: Int64.self)[i])
    default: return nil
    }
  }
}
