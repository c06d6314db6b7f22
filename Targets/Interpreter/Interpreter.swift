//===--- Interpreter.swift - runs a module op by op (the reference) ------===//
//
// The oracle other targets are compared with: simple, obviously right kernels, with
// OpenBLAS for dense GEMM. A run places every intermediate in one arena (ArenaRun.swift);
// kernels read operands where they live and write results at their planned offsets.

import SparrowIR

public enum Interpreter {
  /// Runs the module's entry function on `inputs` (one per argument, matching types),
  /// every intermediate in one arena laid out by `memoryPlan(for:)`.
  public static func run(_ module: Module, inputs: [Tensor]) throws -> [Tensor] {
    let f = module.main
    guard inputs.count == f.arguments.count else {
      throw Diagnostic("expected \(f.arguments.count) inputs, got \(inputs.count)")
    }
    for (arg, t) in zip(f.arguments, inputs) where t.type.dense != f.type(of: arg).dense {
      throw Diagnostic("input '\(f.name(of: arg))' must be \(f.type(of: arg).dense), got \(t.type)")
    }
    return try ArenaRun(module, plan: memoryPlan(for: f)).run(inputs)
  }

  /// Evaluates one op on owned tensors (constant folding, tests).
  public static func evaluate(_ op: Operation, _ inputs: [Tensor], in f: Function,
                              constants: ConstantPool) throws -> [Tensor] {
    try evaluate(op, inputs.map(\.ref), destinations: [], in: f, constants: constants).map(\.tensor)
  }

  /// Evaluates one op, writing result `i` at `destinations[i]` when given; `scratch` is
  /// the op's planned scratch (see `scratchBytes`).
  static func evaluate(_ op: Operation, _ inputs: [TensorRef], destinations: [UnsafeMutableRawPointer?],
                       scratch: UnsafeMutableRawBufferPointer? = nil,
                       in f: Function, constants: ConstantPool) throws -> [TensorRef] {
    if let name = op.constantName {
      guard let t = constants[name] else { throw Diagnostic("unknown constant @\(name)") }
      return [t.ref]
    }
    var args = KernelArgs(kind: op.kind, attributes: op.attributes, refs: inputs,
                          resultTypes: op.results.map { f.type(of: $0).dense }, destinations: destinations,
                          scratch: scratch)
    args.operandQuantizations = op.operands.map { f.type(of: $0).quantization }
    args.resultQuantizations = op.results.map { f.type(of: $0).quantization }
    do {
      let outs = try dispatchWithEpilogue(args)
      precondition(outs.count == args.resultTypes.count, "\(op.kind) returned \(outs.count) results")
      for (o, t) in zip(outs, args.resultTypes) {
        precondition(o.type == t, "\(op.kind) produced \(o.type), expected \(t)")
      }
      return outs
    } catch let d as Diagnostic {
      throw d.location == nil && op.diagnosticLocation != nil ? Diagnostic(d.message, at: op.diagnosticLocation) : d
    }
  }

  /// Threads for OpenBLAS (the interpreter itself is single-threaded).
  public static func setThreads(_ n: Int) { setBLASThreads(n) }
}

/// What a kernel gets: the op kind and attributes, its operands, the result types, and
/// where to write the results (see KernelResults.swift).
public struct KernelArgs {
  public let kind: OpKind
  public let attributes: Attributes
  public let inputs: [TensorRef]
  public let resultTypes: [TensorType]
  /// Per result, the memory to write it in; missing or nil: the kernel allocates it.
  let destinations: [UnsafeMutableRawPointer?]
  /// Planned scratch memory for the kernel's temporaries (conv's im2col columns).
  let scratch: UnsafeMutableRawBufferPointer?
  /// The operands' and results' quantizations (the tensors hold the storage integers);
  /// read by the integer ops (IntegerGemm.swift).
  public var operandQuantizations: [Quantization?] = []
  public var resultQuantizations: [Quantization?] = []

  public init(kind: OpKind, attributes: Attributes, inputs: [Tensor], resultTypes: [TensorType]) {
    self.init(kind: kind, attributes: attributes, refs: inputs.map(\.ref), resultTypes: resultTypes)
  }

  init(kind: OpKind, attributes: Attributes, refs: [TensorRef], resultTypes: [TensorType],
       destinations: [UnsafeMutableRawPointer?] = [], scratch: UnsafeMutableRawBufferPointer? = nil) {
    self.kind = kind
    self.attributes = attributes
    self.inputs = refs
    self.resultTypes = resultTypes
    self.destinations = destinations
    self.scratch = scratch
  }

  /// Result type `i`.
  public func type(_ i: Int = 0) -> TensorType { resultTypes[i] }
  /// A kernel error (e.g. an unsupported element type), located at the op by the caller.
  public func unsupported(_ what: String) -> Diagnostic {
    Diagnostic("'\(kind.rawValue)' does not support \(what)")
  }
}

/// `dispatchKernel` with owned results (tests).
func dispatch(_ k: KernelArgs) throws -> [Tensor] { try dispatchKernel(k.allocatingResults).map(\.tensor) }

/// The interpreter's dispatch: every op kind to its kernel family. Families returning
/// `[TensorRef]` write their results at the destinations `k` carries: float unary,
/// arithmetic binary (add ... prelu), gemm and matmul, conv (fused epilogues in place),
/// softmax and normalization, float pooling, transpose/expand/tile/concat/split. The
/// others (`owned`: comparisons, logic, where, pow, cast, integer unary, reductions,
/// slice, pad, gathers and scatters, depth_to_space, trilu, einsum, conv_transpose,
/// masked conv, resize, recurrent, quantize) still return new tensors, which the arena
/// run copies into their slots.
func dispatchKernel(_ k: KernelArgs) throws -> [TensorRef] {
  func owned(_ outs: [Tensor]) -> [TensorRef] { outs.map(\.ref) }
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
    return owned(try evaluateReduction(k))
  case .softmax, .log_softmax, .hardmax, .batch_norm, .layer_norm, .instance_norm,
       .group_norm, .lrn, .lp_norm, .mean_variance_norm:
    return try evaluateNormalization(k)
  case .gemm, .matmul, .einsum: return try evaluateGemm(k)
  case .attention: return owned([try evaluateAttention(k)])
  case .conv, .conv_transpose: return try evaluateConv(k)
  case .max_pool, .average_pool, .lp_pool, .global_average_pool, .global_max_pool,
       .global_lp_pool:
    return try evaluatePool(k)
  case .reshape, .transpose, .expand, .tile, .concat, .split, .slice, .pad, .gather,
       .gather_elements, .gather_nd, .scatter_elements, .scatter_nd, .depth_to_space,
       .space_to_depth, .reverse_sequence, .one_hot, .trilu:
    return try evaluateMovement(k)
  case .resize: return owned(try evaluateResize(k))
  case .lstm, .gru, .rnn: return owned(try evaluateRecurrent(k))
  case .quantize_linear, .dequantize_linear: return owned(try evaluateQuantize(k))
  case .qconv, .qmatmul: return try evaluateIntegerOp(k)
  }
}
