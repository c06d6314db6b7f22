//===--- MathFunctions.swift - activations on scalars or vectors, inline ---===//
//
// Arithmetic only (no libm calls), so the same code serves scalars and `<16 x float>`
// vectors, and the loop vectorizer can widen scalar loops. exp is Cephes' expf
// (range reduction by ln 2, degree-6 polynomial, 2^n built in the exponent bits; about
// 1 ulp); erf uses Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7).

internal import CLLVM

extension CodegenModule {
  /// `v` as a constant of `x`'s type (scalar or splat vector).
  func constant(_ v: Float, like x: Value) -> Value {
    LLVMGetTypeKind(LLVMTypeOf(x)) == LLVMVectorTypeKind ? splat(v) : float(v)
  }

  func exp(_ x: Value) -> Value {
    let k = { (v: Float) in self.constant(v, like: x) }
    let isVector = LLVMGetTypeKind(LLVMTypeOf(x)) == LLVMVectorTypeKind
    let intType = isVector ? LLVMVectorType(i32, UInt32(lanes))! : i32
    let clamped = fmin(fmax(x, k(-87.33654)), k(88.37626))
    let n = call("llvm.floor", [fma(clamped, k(1.44269504088896341), k(0.5))])
    var r = fma(n, k(-0.693359375), clamped)
    r = fma(n, k(2.12194440e-4), r)
    var p = k(1.9875691500e-4)
    for c: Float in [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1] {
      p = fma(p, r, k(c))
    }
    p = fadd(fma(p, fmul(r, r), r), k(1))
    let exponent = LLVMBuildFPToSI(builder, n, intType, "")!
    let bias = isVector ? splat(int32: 127) : int32(127)
    let shift = isVector ? splat(int32: 23) : int32(23)
    let bits = LLVMBuildShl(builder, LLVMBuildAdd(builder, exponent, bias, ""), shift, "")!
    return fmul(p, LLVMBuildBitCast(builder, bits, LLVMTypeOf(x), ""))
  }

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
