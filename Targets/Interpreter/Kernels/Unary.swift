//===--- Unary.swift - elementwise unary ops and cast ---------------------===//
//
// Floats: one generic kernel for Float and Double (f16/bf16 computed in Float). Integers:
// abs, neg, sign, relu, clip, bitwise_not, identity with two's-complement wrapping
// (`abs(Int8.min) == Int8.min`, as C). Bool: not, identity. Anything else throws.

import SparrowIR

func evaluateUnary(_ k: KernelArgs) throws -> [TensorRef] {
  let x = k.inputs[0]
  switch k.kind {
  case .identity: return [Tensor(type: k.type(), bytes: x.bytes).ref]
  case .cast: return [castTensor(x, to: k.type()).ref]
  case .not:
    guard x.element == .bool else { throw k.unsupported("\(x.element)") }
    return [mapBytes(x, k.type()) { $0 == 0 ? 1 : 0 }.ref]
  case .is_nan, .is_inf:
    guard x.element.isFloat else { throw k.unsupported("\(x.element)") }
    return try computingInFloat(k) { try [withFloatType($0.inputs[0].element, FloatPredicate(k: $0))!.ref] }
  default: break
  }
  if x.element.isFloat {
    return try computingInFloat(k) { try [withFloatType($0.inputs[0].element, FloatUnary(k: $0))!] }
  }
  if let y = try withIntegerType(x.element, IntegerUnary(k: k)) { return [y.ref] }
  throw k.unsupported("\(x.element)")
}

/// Bytewise map (bool tensors).
private func mapBytes(_ x: some TensorBytes, _ type: TensorType, _ f: (UInt8) -> UInt8) -> Tensor {
  Tensor(type: type, bytes: x.bytes.map(f))
}

// MARK: - Floats

private struct FloatUnary: FloatKernel {
  let k: KernelArgs

  func run<T: KernelFloat>(_: T.Type) throws -> TensorRef {
    let x = k.inputs[0], a = k.attributes
    return try x.withElements(T.self) { px in
      try k.result(of: T.self) { py in try apply(x.count, px, py, a) }
    }
  }

  @inline(__always)
  private func apply<T: KernelFloat>(_ n: Int, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                     _ a: Attributes) throws {
    func attr(_ name: String) -> T { T(a.float(name)) }
    switch k.kind {
    case .abs: map(n, x, y) { Swift.abs($0) }
    case .neg: map(n, x, y) { -$0 }
    case .exp: map(n, x, y) { T.exp($0) }
    case .log: map(n, x, y) { T.log($0) }
    case .sqrt: map(n, x, y) { $0.squareRoot() }
    case .reciprocal: map(n, x, y) { 1 / $0 }
    case .floor: map(n, x, y) { $0.rounded(.down) }
    case .ceil: map(n, x, y) { $0.rounded(.up) }
    case .round: map(n, x, y) { $0.rounded(.toNearestOrEven) }
    case .sign: map(n, x, y) { $0 > 0 ? 1 : $0 < 0 ? -1 : $0.isNaN ? $0 : 0 }
    case .sin: map(n, x, y) { T.sin($0) }
    case .cos: map(n, x, y) { T.cos($0) }
    case .tan: map(n, x, y) { T.tan($0) }
    case .asin: map(n, x, y) { T.asin($0) }
    case .acos: map(n, x, y) { T.acos($0) }
    case .atan: map(n, x, y) { T.atan($0) }
    case .sinh: map(n, x, y) { T.sinh($0) }
    case .cosh: map(n, x, y) { T.cosh($0) }
    case .asinh: map(n, x, y) { T.asinh($0) }
    case .acosh: map(n, x, y) { T.acosh($0) }
    case .atanh: map(n, x, y) { T.atanh($0) }
    case .erf: map(n, x, y) { T.erf($0) }
    case .tanh: map(n, x, y) { T.fastTanh($0) }
    case .sigmoid: map(n, x, y) { sigmoid($0) }
    case .relu: map(n, x, y) { $0 < 0 ? 0 : $0 }
    case .softplus: map(n, x, y) { softplus($0) }
    case .softsign: map(n, x, y) { $0 / (1 + Swift.abs($0)) }
    case .mish: map(n, x, y) { $0 * T.fastTanh(softplus($0)) }
    case .hard_swish: map(n, x, y) { $0 * Swift.max(0, Swift.min(1, $0 / 6 + T(0.5))) }
    case .leaky_relu:
      let alpha = attr("alpha")
      map(n, x, y) { $0 < 0 ? alpha * $0 : $0 }
    case .elu:
      let alpha = attr("alpha")
      map(n, x, y) { $0 < 0 ? alpha * T.expMinusOne($0) : $0 }
    case .selu:
      let alpha = attr("alpha"), gamma = attr("gamma")
      map(n, x, y) { $0 <= 0 ? gamma * alpha * T.expMinusOne($0) : gamma * $0 }
    case .celu:
      let alpha = attr("alpha")
      map(n, x, y) { Swift.max(0, $0) + Swift.min(0, alpha * T.expMinusOne($0 / alpha)) }
    case .thresholded_relu:
      let alpha = attr("alpha")
      map(n, x, y) { $0 > alpha ? $0 : 0 }
    case .hard_sigmoid:
      let alpha = attr("alpha"), beta = attr("beta")
      map(n, x, y) { Swift.max(0, Swift.min(1, alpha * $0 + beta)) }
    case .gelu:
      switch a.string("approximate") {
      case "none":
        map(n, x, y) { T(0.5) * $0 * (1 + T.fastErf($0 * T(0.70710678118654752440))) }
      case "tanh":
        let c = T(0.79788456080286535588)  // sqrt(2 / pi)
        map(n, x, y) { T(0.5) * $0 * (1 + T.fastTanh(c * ($0 + T(0.044715) * $0 * $0 * $0))) }
      case let mode: throw k.unsupported("approximate = \"\(mode)\"")
      }
    case .clip:
      let lo = attr("min"), hi = attr("max")
      map(n, x, y) { clamp($0, lo, hi) }
    case .shrink:
      let bias = attr("bias"), lambd = attr("lambd")
      map(n, x, y) { $0 < -lambd ? $0 + bias : $0 > lambd ? $0 - bias : 0 }
    default: throw k.unsupported("\(T.elementType)")
    }
  }
}

