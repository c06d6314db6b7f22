//===--- OpKind.swift - every op of the IR, declared once --------------===//
//
// `OpKind` lists the ops; `spec` (one exhaustive switch) declares each op's operands,
// results, attributes and traits. The verifier, printer, parser, shape inference and the
// interpreter's dispatch all read this table; adding a case fails to compile until every
// exhaustive switch over OpKind handles it.
//
// Conventions (the ONNX frontend normalizes every opset to them):
// - Attribute-like ONNX inputs (Reshape's shape, Slice's starts, Pad's pads, Clip's min and
//   max, Resize's sizes ...) are compile-time attributes here; shapes are static.
// - Axes are non-negative; lists are explicit (a reduction over all axes lists them all).
// - Conv/pool `pads` are [begin..., end...] per spatial axis, auto_pad already resolved.
// - No optional operands in the middle: the frontend materializes defaults (zero biases,
//   zero initial states). Trailing optional operands may be omitted (gemm's C, conv's bias).
// - Epilogues (`.hasEpilogue`: gemm, conv): `epilogue` lists elementwise steps applied, in
//   order, to the result (after alpha/beta/bias) before it is stored, e.g.
//   `%y = conv %x, %w, %b, %r {epilogue = ["add", "relu"], ...}` is relu(conv(x) + r).
//   Steps (grammar in Epilogue.swift): "relu", "clip:MIN:MAX", "leaky_relu:ALPHA",
//   "sigmoid", "tanh", "hard_swish", "silu" (x * sigmoid(x)), "gelu" (erf form),
//   "gelu:tanh", and "add", which adds the next residual operand. Residuals are extra
//   trailing operands after the bias (a zero bias is materialized so positions stay
//   fixed), one per "add" step, each with exactly the result's type.
// - conv `algorithm` (`ConvAlgorithm`: "direct", "gemm1x1", "depthwise", "im2col",
//   "winograd2", "winograd4"; absent until chosen): chosen by the lower-conv pass and only
//   there; both targets switch on it (ConvDecisions.swift).
// - conv `layout` (`ConvLayout`: "nchw", the default, or "nhwc"): chosen by the choose-conv-layout pass
//   and only there. With "nhwc" the input, the result and the residual operands are
//   [N, H, W, C] (channels innermost); the weight stays [Cout, Cin, kh, kw] (OIHW: the
//   constant pool, sparse layouts and BatchNorm folding never see a second weight order;
//   targets reorder it to [Cout, kh, kw, Cin] when they pack it) and the bias stays [Cout].
//   Only the convs `ConvLayout.mayRunChannelsLast` admits may be "nhwc" (the verifier
//   checks it), masked ones (kept_positions) too.
// - conv `kept_positions` (optional, from fold-activation-masks; 2-D, group 1): the flat
//   output-plane positions (oy * OW + ox, sorted, distinct) at which the weights x inputs
//   sum is computed; at every other position of every channel and image that sum is 0.
//   Bias and epilogue still apply everywhere, so BatchNorm folding and epilogue fusion
//   stay exact. With `masked_fill` (optional float) the other positions instead store
//   exactly that value (bias and epilogue skipped there). See ActivationMask.swift.

public enum OpKind: String, CaseIterable, Hashable, Sendable {
  // Constants from the module's pool.
  case constant

  // Elementwise unary.
  case abs, neg, exp, log, sqrt, reciprocal, floor, ceil, round, sign
  case sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh
  case erf, tanh, sigmoid, relu, softplus, softsign, mish, hard_swish
  case leaky_relu, elu, selu, celu, thresholded_relu, hard_sigmoid, gelu, clip, shrink
  case not, bitwise_not, is_nan, is_inf, identity, cast

  // Elementwise with numpy broadcasting.
  case add, sub, mul, div, pow, mod, prelu
  case max, min, sum, mean
  case and, or, xor, equal, greater, greater_or_equal, less, less_or_equal
  case bit_shift, bitwise_and, bitwise_or, bitwise_xor
  case `where`

  // Reductions and normalizations.
  case reduce_sum, reduce_mean, reduce_max, reduce_min, reduce_prod
  case reduce_l1, reduce_l2, reduce_log_sum, reduce_log_sum_exp, reduce_sum_square
  case argmax, argmin, cumsum, top_k
  case softmax, log_softmax, hardmax
  case batch_norm, layer_norm, instance_norm, group_norm, lrn, lp_norm, mean_variance_norm

  // GEMM-like.
  case gemm, matmul, conv, conv_transpose, einsum
  // Fused scaled-dot-product attention (ShapeRules+Attention.swift).
  case attention

