//===--- Pipelines.swift - the named pipelines -O0, -O1, -O2 ---------------===//

import SparrowIR

public enum OptimizationLevel: String, CaseIterable, Sendable {
  case O0, O1, O2
}

public enum Pipelines {
  /// Only what the targets require. Nothing yet: both targets run every op as imported.
  public static let O0: [String] = []

  /// Cleanup: cheap, always-safe simplifications, then the memory plan (an analysis).
  public static let O1: [String] = cleanup + [
    "plan-memory",         // analysis: the arena the interpreter runs from (--stats)
  ]

  /// The cleanup passes O1 runs and O2 runs before and after fusion.
  static let cleanup: [String] = [
    "remove-identity",     // identity, no-op reshape/transpose/cast/..., transpose pairs
    "simplify-algebra",    // x*1, x+0, x-0, x/1, neg(neg(x))
    "constant-fold",       // ops over constants only (shape math left by the frontend)
    "remove-identity",     // folding can expose new no-ops
    "cse",                 // identical ops computed once
    "dce",                 // dead ops and unused weights
  ]

  /// Everything available: integer ops, cleanup, fusion, lowering, cleanup.
  public static let O2: [String] = [
    "fold-qdq",            // QDQ chains -> qconv/qmatmul on quantized types; first: constant-fold
                           // would turn the weights' dequantize_linear into f32 constants
  ] + cleanup + [
    "fold-masks",          // mul/where by constant 0/1 masks on weights -> plain constants
    "fold-activation-masks", // binary spatial masks on conv outputs -> kept_positions; first,
                           // while mul(conv, mask) is still adjacent (BN/relu fold after it)
    "fold-batch-norm",     // BatchNorm and per-channel mul/add into conv/gemm weights and bias
    "fuse-attention",      // matmul(Q, Kᵀ) -> scale -> mask -> softmax -> matmul(., V) -> attention
    "matmul-to-gemm",      // matmul by constant weights (+ bias add) -> gemm (batched via reshapes)
    "fold-transpose",      // 2-D transposes into transA/transB; transposes of constants
    "fuse-epilogue",       // activations and residual adds into the producer's epilogue;
                           // before fuse-horizontal so sibling branches with the same
                           // activation (Inception/YOLO 1x1 + relu) still merge
    "fold-activation-masks", // masks after conv -> BN -> relu, visible once those fused
    "fuse-horizontal",     // gemms/convs sharing an input -> one op + split (Q/K/V)
    "lower-conv",          // choose each conv's algorithm (targets obey it)
    "choose-conv-layout",  // NCHW or NHWC per conv (targets obey it), transposes between
                           // NHWC convs cancelled; after lower-conv (needs the algorithm),
                           // before sparsify (which leaves NHWC convs dense)
    "sparsify",            // sparse weight layouts where exact and faster (cost model)
  ] + O1                   // cleanup: reshape chains from matmul-to-gemm, dead weights;
                           // plan-memory (an analysis) last

  /// The pipeline text for `level`.
  public static func entries(for level: OptimizationLevel) -> [String] {
    switch level {
    case .O0: return O0
    case .O1: return O1
    case .O2: return O2
    }
  }

  /// The passes of `level`, those `configuration` concerns built from it (the others with
  /// their defaults).
  public static func passes(for level: OptimizationLevel,
                            configuration: PipelineConfiguration = PipelineConfiguration()) throws -> [any Pass] {
    try entries(for: level).map { name in
      try configuration.pass(named: name) ?? parsePipeline(name, location: "-\(level.rawValue)")[0]
    }
  }
}
