//===--- FoldQDQ.swift - QDQ chains into integer ops and quantized movement ---===//
//
//   %xq = quantize_linear %x, %sx, %zx : tensor<..xu8>
//   %xd = dequantize_linear %xq, %sx, %zx            %xq = quantize_linear %x, %sx, %zx
//   %wd = dequantize_linear %wq, %sw, %zw       =>          : tensor<..xu8, #quant<sx:zx>>
//   %bd = dequantize_linear %bq, %sb, %zb              %y = qconv %xq, %wq', %b32 {...}
//   %c = conv %xd, %wd, %bd {epilogue = [relu]}              : tensor<..xu8, #quant<sy:zy>>
//   %y = quantize_linear %c, %sy, %zy                  (%wq' = the weight constant typed
//                                                       #quant<axis=0, sw...>, %b32 the bias
//                                                       in accumulator units, i32)
// Three patterns, each rooted at a `quantize_linear` to u8/i8 with constant per-tensor
// scale and zero point:
// - integer op: conv (2-D, NCHW, dense, no kept positions), gemm (alpha = beta = 1, no
//   transA) or matmul ([..., K] x [K, N]) whose input is dequantized per tensor, whose
//   weight is a dequantized constant (per tensor or per output channel), whose bias is
//   a constant (f32 or dequantized), and whose epilogue is relu / clip / residual adds of
//   dequantized values -> qconv / qmatmul;
// - residual add: Q(add(DQ(integer op result), DQ(r))) (an optional relu or clip after
//   the add) -> the integer op with an `add` step (and the activation); the integer op's
//   own rounding to its old output scale disappears (one rounding instead of two);
// - quantized movement: Q(carrier(DQ(a))) with the same scale and zero point on both
//   sides (max_pool, reshape, transpose, concat, slice, ...) -> carrier(a) on the
//   integers, its result quantized.
// Everything else stays float between its DQ and Q ops. First in -O2 (both targets run
// qconv/qmatmul; the LLVM target on its int8 GEMM, Targets/LLVM/Kernels/Integer/).
//
// Numerics (Requantization in IR/Types/Quantization.swift): accumulation is exact; the
// bias rounds to accumulator units (exact for onnxruntime's int32 biases of scale
// sx * sw); the output rounds once, half to even. Results stay within one output
// quantization step of the float QDQ graph.

import SparrowIR

public struct FoldQDQ: Pass {
  public static let name = "fold-qdq"
  public static let summary = "quantize/dequantize chains around conv, gemm, matmul, residual adds and data movement -> integer ops on quantized types"

  public init(options: PassOptions) throws {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily([foldIntegerOp, foldResidualAdd, foldQuantizedMovement],
                              to: &function, context: context)
  }
}

/// Q(conv / gemm / matmul over dequantized operands) -> qconv / qmatmul.
private let foldIntegerOp = RewritePattern("integer-op", roots: [.quantize_linear]) { q, rw in
  guard let output = rw.outputQuantization(of: q), rw.usersAcceptQuantized(q.results[0], output),
        let producer = rw.definingOp(of: q.operands[0]), rw.hasOneUse(q.operands[0]) else { return nil }
  let element = rw.type(of: q.results[0]).element
  switch producer.kind {
  case .conv: return try rw.integerConv(producer, output: output, element: element, name: rw.name(of: q.results[0]))
  case .gemm, .matmul:
    return try rw.integerMatmul(producer, output: output, element: element, name: rw.name(of: q.results[0]))
  default: return nil
  }
}