  // Pooling.
  case max_pool, average_pool, lp_pool, global_average_pool, global_max_pool, global_lp_pool

  // Data movement.
  case reshape, transpose, expand, tile, concat, split, slice, pad
  case gather, gather_elements, gather_nd, scatter_elements, scatter_nd
  case depth_to_space, space_to_depth, resize, reverse_sequence, one_hot, trilu

  // Recurrent.
  case lstm, gru, rnn

  // Quantization.
  case quantize_linear, dequantize_linear
  // Integer conv and matmul on quantized operands (ShapeRules+Quantization.swift).
  case qconv, qmatmul
}

public enum OpTrait: Hashable, Sendable {
  /// One output element per input element, same shape (unary) or broadcast (binary).
  case elementwise
  /// Elementwise over numpy-broadcast operands.
  case broadcasting
  /// Operands can be swapped.
  case commutative
  /// Result is bool regardless of operand type.
  case comparison
  /// Matrix products whose second operand is usually a weight.
  case gemmLike
  /// Moves or reinterprets data without arithmetic.
  case dataMovement
  /// Reduces along `axes`.
  case reduction
  /// Sliding-window pooling.
  case pooling
  /// Takes an `epilogue` attribute and residual operands (see the header).
  case hasEpilogue
}

public struct OpSpec: Sendable {
  public let kind: OpKind
  public let operands: ClosedRange<Int>
  public let results: ClosedRange<Int>
  public let attributes: [AttributeSpec]
  public let traits: Set<OpTrait>

  public var mnemonic: String { kind.rawValue }
  public func attribute(_ name: String) -> AttributeSpec? { attributes.first { $0.name == name } }
  public func has(_ trait: OpTrait) -> Bool { traits.contains(trait) }
}

/// Variadic upper bound.
public let manyOperands = 1 << 20

