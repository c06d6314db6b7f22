//===--- MathFunctions.swift - activations on scalars or vectors, inline ---===//
//
// Written with `llvm.exp` and arithmetic only (no libm calls), so the same code serves
// scalars and `<16 x float>` vectors, and the loop vectorizer can widen scalar loops.
// erf uses Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7).

internal import CLLVM

extension CodegenModule {
  /// `v` as a constant of `x`'s type (scalar or splat vector).
  func constant(_ v: Float, like x: Value) -> Value {
    LLVMGetTypeKind(LLVMTypeOf(x)) == LLVMVectorTypeKind ? splat(v) : float(v)
  }

  func exp(_ x: Value) -> Value { call("llvm.exp", [x]) }

  func sigmoid(_ x: Value) -> Value {
    let one = constant(1, like: x)
    return fdiv(one, fadd(one, exp(fneg(x))))
  }

  /// tanh(x) = 1 - 2 / (exp(2x) + 1), with x clamped to ±20 so exp stays finite.
  func tanh(_ x: Value) -> Value {
    let c = fmin(fmax(x, constant(-20, like: x)), constant(20, like: x))
    let e = exp(fmul(c, constant(2, like: x)))
    return fsub(constant(1, like: x), fdiv(constant(2, like: x), fadd(e, constant(1, like: x))))
  }

  func erf(_ x: Value) -> Value {
    let k = { (v: Float) in self.constant(v, like: x) }
    let a = call("llvm.fabs", [x])
    let t = fdiv(k(1), fadd(k(1), fmul(k(0.3275911), a)))
    var poly = k(1.061405429)
    for c: Float in [-1.453152027, 1.421413741, -0.284496736, 0.254829592] { poly = fma(poly, t, k(c)) }
    let y = fsub(k(1), fmul(fmul(poly, t), exp(fneg(fmul(a, a)))))
    return call("llvm.copysign", [y, x])
  }

  func gelu(_ x: Value, tanhApproximation: Bool) -> Value {
    let k = { (v: Float) in self.constant(v, like: x) }
    let half = fmul(k(0.5), x)
    if tanhApproximation {
      let inner = fmul(k(0.7978845608), fma(fmul(k(0.044715), fmul(x, x)), x, x))
      return fmul(half, fadd(k(1), tanh(inner)))
    }
    return fmul(half, fadd(k(1), erf(fmul(x, k(0.70710678118)))))
  }

  /// Applies an activation to a scalar or vector.
  func apply(_ activation: Activation, _ x: Value) -> Value {
    let k = { (v: Float) in self.constant(v, like: x) }
    switch activation {
    case .none: return x
    case .relu: return fmax(x, k(0))
    case let .clip(lo, hi):
      var y = x
      if lo > -.infinity { y = fmax(y, k(lo)) }
      if hi < .infinity { y = fmin(y, k(hi)) }
      return y
    case let .leakyRelu(alpha):
      return select(LLVMBuildFCmp(builder, LLVMRealOLT, x, k(0), ""), fmul(x, k(alpha)), x)
    case .sigmoid: return sigmoid(x)
    case .tanh: return tanh(x)
    case .hardSwish: return fmul(x, fmin(fmax(fma(x, k(1.0 / 6), k(0.5)), k(0)), k(1)))
    case .silu: return fmul(x, sigmoid(x))
    case let .gelu(approximation): return gelu(x, tanhApproximation: approximation)
    }
  }
}
