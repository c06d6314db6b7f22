//===--- FloatElementwise.swift - unary and broadcasting n-ary elementwise ops ---===//
//
// One loop nest over the result's shape, after merging dimensions that every operand
// walks contiguously (a same-shape add is one loop; a per-channel add over NCHW is
// [C, H*W] with the channel operand at inner stride 0). Loops are scalar; LLVM's loop
// vectorizer turns the innermost one into vector code (fast-math attributes are set).
// Threads take contiguous ranges of the outermost loop.

internal import CLLVM
import SparrowIR

/// Row-major strides of `shape` broadcast to `target` (0 along broadcast dimensions).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
  let own = contiguousStrides(shape)
  let pad = target.count - shape.count
  return target.indices.map { d in
    d < pad ? 0 : (shape[d - pad] == 1 && target[d] != 1 ? 0 : own[d - pad])
  }
}

/// Drops unit dimensions and merges neighbours that every stride list walks contiguously.
func collapseDimensions(_ shape: [Int], _ strides: [[Int]]) -> ([Int], [[Int]]) {
  var dims: [Int] = [], out = strides.map { _ in [Int]() }
  for d in shape.indices where shape[d] != 1 {
    if let last = dims.indices.last,
       strides.indices.allSatisfy({ out[$0][last] == strides[$0][d] * shape[d] }) {
      dims[last] *= shape[d]
      for s in strides.indices { out[s][last] = strides[s][d] }
    } else {
      dims.append(shape[d])
      for s in strides.indices { out[s].append(strides[s][d]) }
    }
  }
  return (dims, out)
}

extension OpContext {
  /// Emits `result = combine(operands...)` elementwise with broadcasting. Operands are
  /// loaded in the compute type of their element type and the result stored as its own
  /// (ElementValues.swift; `elements` overrides the types: operands, then the result).
  func emitElementwise(elements: [ElementType]? = nil, _ combine: @escaping ([Value]) -> Value) -> OpKernel {
    let types = elements ?? (op.operands + [op.result]).map { type($0).element }
    let outShape = shape()
    let strides = [contiguousStrides(outShape)]
      + op.operands.indices.map { broadcastStrides(shape(operand: $0), to: outShape) }
    let (dims, collapsed) = collapseDimensions(outShape, strides)
    // Threads split the outermost collapsed dimension.
    let f = defineKernel(parallelOver: dims.first ?? 1, nanoseconds: streamingNanoseconds) { results, operands, _, begin, end in
      cg.forEachIndex(dims, outermost: (begin, end)) { idx in
        let values = operands.indices.map { k in
          cg.load(types[k], operands[k], cg.linearOffset(idx, collapsed[k + 1]))
        }
        cg.store(types[operands.count], combine(values), results[0], cg.linearOffset(idx, collapsed[0]))
      }
    }
    return OpKernel(function: f)
  }

  /// The scalar function of a unary elementwise op, or nil when unsupported.
  func unaryFunction() -> ((Value) -> Value)? {
    let a = attributes
    let one = cg.float(1), zero = cg.float(0)
    func activation(_ a: Activation) -> (Value) -> Value { { cg.apply(a, $0) } }
    switch op.kind {
    case .relu: return { cg.fmax($0, zero) }
    case .neg: return { cg.fneg($0) }
    case .abs: return { cg.call("llvm.fabs", [$0]) }
    case .exp: return { cg.exp($0) }
    case .log: return { cg.call("llvm.log", [$0]) }
    case .sqrt: return { cg.call("llvm.sqrt", [$0]) }
    case .floor: return { cg.call("llvm.floor", [$0]) }
    case .ceil: return { cg.call("llvm.ceil", [$0]) }
    case .reciprocal: return { cg.fdiv(one, $0) }
    case .sigmoid: return activation(.sigmoid)
    case .tanh: return activation(.tanh)
    case .erf: return { cg.erf($0) }
    case .sin: return { cg.call("llvm.sin", [$0]) }
    case .cos: return { cg.call("llvm.cos", [$0]) }
    case .softplus: return { cg.call("llvm.log", [cg.fadd(one, cg.exp($0))]) }
    case .clip: return activation(.clip(min: a.float("min"), max: a.float("max")))
    case .leaky_relu: return activation(.leakyRelu(alpha: a.float("alpha")))
    case .elu:
      let alpha = cg.float(a.float("alpha"))
      return { x in
        let neg = cg.fmul(alpha, cg.fsub(cg.exp(x), one))
        return cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOLT, x, zero, ""), neg, x)
      }
    case .hard_sigmoid:
      let alpha = cg.float(a.float("alpha")), beta = cg.float(a.float("beta"))
      return { x in cg.fmin(cg.fmax(cg.fadd(cg.fmul(x, alpha), beta), zero), one) }
    case .hard_swish: return activation(.hardSwish)
    case .gelu:
      let approximate = a.string("approximate")
      guard approximate == "none" || approximate == "tanh" else { return nil }
      return activation(.gelu(tanhApproximation: approximate == "tanh"))
    default: return nil
    }
  }

  /// The scalar function of a broadcasting binary/variadic op, or nil when unsupported.
  func naryFunction() -> (([Value]) -> Value)? {
    func fold(_ f: @escaping (Value, Value) -> Value) -> ([Value]) -> Value {
      { values in values.dropFirst().reduce(values[0], f) }
    }
    switch op.kind {
    case .add, .sum: return fold(cg.fadd)
    case .sub: return fold(cg.fsub)
    case .mul: return fold(cg.fmul)
    case .div: return fold(cg.fdiv)
    case .max: return fold(cg.fmax)
    case .min: return fold(cg.fmin)
    case .mean:
      let n = cg.float(Float(op.operands.count))
      return { values in cg.fdiv(values.dropFirst().reduce(values[0], cg.fadd), n) }
    case .pow: return { v in cg.call("llvm.pow", [v[0], v[1]]) }
    case .prelu:
      return { v in
        let negative = LLVMBuildFCmp(cg.builder, LLVMRealOLT, v[0], cg.float(0), "")!
        return cg.select(negative, cg.fmul(v[0], v[1]), v[0])
      }
    default: return nil
    }
  }
}