extension OpKind {
  private static let specTable: [OpKind: OpSpec] =
    Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.makeSpec()) })

  public var spec: OpSpec { OpKind.specTable[self]! }
  public func has(_ trait: OpTrait) -> Bool { spec.traits.contains(trait) }

  // Spec helpers: attribute shorthands used by the table below.
  private static func int(_ n: String, _ d: Int? = nil) -> AttributeSpec { AttributeSpec(n, .int, d.map { .int($0) }) }
  private static func float(_ n: String, _ d: Float? = nil) -> AttributeSpec { AttributeSpec(n, .float, d.map { .float($0) }) }
  private static func bool(_ n: String, _ d: Bool? = nil) -> AttributeSpec { AttributeSpec(n, .bool, d.map { .bool($0) }) }
  private static func string(_ n: String, _ d: String? = nil) -> AttributeSpec { AttributeSpec(n, .string, d.map { .string($0) }) }
  private static func ints(_ n: String, optional: Bool = false) -> AttributeSpec { AttributeSpec(n, .ints, nil, optional: optional) }
  private static func floats(_ n: String, optional: Bool = false) -> AttributeSpec { AttributeSpec(n, .floats, nil, optional: optional) }

  private func spec(_ operands: ClosedRange<Int>, results: ClosedRange<Int> = 1...1,
                    _ attributes: [AttributeSpec] = [], _ traits: Set<OpTrait> = []) -> OpSpec {
    OpSpec(kind: self, operands: operands, results: results, attributes: attributes, traits: traits)
  }

  private func makeSpec() -> OpSpec {
    typealias K = OpKind
    let unary: Set<OpTrait> = [.elementwise]
    let binary: Set<OpTrait> = [.elementwise, .broadcasting]
    let commutative: Set<OpTrait> = [.elementwise, .broadcasting, .commutative]
    let compare: Set<OpTrait> = [.elementwise, .broadcasting, .comparison]
    let reduce: [AttributeSpec] = [K.ints("axes"), K.bool("keepdims", true)]
    let window: [AttributeSpec] = [K.ints("kernel"), K.ints("strides"), K.ints("pads"),
                                   K.ints("dilations")]
    let rnn: [AttributeSpec] = [K.string("direction", "forward"), K.int("hidden_size"),
                                K.strings_("activations"), K.floats("activation_alpha", optional: true),
                                K.floats("activation_beta", optional: true),
                                K.float("clip", 0), K.int("layout", 0)]
    switch self {
    case .constant: return spec(0...0, [K.string("name")])

    case .abs, .neg, .exp, .log, .sqrt, .reciprocal, .floor, .ceil, .round, .sign,
         .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh,
         .erf, .tanh, .sigmoid, .relu, .softplus, .softsign, .mish, .hard_swish,
         .not, .bitwise_not, .identity:
      return spec(1...1, [], unary)
    case .is_nan: return spec(1...1, [], [.elementwise, .comparison])
    case .is_inf:
      return spec(1...1, [K.bool("detect_negative", true), K.bool("detect_positive", true)],
                  [.elementwise, .comparison])
    case .leaky_relu: return spec(1...1, [K.float("alpha", 0.01)], unary)
    case .elu, .celu: return spec(1...1, [K.float("alpha", 1)], unary)
    case .selu: return spec(1...1, [K.float("alpha", 1.67326319217681884765625),
                                    K.float("gamma", 1.05070102214813232421875)], unary)
    case .thresholded_relu: return spec(1...1, [K.float("alpha", 1)], unary)
    case .hard_sigmoid: return spec(1...1, [K.float("alpha", 0.2), K.float("beta", 0.5)], unary)
    case .gelu: return spec(1...1, [K.string("approximate", "none")], unary)
    case .clip: return spec(1...1, [K.float("min", -.infinity), K.float("max", .infinity)], unary)
    case .shrink: return spec(1...1, [K.float("bias", 0), K.float("lambd", 0.5)], unary)
    case .cast: return spec(1...1, [AttributeSpec("to", .type)], unary)

    case .add, .mul: return spec(2...2, [], commutative)
    case .sub, .div, .pow: return spec(2...2, [], binary)
    case .mod: return spec(2...2, [K.bool("fmod", false)], binary)
    case .prelu: return spec(2...2, [], binary)
    case .max, .min, .sum, .mean: return spec(1...manyOperands, [], commutative)
    case .and, .or, .xor, .bitwise_and, .bitwise_or, .bitwise_xor: return spec(2...2, [], commutative)
    case .equal: return spec(2...2, [], compare.union([.commutative]))
    case .greater, .greater_or_equal, .less, .less_or_equal: return spec(2...2, [], compare)
    case .bit_shift: return spec(2...2, [K.string("direction")], binary)
    case .where: return spec(3...3, [], binary)

    case .reduce_sum, .reduce_mean, .reduce_max, .reduce_min, .reduce_prod, .reduce_l1,
         .reduce_l2, .reduce_log_sum, .reduce_log_sum_exp, .reduce_sum_square:
      return spec(1...1, reduce, [.reduction])
    case .argmax, .argmin:
      return spec(1...1, [K.int("axis", 0), K.bool("keepdims", true),
                          K.bool("select_last_index", false)], [.reduction])
    case .cumsum: return spec(1...1, [K.int("axis"), K.bool("exclusive", false), K.bool("reverse", false)])
    case .top_k: return spec(1...1, results: 2...2, [K.int("axis"), K.int("k"),
                                                      K.bool("largest", true), K.bool("sorted", true)])
    case .softmax, .log_softmax, .hardmax: return spec(1...1, [K.int("axis")])
    case .batch_norm: return spec(5...5, [K.float("epsilon", 1e-5)])
    case .layer_norm: return spec(2...3, [K.int("axis"), K.float("epsilon", 1e-5)])
    case .instance_norm: return spec(3...3, [K.float("epsilon", 1e-5)])
    case .group_norm: return spec(3...3, [K.int("num_groups"), K.float("epsilon", 1e-5)])
    case .lrn: return spec(1...1, [K.int("size"), K.float("alpha", 0.0001), K.float("beta", 0.75),
                                   K.float("bias", 1)])
    case .lp_norm: return spec(1...1, [K.int("axis"), K.int("p", 2)])
    case .mean_variance_norm: return spec(1...1, [K.ints("axes")])

    case .gemm:
      return spec(2...manyOperands, [K.float("alpha", 1), K.float("beta", 1), K.bool("transA", false),
                                     K.bool("transB", false), K.epilogue],
                  [.gemmLike, .hasEpilogue])
    case .matmul: return spec(2...2, [], [.gemmLike])
    case .conv:
      return spec(2...manyOperands, [K.ints("strides"), K.ints("pads"), K.ints("dilations"),
                                     K.int("group", 1), K.epilogue,
                                     AttributeSpec("algorithm", .convAlgorithm, nil, optional: true), K.layout,
                                     K.ints("kept_positions", optional: true),
                                     AttributeSpec("masked_fill", .float, nil, optional: true)],
                  [.gemmLike, .hasEpilogue])
    case .conv_transpose:
      return spec(2...3, [K.ints("strides"), K.ints("pads"), K.ints("dilations"), K.int("group", 1),
                          K.ints("output_padding")], [.gemmLike])
    case .einsum: return spec(1...manyOperands, [K.string("equation")])
    case .attention:
      return spec(3...4, [K.float("scale"), K.bool("causal", false), K.int("causal_offset", 0),
                          K.float("softcap", 0)])

    case .max_pool:
      return spec(1...1, results: 1...2, window + [K.bool("ceil_mode", false),
                                                   K.int("storage_order", 0)], [.pooling])
    case .average_pool:
      return spec(1...1, window + [K.bool("ceil_mode", false), K.bool("count_include_pad", false)],
                  [.pooling])
    case .lp_pool: return spec(1...1, window + [K.bool("ceil_mode", false), K.int("p", 2)], [.pooling])
    case .global_average_pool, .global_max_pool: return spec(1...1, [], [.pooling])
    case .global_lp_pool: return spec(1...1, [K.int("p", 2)], [.pooling])

    case .reshape: return spec(1...1, [K.ints("shape")], [.dataMovement])
    case .transpose: return spec(1...1, [K.ints("perm")], [.dataMovement])
    case .expand: return spec(1...1, [K.ints("shape")], [.dataMovement])
    case .tile: return spec(1...1, [K.ints("repeats")], [.dataMovement])
    case .concat: return spec(1...manyOperands, [K.int("axis")], [.dataMovement])
    case .split: return spec(1...1, results: 1...manyOperands, [K.int("axis"), K.ints("sizes")],
                             [.dataMovement])
    case .slice:
      return spec(1...1, [K.ints("starts"), K.ints("ends"), K.ints("axes"), K.ints("steps")],
                  [.dataMovement])
    case .pad:
      return spec(1...1, [K.ints("pads"), K.string("mode", "constant"), K.float("value", 0)],
                  [.dataMovement])
    case .gather: return spec(2...2, [K.int("axis", 0)], [.dataMovement])
    case .gather_elements: return spec(2...2, [K.int("axis", 0)], [.dataMovement])
    case .gather_nd: return spec(2...2, [K.int("batch_dims", 0)], [.dataMovement])
    case .scatter_elements: return spec(3...3, [K.int("axis", 0), K.string("reduction", "none")])
    case .scatter_nd: return spec(3...3, [K.string("reduction", "none")])
    case .depth_to_space: return spec(1...1, [K.int("blocksize"), K.string("mode", "DCR")], [.dataMovement])
    case .space_to_depth: return spec(1...1, [K.int("blocksize")], [.dataMovement])
    case .resize:
      return spec(1...1, [K.ints("sizes"), K.floats("scales", optional: true),
                          K.floats("roi", optional: true),
                          K.string("mode", "nearest"),
                          K.string("coordinate_transformation_mode", "half_pixel"),
                          K.string("nearest_mode", "round_prefer_floor"),
                          K.float("cubic_coeff_a", -0.75), K.bool("exclude_outside", false),
                          K.float("extrapolation_value", 0), K.bool("antialias", false)])
    case .reverse_sequence: return spec(2...2, [K.int("batch_axis", 1), K.int("time_axis", 0)],
                                        [.dataMovement])
    case .one_hot: return spec(2...2, [K.int("axis", -1), K.int("depth")])
    case .trilu: return spec(1...1, [K.bool("upper", true), K.int("k", 0)], [.dataMovement])

    // X, W, R, B, initial_h[, initial_c][, P]: the frontend fills absent B and states with zeros.
    case .lstm: return spec(6...7, results: 3...3, rnn + [K.bool("input_forget", false)])
    case .gru: return spec(5...5, results: 2...2, rnn + [K.bool("linear_before_reset", false)])
    case .rnn: return spec(5...5, results: 2...2, rnn)

    case .quantize_linear:
      return spec(3...3, [K.int("axis", 1), K.bool("saturate", true), K.int("block_size", 0)])
    case .dequantize_linear: return spec(3...3, [K.int("axis", 1), K.int("block_size", 0)])
    // x, w, i32 bias, residuals (one per "add" step); no .hasEpilogue: the steps run in
    // requantized units (Requantization in Quantization.swift).
    case .qconv:
      return spec(3...manyOperands, [K.ints("strides"), K.ints("pads"), K.ints("dilations"),
                                     K.int("group", 1), K.epilogue, K.layout])
    case .qmatmul: return spec(3...manyOperands, [K.epilogue])
    }
  }

  private static func strings_(_ n: String) -> AttributeSpec {
    AttributeSpec(n, .strings, .strings([]))
  }
  /// The steps after a gemm/conv (Epilogue.swift); none by default.
  private static let epilogue = AttributeSpec("epilogue", .epilogue, .epilogue([]))
  /// A conv's activation layout (ConvDecisions.swift); NCHW by default.
  private static let layout = AttributeSpec("layout", .convLayout, .convLayout(.nchw))
}
