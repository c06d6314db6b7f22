//===--- Epilogue.swift - fused elementwise steps after a gemm or conv ---===//
//
//   %y = gemm %x, %w, %b {transB = true, epilogue = ["gelu"]} : tensor<128x3072xf32>
//   %z = conv %x, %w, %b, %r {epilogue = ["add", "clip:0.0:6.0"], ...} : tensor<...>
//
// An op with the `.hasEpilogue` trait applies its `epilogue` steps, in order, to its
// result (after alpha/beta/bias) before storing it. The text of each step is
// `NAME` or `NAME:ARG:ARG` with Swift's shortest round-trip float spelling
// (`0.0`, `6.0`, `-inf`, `inf`):
//
//   relu              max(x, 0)
//   clip:MIN:MAX      min(max(x, MIN), MAX)       (Relu6 is clip:0.0:6.0)
//   leaky_relu:ALPHA  x < 0 ? ALPHA * x : x
//   sigmoid           1 / (1 + exp(-x))
//   tanh              tanh(x)
//   hard_swish        x * max(0, min(1, x / 6 + 0.5))
//   silu              x * sigmoid(x)
//   gelu              0.5 * x * (1 + erf(x / sqrt(2)))
//   gelu:tanh         0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
//   add               x + r, r the next residual operand
//
// Residual operands trail the bias (gemm's C, conv's bias, materialized as zeros when
// the model had none), one per `add` step in step order, each with exactly the result's
// type. Every step except `silu` and `add` means the op of the same mnemonic with those
// attributes, so a target can reuse its elementwise kernels.

/// One step of an epilogue.
public enum EpilogueStep: Hashable, Sendable, CustomStringConvertible {
  case relu
  case clip(min: Float, max: Float)
  case leakyRelu(alpha: Float)
  case sigmoid
  case tanh
  case hardSwish
  case silu
  /// `approximate` is "none" (erf form) or "tanh", as the `gelu` op's attribute.
  case gelu(approximate: String)
  /// Adds the next residual operand.
  case add

  /// Parses the text form; throws a Diagnostic naming the step.
  public init(parsing text: String) throws {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    func floats(_ n: Int) throws -> [Float] {
      let values = parts.dropFirst().compactMap(Float.init)
      guard parts.count == n + 1, values.count == n else {
        throw Diagnostic("epilogue step '\(text)' needs \(n) float argument\(n == 1 ? "" : "s")")
      }
      return values
    }
    switch parts[0] {
    case "relu" where parts.count == 1: self = .relu
    case "sigmoid" where parts.count == 1: self = .sigmoid
    case "tanh" where parts.count == 1: self = .tanh
    case "hard_swish" where parts.count == 1: self = .hardSwish
    case "silu" where parts.count == 1: self = .silu
    case "add" where parts.count == 1: self = .add
    case "gelu" where parts.count == 1: self = .gelu(approximate: "none")
    case "gelu" where parts.count == 2 && (parts[1] == "tanh" || parts[1] == "none"):
      self = .gelu(approximate: parts[1])
    case "clip":
      let v = try floats(2)
      self = .clip(min: v[0], max: v[1])
    case "leaky_relu":
      self = .leakyRelu(alpha: try floats(1)[0])
    default:
      throw Diagnostic("unknown epilogue step '\(text)' (known: relu, clip:MIN:MAX, leaky_relu:ALPHA, "
                       + "sigmoid, tanh, hard_swish, silu, gelu, gelu:tanh, add)")
    }
  }

  /// The text form stored in the `epilogue` attribute.
  public var description: String {
    switch self {
    case .relu: return "relu"
    case let .clip(lo, hi): return "clip:\(lo):\(hi)"
    case let .leakyRelu(alpha): return "leaky_relu:\(alpha)"
    case .sigmoid: return "sigmoid"
    case .tanh: return "tanh"
    case .hardSwish: return "hard_swish"
    case .silu: return "silu"
    case let .gelu(approximate): return approximate == "none" ? "gelu" : "gelu:\(approximate)"
    case .add: return "add"
    }
  }

  /// The unary op the step applies (nil for `silu` and `add`).
  public var unaryOp: (kind: OpKind, attributes: Attributes)? {
    switch self {
    case .relu: return (.relu, Attributes(.relu))
    case let .clip(lo, hi): return (.clip, Attributes(.clip, ["min": .float(lo), "max": .float(hi)]))
    case let .leakyRelu(alpha): return (.leaky_relu, Attributes(.leaky_relu, ["alpha": .float(alpha)]))
    case .sigmoid: return (.sigmoid, Attributes(.sigmoid))
    case .tanh: return (.tanh, Attributes(.tanh))
    case .hardSwish: return (.hard_swish, Attributes(.hard_swish))
    case let .gelu(approximate):
      return (.gelu, Attributes(.gelu, ["approximate": .string(approximate)]))
    case .silu, .add: return nil
    }
  }

  /// The step that applies the unary op `kind` with `attributes`, if it has one.
  public init?(unary kind: OpKind, _ attributes: Attributes) {
    switch kind {
    case .relu: self = .relu
    case .clip: self = .clip(min: attributes.float("min"), max: attributes.float("max"))
    case .leaky_relu: self = .leakyRelu(alpha: attributes.float("alpha"))
    case .sigmoid: self = .sigmoid
    case .tanh: self = .tanh
    case .hard_swish: self = .hardSwish
    case .gelu:
      let approximate = attributes.string("approximate")
      guard approximate == "none" || approximate == "tanh" else { return nil }
      self = .gelu(approximate: approximate)
    default: return nil
    }
  }
}

extension Attributes {
  /// The `epilogue` steps (empty when absent or when the op has no such attribute).
  public var epilogue: [EpilogueStep] {
    get {
      guard case let .epilogue(steps)? = self["epilogue"] else { return [] }
      return steps
    }
    set { values["epilogue"] = newValue.isEmpty ? nil : .epilogue(newValue) }
  }
}

/// The epilogue of an op's attributes (empty when absent or for ops without the trait).
public func epilogueSteps(_ attributes: Attributes) -> [EpilogueStep] {
  attributes.kind.has(.hasEpilogue) ? attributes.epilogue : []
}

/// The number of residual operands an op with `attributes` takes (its `add` steps).
public func residualCount(_ attributes: Attributes) -> Int {
  epilogueSteps(attributes).filter { $0 == .add }.count
}

/// Result type of a `.hasEpilogue` op: `core` types the op from its operands without the
/// residuals; the residuals must have exactly that type.
func typeWithEpilogue(_ kind: OpKind, _ x: [TensorType], _ a: Attributes,
                      core: ([TensorType]) throws -> TensorType) throws -> TensorType {
  let residuals = residualCount(a)
  if residuals > 0 {
    try expect(x.count == 3 + residuals,
               "'\(kind.rawValue)' with \(residuals) residual add\(residuals == 1 ? "" : "s") in its epilogue "
               + "takes \(3 + residuals) operands (bias included), got \(x.count)")
  } else {
    try expect(x.count <= 3, "'\(kind.rawValue)' takes 2 or 3 operands without residual adds, got \(x.count)")
  }
  let t = try core(Array(x.prefix(x.count - residuals)))
  for r in x.suffix(residuals) {
    try expect(r.dense == t, "residual \(r) of '\(kind.rawValue)' must have its result type \(t)")
  }
  return t
}
