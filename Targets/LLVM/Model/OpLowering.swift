//===--- OpLowering.swift - the LLVM target's dispatch over every op kind ---===//
//
// Exhaustive over OpKind: a new op fails to compile here until it is either lowered or
// listed as unsupported. Unsupported ops are a diagnostic naming the op and where it
// came from; there is no silent fallback to another target.

import SparrowIR

extension ModelCodegen {
  /// Ops whose lowering handles every element type itself (or reports the one it does not);
  /// every other op is lowered for f32 values only.
  static let anyElementType: Set<OpKind> = [
    .relu, .neg, .abs, .exp, .log, .sqrt, .floor, .ceil, .reciprocal, .sigmoid, .tanh, .erf,
    .sin, .cos, .softplus, .clip, .leaky_relu, .elu, .hard_sigmoid, .hard_swish, .gelu,
    .add, .sub, .mul, .div, .max, .min, .sum, .mean, .pow, .prelu, .mod,
    .round, .sign, .tan, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh, .mish,
    .softsign, .selu, .celu, .thresholded_relu, .shrink,
    .cast, .not, .bitwise_not, .is_nan, .is_inf, .and, .or, .xor, .equal, .greater,
    .greater_or_equal, .less, .less_or_equal, .bit_shift, .bitwise_and, .bitwise_or,
    .bitwise_xor, .where,
    .transpose, .concat, .slice, .split, .expand, .pad, .gather, .tile, .depth_to_space,
    .space_to_depth, .trilu, .one_hot,
    .argmax, .argmin, .cumsum, .top_k, .gather_elements, .gather_nd, .scatter_elements,
    .scatter_nd, .reverse_sequence, .quantize_linear, .dequantize_linear, .max_pool,
    .reduce_sum, .reduce_mean, .reduce_max, .reduce_min, .reduce_sum_square, .reduce_l1,
    .reduce_l2, .reduce_prod, .reduce_log_sum, .reduce_log_sum_exp,
    .qconv, .qmatmul,
  ]

  func lowerOp(_ ctx: OpContext) throws -> OpKernel {
    if ctx.widensHalves && !ctx.widened { return try ctx.lowerWidened(lowerOp) }  // WidenedHalves.swift
    switch ctx.op.kind {
    case .gemm: return try ctx.lowerGemmOrDirect()  // DirectGemm.swift
    case .matmul: return try ctx.lowerMatMulOrDirect()
    case .attention: return try ctx.lowerAttention()  // Attention.swift
    case .conv: return try ctx.lowerConv()
    case .conv_transpose: return try ctx.lowerConvTransposeAnyForm()  // DirectConvTranspose.swift
    case .max_pool, .average_pool:
      if ctx.needsTypedMaxPool { return try ctx.lowerTypedMaxPool() }  // TypedMaxPool.swift
      return try ctx.lowerPoolAnyRank()  // WindowPooling.swift
    case .lp_pool, .global_lp_pool: return try ctx.lowerWindowPool()
    case .global_average_pool, .global_max_pool: return try ctx.lowerGlobalPool()
    case .softmax, .log_softmax: return try ctx.lowerSoftmax()
    case .layer_norm: return try ctx.lowerLayerNorm()
    case .batch_norm: return try ctx.lowerBatchNorm()
    case .instance_norm, .group_norm, .mean_variance_norm, .lp_norm, .lrn:
      return try ctx.lowerStatisticsNorm()  // StatisticsNorms.swift
    case .transpose: return try ctx.lowerTranspose()
    case .concat: return try ctx.lowerConcat()
    case .slice: return try ctx.lowerSlice()
    case .split: return try ctx.lowerSplit()
    case .expand: return try ctx.lowerExpand()
    case .pad: return try ctx.lowerPad()
    case .gather: return try ctx.lowerGather()
    case .resize: return try ctx.lowerResize()
    case .lstm, .gru, .rnn: return try ctx.lowerRecurrent()  // Recurrent.swift
    case .mod:
      guard ctx.computesInF32 else { return try ctx.lowerTypedElementwise() }
      return try ctx.lowerIndexMap()
    case .tile, .depth_to_space, .space_to_depth, .trilu, .hardmax, .one_hot:
      return try ctx.lowerIndexMap()  // DataMovement/TileAndIndexMaps.swift
    case .reduce_sum, .reduce_mean, .reduce_max, .reduce_min, .reduce_sum_square, .reduce_l1,
         .reduce_l2, .reduce_prod, .reduce_log_sum, .reduce_log_sum_exp:
      guard ctx.computesInF32 else { return try ctx.lowerTypedReduction() }  // TypedReduction.swift
      return try ctx.lowerReduction()

    case .relu, .neg, .abs, .exp, .log, .sqrt, .floor, .ceil, .reciprocal, .sigmoid, .tanh,
         .erf, .sin, .cos, .softplus, .clip, .leaky_relu, .elu, .hard_sigmoid, .hard_swish,
         .gelu:
      guard ctx.computesInF32 else { return try ctx.lowerTypedElementwise() }  // Elementwise/TypedElementwise.swift
      let scalar = ctx.unaryFunction()!
      return ctx.emitElementwise { scalar($0[0]) }
    case .add, .sub, .mul, .div, .max, .min, .sum, .mean, .pow, .prelu:
      guard ctx.computesInF32 else { return try ctx.lowerTypedElementwise() }
      return ctx.emitElementwise(ctx.naryFunction()!)
    case .round, .sign, .tan, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh,
         .mish, .softsign, .selu, .celu, .thresholded_relu, .shrink:
      guard ctx.computesInF32 else { return try ctx.lowerTypedElementwise() }
      let scalar = ctx.mathUnaryFunction()!  // Elementwise/FloatUnaryMath.swift
      return ctx.emitElementwise { scalar($0[0]) }
    case .cast, .not, .bitwise_not, .is_nan, .is_inf, .and, .or, .xor, .equal, .greater,
         .greater_or_equal, .less, .less_or_equal, .bit_shift, .bitwise_and, .bitwise_or,
         .bitwise_xor, .where:
      return try ctx.lowerTypedElementwise()

    case .constant, .reshape, .identity:
      preconditionFailure("\(ctx.op.kind) needs no kernel (constants and views)")

    case .argmax, .argmin, .cumsum, .top_k: return try ctx.lowerAxisScan()  // AxisScans.swift
    case .gather_elements, .gather_nd, .scatter_elements, .scatter_nd, .reverse_sequence:
      return try ctx.lowerIndexedAccess()  // DataMovement/GatherScatter.swift
    case .quantize_linear, .dequantize_linear: return try ctx.lowerQuantize()  // Quantize.swift
    case .einsum:
      throw ctx.unsupported("this op")
    case .qconv, .qmatmul: return try ctx.lowerIntegerOp()  // IntegerGemm.swift
    }
  }
}