/// Q(add(DQ(integer op), DQ(r)) [-> relu | clip]) -> the integer op with an `add` step.
private let foldResidualAdd = RewritePattern("residual-add", roots: [.quantize_linear]) { q, rw in
  guard let output = rw.outputQuantization(of: q), rw.usersAcceptQuantized(q.results[0], output),
        var sum = rw.definingOp(of: q.operands[0]), rw.hasOneUse(q.operands[0]) else { return nil }
  var activation: EpilogueStep?
  if let step = EpilogueStep(unary: sum.kind, sum.attributes), Requantization.acceptsQuantized(step) {
    activation = step
    guard let inner = rw.definingOp(of: sum.operands[0]), rw.hasOneUse(sum.operands[0]) else { return nil }
    sum = inner
  }
  guard sum.kind == .add else { return nil }
  for (i, j) in [(0, 1), (1, 0)] {
    guard let core = rw.dequantized(sum.operands[i]), rw.hasOneUse(sum.operands[i]), rw.hasOneUse(core.source),
          let integerOp = rw.definingOp(of: core.source), integerOp.kind == .qconv || integerOp.kind == .qmatmul,
          let residual = rw.dequantized(sum.operands[j]), residual.quantization.isPerTensor,
          rw.type(of: sum.operands[j]).shape == rw.type(of: integerOp.results[0]).shape,
          let r = rw.quantizedValue(residual.source, residual.quantization) else { continue }
    var attributes = integerOp.attributes
    attributes.epilogue += [.add] + (activation.map { [$0] } ?? [])
    let y = try rw.insert(integerOp.kind, integerOp.operands + [r], attributes.values, name: rw.name(of: q.results[0]))[0]
    rw.retype(y, as: rw.type(of: q.results[0]).with(quantization: output))
    return [y]
  }
  return nil
}

/// Q(carrier(DQ(a))) with one quantization on both sides -> carrier(a), quantized.
private let foldQuantizedMovement = RewritePattern("quantized-movement", roots: [.quantize_linear]) { q, rw in
  guard let output = rw.outputQuantization(of: q), rw.usersAcceptQuantized(q.results[0], output),
        let carrier = rw.definingOp(of: q.operands[0]), isQuantizationCarrier(carrier.kind),
        carrier.results.count == 1, rw.hasOneUse(q.operands[0]) else { return nil }
  let moved = carrier.kind == .concat ? carrier.operands.indices : 0..<1
  var operands = carrier.operands
  for i in moved {
    guard let d = rw.dequantized(carrier.operands[i]), d.quantization == output,
          rw.type(of: d.source).element == rw.type(of: q.results[0]).element,
          let a = rw.quantizedValue(d.source, output) else { return nil }
    operands[i] = a
  }
  return [try rw.insert(carrier.kind, operands, carrier.attributes.values, name: rw.name(of: q.results[0]))[0]]
}

extension Rewriter {
  /// The parts every integer op needs: the quantized input, weight and the epilogue.
  fileprivate func integerOperands(_ op: Operation, weightAxis: Int, transposeWeight: Bool = false)
      -> (x: ValueID, xq: Quantization, w: Tensor, wq: Quantization, residuals: [ValueID], steps: [EpilogueStep])? {
    guard let xd = dequantized(op.operands[0]), xd.quantization.isPerTensor,
          let x = quantizedValue(xd.source, xd.quantization),
          let wd = dequantized(op.operands[1]), var w = constantTensor(of: wd.source),
          w.element == .i8 || w.element == .u8, type(of: op.operands[1]).layout == nil else { return nil }
    var wq = wd.quantization
    if transposeWeight {
      guard w.shape.count == 2 else { return nil }
      w = w.transposed2D()
      if wq.axis != nil { wq.axis = 1 - wq.axis! }
    }
    guard (wq.axis ?? weightAxis) == weightAxis else { return nil }
    // Epilogue: relu, clip and residual adds of dequantized values.
    let steps = op.attributes.epilogue
    guard steps.allSatisfy(Requantization.acceptsQuantized) else { return nil }
    let residualCount = steps.filter { $0 == .add }.count
    var residuals: [ValueID] = []
    for v in op.operands.suffix(residualCount) {
      guard let d = dequantized(v), d.quantization.isPerTensor,
            let r = quantizedValue(d.source, d.quantization) else { return nil }
      residuals.append(r)
    }
    return (x, xd.quantization, w, wq, residuals, steps)
  }

