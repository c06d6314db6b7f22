//===--- QDQMatching.swift - reading quantize/dequantize chains ------------===//
//
// What the quantization passes ask of a QDQ graph (as onnxruntime's quantizer and the
// QOperator converters write it): the quantization a `dequantize_linear` or
// `quantize_linear` applies (constant scale and zero point), the real values of a
// constant bias, and whether a raw integer value can take a quantized type (its
// producer is a `quantize_linear` with the same constants, and every user accepts it).

import SparrowIR

/// A `dequantize_linear` seen through: its integer operand and the quantization it applies.
struct Dequantized {
  let source: ValueID
  let quantization: Quantization
}

extension Rewriter {
  /// The quantization given by a Q/DQ op's constant scale and zero point operands
  /// (per tensor, or per axis along the op's `axis`; blocked ones are not read).
  func quantization(of op: Operation, storage: ElementType) -> Quantization? {
    guard op.kind == .quantize_linear || op.kind == .dequantize_linear,
          op.attributes.int("block_size") == 0,
          let scale = constantTensor(of: op.operands[1]), scale.element == .f32,
          let zero = constantTensor(of: op.operands[2]), zero.count == scale.count,
          storage.quantizedStorageRange != nil else { return nil }
    let scales = scale.array(of: Float.self)
    let zeros = (0..<zero.count).compactMap { zero.integerValue($0) }
    guard zeros.count == scales.count else { return nil }
    let q = scale.count == 1 && scale.shape.allSatisfy({ $0 == 1 })
      ? Quantization(scale: scales[0], zeroPoint: zeros[0])
      : Quantization(axis: op.attributes.int("axis"), scales: scales, zeroPoints: zeros)
    let quantized = op.kind == .quantize_linear ? op.results[0] : op.operands[0]
    return q.problem(for: type(of: quantized).dense.with(element: storage)) == nil ? q : nil
  }

  /// `v` = dequantize_linear(source, constant scale, constant zero point).
  func dequantized(_ v: ValueID) -> Dequantized? {
    guard let dq = definingOp(of: v), dq.kind == .dequantize_linear else { return nil }
    let source = dq.operands[0]
    guard let q = quantization(of: dq, storage: type(of: source).element) else { return nil }
    return Dequantized(source: source, quantization: q)
  }

  /// The per-tensor quantization a `quantize_linear` to u8/i8 applies.
  func outputQuantization(of op: Operation) -> Quantization? {
    let element = type(of: op.results[0]).element
    guard op.kind == .quantize_linear, element == .u8 || element == .i8,
          type(of: op.operands[0]).element == .f32,
          let q = quantization(of: op, storage: element), q.isPerTensor else { return nil }
    return q
  }

  /// `v` as a value of type quantized by `q`: itself when it has that type already; the
  /// result of a `quantize_linear` with the same constants retyped in place when every
  /// user takes quantized operands; nil otherwise.
  func quantizedValue(_ v: ValueID, _ q: Quantization) -> ValueID? {
    let t = type(of: v)
    if let existing = t.quantization { return existing == q ? v : nil }
    guard q.isPerTensor, t.element == .u8 || t.element == .i8,
          let producer = definingOp(of: v), outputQuantization(of: producer) == q,
          users(of: v).allSatisfy({ acceptsQuantized(op(at: $0), v, q) }) else { return nil }
    retype(v, as: t.with(quantization: q))
    return v
  }

  /// Whether `op` can take `v` (quantized by `q`) as an operand wherever it uses it.
  func acceptsQuantized(_ op: Operation, _ v: ValueID, _ q: Quantization) -> Bool {
    switch op.kind {
    case .dequantize_linear:
      return op.operands[0] == v && !op.operands.dropFirst().contains(v)
        && quantization(of: op, storage: type(of: v).element) == q
    case .qconv, .qmatmul:
      return true
    default:
      guard isQuantizationCarrier(op.kind) else { return false }
      let moved = op.kind == .concat ? op.operands : [op.operands[0]]
      return moved.allSatisfy { $0 == v || type(of: $0).quantization == q }
        && !op.operands.dropFirst(op.kind == .concat ? op.operands.count : 1).contains(v)
    }
  }

  /// Whether every use of `v` (ops and function results) can take it quantized by `q`.
  func usersAcceptQuantized(_ v: ValueID, _ q: Quantization) -> Bool {
    users(of: v).allSatisfy { acceptsQuantized(op(at: $0), v, q) }
  }

  /// The real values of a constant bias: an f32 constant, or the dequantization of an
  /// integer constant (per tensor or per axis 0).
  func realValues(of v: ValueID, count: Int) -> [Float]? {
    if let t = constantTensor(of: v), t.element == .f32, t.count == count {
      return t.array(of: Float.self)
    }
    guard let dq = dequantized(v), let t = constantTensor(of: dq.source), t.count == count else { return nil }
    let q = dq.quantization
    var values: [Float] = []
    for i in 0..<count {
      guard let n = t.integerValue(i) else { return nil }
      values.append(Float(n - q.zeroPoint(i)) * q.scale(i))
    }
    return values
  }
}