@inline(__always)
private func sigmoid<T: KernelFloat>(_ x: T) -> T {
  // Stable on both sides (exp never overflows) and branch-free, so it vectorizes.
  let e = T.fastExp(-Swift.abs(x))
  let r = 1 / (1 + e)
  return x >= 0 ? r : e * r
}

@inline(__always)
private func softplus<T: KernelFloat>(_ x: T) -> T {
  x > 0 ? x + T.logOnePlus(T.exp(-x)) : T.logOnePlus(T.exp(x))
}

/// is_nan, is_inf: float in, bool out.
private struct FloatPredicate: FloatKernel {
  let k: KernelArgs
  func run<T: KernelFloat>(_: T.Type) throws -> Tensor {
    let x = k.inputs[0]
    if k.kind == .is_nan { return mapTensor(x, T.self, to: k.type()) { $0.isNaN } }
    let neg = k.attributes.bool("detect_negative"), pos = k.attributes.bool("detect_positive")
    return mapTensor(x, T.self, to: k.type()) { v in v.isInfinite && (v < 0 ? neg : pos) }
  }
}

// MARK: - Integers

private struct IntegerUnary: IntegerKernel {
  let k: KernelArgs

  func run<T: KernelInteger>(_: T.Type) throws -> Tensor {
    let x = k.inputs[0], type = k.type()
    switch k.kind {
    case .abs: return mapTensor(x, T.self, to: type) { $0 < 0 ? 0 &- $0 : $0 }
    case .neg:
      guard T.isSigned else { throw k.unsupported("\(T.elementType)") }
      return mapTensor(x, T.self, to: type) { 0 &- $0 }
    case .sign: return mapTensor(x, T.self, to: type) { (v: T) -> T in v > 0 ? 1 : v < 0 ? 0 &- 1 : 0 }
    case .relu: return mapTensor(x, T.self, to: type) { $0 < 0 ? 0 : $0 }
    case .bitwise_not: return mapTensor(x, T.self, to: type) { ~$0 }
    case .clip:
      let lo: T = bound(k.attributes.float("min"), roundingUp: true)
      let hi: T = bound(k.attributes.float("max"), roundingUp: false)
      return mapTensor(x, T.self, to: type) { clamp($0, lo, hi) }
    default: throw k.unsupported("\(T.elementType)")
    }
  }

  /// A float clip bound as the nearest integer inside it, saturated to T's range.
  private func bound<T: KernelInteger>(_ v: Float, roundingUp: Bool) -> T {
    let r = Double(v).rounded(roundingUp ? .up : .down)
    if r.isNaN { return roundingUp ? T.min : T.max }
    if r <= Double(T.min) { return T.min }
    if r >= Double(T.max) { return T.max }
    return T(r)
  }
}

/// min(max(x, lo), hi) as onnxruntime: `hi` wins when lo > hi; NaN stays NaN.
@inline(__always)
private func clamp<T: Comparable>(_ x: T, _ lo: T, _ hi: T) -> T {
  let c = x < lo ? lo : x
  return c > hi ? hi : c
}