  /// The i32 bias: real bias / (sx * sw[c]), rounded half to even (zeros when absent).
  fileprivate func accumulatorBias(_ v: ValueID?, channels: Int, input: Quantization,
                                   weight: Quantization) -> Tensor? {
    guard let v else { return Tensor(shape: [channels], scalars: [Int32](repeating: 0, count: channels)) }
    guard let real = realValues(of: v, count: channels) else { return nil }
    let units = Requantization.multipliers(input: input, weight: weight, output: nil, channels: channels)
    var values: [Int32] = []
    for c in 0..<channels {
      let b = (real[c] / units[c]).rounded(.toNearestOrEven)
      guard b.isFinite && abs(b) < 2e9 else { return nil }
      values.append(Int32(b))
    }
    return Tensor(shape: [channels], scalars: values)
  }

  /// The weight as a constant of its quantized type (a new pool entry only when reordered).
  fileprivate func quantizedWeight(_ w: Tensor, _ q: Quantization, source: ValueID, reordered: Bool,
                                   name: String) throws -> ValueID {
    let v: ValueID
    if reordered {
      v = insertConstant(w, name: name)
    } else {
      let pool = definingOp(of: source)!.attributes.string("name")
      v = try insert(.constant, [], ["name": .string(pool)], name: name)[0]
    }
    retype(v, as: w.type.with(quantization: q))
    return v
  }

  fileprivate func integerConv(_ conv: Operation, output: Quantization, element: ElementType,
                               name: String) throws -> [ValueID]? {
    let a = conv.attributes
    guard a.convLayout == .nchw, [nil, .direct, .im2col].contains(a.convAlgorithm),
          a["kept_positions"] == nil, a["masked_fill"] == nil, type(of: conv.operands[0]).rank == 4,
          let parts = integerOperands(conv, weightAxis: 0) else { return nil }
    let channels = parts.w.shape[0]
    let biasOperand = conv.operands.count > 2 ? conv.operands[2] : nil
    guard let bias = accumulatorBias(biasOperand, channels: channels, input: parts.xq, weight: parts.wq) else { return nil }
    let w = try quantizedWeight(parts.w, parts.wq, source: dequantized(conv.operands[1])!.source,
                                reordered: false, name: "\(name).weight")
    let b = insertConstant(bias, name: "\(name).bias")
    var attributes: [String: AttributeValue] = parts.steps.isEmpty ? [:] : ["epilogue": .epilogue(parts.steps)]
    for key in ["strides", "pads", "dilations", "group"] { attributes[key] = a[key] }
    let y = try insert(.qconv, [parts.x, w, b] + parts.residuals, attributes, name: name)[0]
    retype(y, as: type(of: y).with(element: element).with(quantization: output))
    return [y]
  }

  fileprivate func integerMatmul(_ op: Operation, output: Quantization, element: ElementType,
                                 name: String) throws -> [ValueID]? {
    let isGemm = op.kind == .gemm
    let a = op.attributes
    if isGemm {
      guard a.float("alpha") == 1, a.float("beta") == 1, !a.bool("transA") else { return nil }
    }
    let transB = isGemm && a.bool("transB")
    guard type(of: op.operands[0]).rank >= 2, type(of: op.operands[1]).rank == 2,
          let parts = integerOperands(op, weightAxis: 1, transposeWeight: transB) else { return nil }
    let channels = parts.w.shape[1]
    var biasOperand: ValueID?
    if isGemm && op.operands.count > 2 {
      guard type(of: op.operands[2]).count == channels else { return nil }  // [N] or [1, N]
      biasOperand = op.operands[2]
    }
    guard let bias = accumulatorBias(biasOperand, channels: channels, input: parts.xq, weight: parts.wq) else { return nil }
    let w = try quantizedWeight(parts.w, parts.wq, source: dequantized(op.operands[1])!.source,
                                reordered: transB, name: "\(name).weight")
    let b = insertConstant(bias, name: "\(name).bias")
    let y = try insert(.qmatmul, [parts.x, w, b] + parts.residuals,
                       parts.steps.isEmpty ? [:] : ["epilogue": .epilogue(parts.steps)], name: name)[0]
    retype(y, as: type(of: y).with(element: element).with(quantization: output))
    return [y]
  }
}
