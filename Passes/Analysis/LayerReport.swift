//===--- LayerReport.swift - per-layer shapes, FLOPs and weight density ---===//
//
// What `sparrowc inspect` prints: for every op, its output shape and FLOPs; for GEMM-like
// ops with a constant weight, the weight's shape, parameter count and density.

import SparrowIR
import SparrowTargetSupport

public struct LayerInfo: Sendable {
  public var name: String
  /// The model's nodes the layer computes (fused ones included).
  public var nodes: [String]
  /// The initializers its constant operands were made from.
  public var weights: [String]
  public var op: String
  public var outputType: TensorType
  public var flops: Int
  public var weightType: TensorType?
  /// Fraction of non-zero weights (nil when the op has no constant weight).
  public var density: Double?
  /// N:M patterns and block densities of a gemm/conv weight (nil for other ops).
  public var sparsity: WeightSparsity?
  /// The weight's layout after the pipeline (nil: dense).
  public var layout: SparseLayout?
  /// What the cost model picks for the weight's data and why (nil for other ops).
  public var choice: FormatChoice?
  /// int8 or f32 and why, for GEMM-like layers of a quantized model (LayerPrecision.swift).
  public var precision: LayerPrecision?
}

/// `mode` is what `sparsify` ran with: the reported choice and reason are the cost model's
/// for the dense weight (a weight already in a sparse layout is analyzed as stored).
public func layerReport(_ m: Module, sparsity mode: SparsityMode = .auto,
                        target: TargetDescription = .reference) -> [LayerInfo] {
  let f = m.main
  let defs = f.definingOps()
  let users = f.users()
  let quantizedModel = f.ops.contains { [.quantize_linear, .dequantize_linear, .qconv, .qmatmul].contains($0.kind) }
  var layers: [LayerInfo] = []
  for op in f.ops where op.kind != .constant {
    let out = f.type(of: op.results[0])
    let weights = op.operands.compactMap { defs[$0] }.filter { f.ops[$0].kind == .constant }
      .reduce(into: Origin()) { $0.merge(f.ops[$1].origin) }.weights
    var info = LayerInfo(name: f.name(of: op.results[0]), nodes: op.origin.nodes, weights: weights,
                         op: op.kind.rawValue, outputType: out, flops: estimatedFLOPs(op, in: f))
    info.precision = layerPrecision(op, in: f, users: users, defs: defs, quantizedModel: quantizedModel)
    if op.kind.has(.gemmLike), op.operands.count >= 2,
       let d = defs[op.operands[1]], let name = f.ops[d].constantName, let w = m.constants[name] {
      info.weightType = f.type(of: op.operands[1])
      info.density = density(of: w)
      info.layout = info.weightType?.layout
      let transposed = op.kind == .conv || op.attributes.bool("transB")
      if op.kind == .gemm || op.kind == .conv, w.shape.count == 2 || w.shape.count == 4 {
        info.sparsity = analyzeWeight(w, transposed: transposed)
        info.choice = SparseCostModel.choose(info.sparsity, mode: mode,
                                             denseAlgorithm: Sparsify.denseAlgorithm(op, type: f.type(of:)),
                                             tokens: Sparsify.tokens(op, type: f.type(of:)), conv: op.kind == .conv,
                                             on: target)
      }
    }
    layers.append(info)
  }
  return layers
}

/// Multiply-adds count as two FLOPs; elementwise ops one per output element.
public func estimatedFLOPs(_ op: Operation, in f: Function) -> Int {
  let out = f.type(of: op.results[0])
  let x = op.operands.map { f.type(of: $0) }
  switch op.kind {
  case .gemm:
    let k = op.attributes.bool("transA") ? x[0].shape[0] : x[0].shape[1]
    return 2 * out.count * k
  case .matmul:
    return 2 * out.count * (x[0].rank == 1 ? x[0].shape[0] : x[0].shape[x[0].rank - 1])
  case .conv, .qconv:
    return 2 * out.count * x[1].shape.dropFirst().reduce(1, *)
  case .qmatmul:
    return 2 * out.count * x[1].shape[0]
  case .conv_transpose:
    return 2 * x[0].count * x[1].shape.dropFirst().reduce(1, *)
  case .constant, .reshape, .identity:
    return 0
  default:
    return op.kind.has(.dataMovement) ? 0 : out.count
  }
}

/// Non-zero fraction of a tensor.
public func density(of t: Tensor) -> Double {
  guard t.count > 0 else { return 1 }
  let size = t.element.byteSize
  var nonzero = 0
  t.bytes.withUnsafeBytes { raw in
    for i in 0..<t.count {
      var any: UInt8 = 0
      for b in 0..<size { any |= raw[i * size + b] }
      // Negative zero (sign bit only) counts as zero for floats.
      if t.element.isFloat && size >= 2 {
        let top = raw[i * size + size - 1] & 0x7f
        var rest: UInt8 = 0
        for b in 0..<(size - 1) { rest |= raw[i * size + b] }
        if top == 0 && rest == 0 { continue }
      }
      if any != 0 { nonzero += 1 }
    }
  }
  return Double(nonzero) / Double(t.count)
}
