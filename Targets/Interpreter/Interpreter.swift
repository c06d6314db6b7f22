//===--- Interpreter.swift - runs a module op by op (the reference) ------===//
//
// The oracle other targets are compared with: simple, obviously right kernels, with
// OpenBLAS for dense GEMM. Values are freed after their last use.

import SparrowIR

public enum Interpreter {
  /// Runs the module's entry function on `inputs` (one per argument, matching types).
  public static func run(_ module: Module, inputs: [Tensor]) throws -> [Tensor] {
    let f = module.main
    guard inputs.count == f.arguments.count else {
      throw Diagnostic("expected \(f.arguments.count) inputs, got \(inputs.count)")
    }
    var values = [Tensor?](repeating: nil, count: f.values.count)
    for (arg, t) in zip(f.arguments, inputs) {
      guard t.type.dense == f.type(of: arg).dense else {
        throw Diagnostic("input '\(f.name(of: arg))' must be \(f.type(of: arg).dense), got \(t.type)")
      }
      values[arg.index] = t
    }
    // Last op index using each value; results are kept to the end.
    var lastUse = [Int](repeating: -1, count: f.values.count)
    for (i, op) in f.ops.enumerated() { for v in op.operands { lastUse[v.index] = i } }
    for r in f.results { lastUse[r.index] = Int.max }
    for (i, op) in f.ops.enumerated() {
      let outs = try evaluate(op, op.operands.map { values[$0.index]! }, in: f, constants: module.constants)
      for (r, t) in zip(op.results, outs) { values[r.index] = t }
      for v in op.operands where lastUse[v.index] == i { values[v.index] = nil }
    }
    return f.results.map { values[$0.index]! }
  }

  /// Evaluates one op (also used by constant folding).
  public static func evaluate(_ op: Operation, _ inputs: [Tensor], in f: Function,
                              constants: ConstantPool) throws -> [Tensor] {
    if let name = op.constantName {
      guard let t = constants[name] else { throw Diagnostic("unknown constant @\(name)") }
      return [t]
    }
    let args = KernelArgs(kind: op.kind, attributes: op.attributes, inputs: inputs,
                          resultTypes: op.results.map { f.type(of: $0).dense })
    do {
      let outs = try dispatchWithEpilogue(args)
      precondition(outs.count == args.resultTypes.count, "\(op.kind) returned \(outs.count) results")
      for (o, t) in zip(outs, args.resultTypes) {
        precondition(o.type == t, "\(op.kind) produced \(o.type), expected \(t)")
      }
      return outs
    } catch let d as Diagnostic {
      throw d.location == nil && op.location != nil ? Diagnostic(d.message, at: op.location) : d
    }
  }

  /// Threads for OpenBLAS (the interpreter itself is single-threaded).
  public static func setThreads(_ n: Int) { setBLASThreads(n) }
}

/// What a kernel gets: the op kind and attributes, input tensors and the result types.
public struct KernelArgs {
  public let kind: OpKind
  public let attributes: Attributes
  public let inputs: [Tensor]
  public let resultTypes: [TensorType]

  public init(kind: OpKind, attributes: Attributes, inputs: [Tensor], resultTypes: [TensorType]) {
    self.kind = kind
    self.attributes = attributes
    self.inputs = inputs
    self.resultTypes = resultTypes
  }

  /// Result type `i`.
  public func type(_ i: Int = 0) -> TensorType { resultTypes[i] }
  /// A kernel error (e.g. an unsupported element type), located at the op by the caller.
  public func unsupported(_ what: String) -> Diagnostic {
    Diagnostic("'\(kind.rawValue)' does not support \(what)")
  }
}

/// The interpreter's dispatch: every op kind to its kernel family.
func dispatch(_ k: KernelArgs) throws -> [Tensor] {
  switch k.kind {
  case .constant: preconditionFailure("constants are read from the pool")
  case .abs, .neg, .exp, .log, .sqrt, .reciprocal, .floor, .ceil, .round, .sign,
       .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh,
       .erf, .tanh, .sigmoid, .relu, .softplus, .softsign, .mish, .hard_swish,
       .leaky_relu, .elu, .selu, .celu, .thresholded_relu, .hard_sigmoid, .gelu, .clip,
       .shrink, .not, .bitwise_not, .is_nan, .is_inf, .identity, .cast:
    return try evaluateUnary(k)
  case .add, .sub, .mul, .div, .pow, .mod, .prelu, .max, .min, .sum, .mean,
       .and, .or, .xor, .equal, .greater, .greater_or_equal, .less, .less_or_equal,
       .bit_shift, .bitwise_and, .bitwise_or, .bitwise_xor, .where:
    return try evaluateBinary(k)
  case .reduce_sum, .reduce_mean, .reduce_max, .reduce_min, .reduce_prod, .reduce_l1,
       .reduce_l2, .reduce_log_sum, .reduce_log_sum_exp, .reduce_sum_square,
       .argmax, .argmin, .cumsum, .top_k:
    return try evaluateReduction(k)
  case .softmax, .log_softmax, .hardmax, .batch_norm, .layer_norm, .instance_norm,
       .group_norm, .lrn, .lp_norm, .mean_variance_norm:
    return try evaluateNormalization(k)
  case .gemm, .matmul, .einsum: return try evaluateGemm(k)
  case .conv, .conv_transpose: return try evaluateConv(k)
  case .max_pool, .average_pool, .lp_pool, .global_average_pool, .global_max_pool,
       .global_lp_pool:
    return try evaluatePool(k)
  case .reshape, .transpose, .expand, .tile, .concat, .split, .slice, .pad, .gather,
       .gather_elements, .gather_nd, .scatter_elements, .scatter_nd, .depth_to_space,
       .space_to_depth, .reverse_sequence, .one_hot, .trilu:
    return try evaluateMovement(k)
  case .resize: return try evaluateResize(k)
  case .lstm, .gru, .rnn: return try evaluateRecurrent(k)
  case .quantize_linear, .dequantize_linear: return try evaluateQuantize(k)
  }
}
