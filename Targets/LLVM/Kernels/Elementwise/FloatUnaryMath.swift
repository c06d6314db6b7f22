//===--- FloatUnaryMath.swift - the remaining f32 unary ops (libm and selects) ---===//
//
//   round -> llvm.roundeven (ties to even, as ONNX)     tan, asin ... atanh -> libm (tanf ...)
//   sign, softsign, mish, selu, celu, thresholded_relu, shrink -> selects and arithmetic
//
// Same loop as every elementwise op (Elementwise.swift); only the scalar function is
// here. libm functions resolve from the process under the JIT and from libm in a `.so`.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// The scalar function of a unary op not covered by `unaryFunction`, or nil.
  func mathUnaryFunction() -> ((Value) -> Value)? {
    let a = attributes
    let zero = cg.float(0), one = cg.float(1)
    func libm(_ name: String) -> (Value) -> Value {
      { x in
        let (f, type) = cg.externalFunction(name, params: [cg.f32], returns: cg.f32)
        var args: [Value?] = [x]
        return LLVMBuildCall2(cg.builder, type, f, &args, 1, "")
      }
    }
    func less(_ x: Value, _ y: Value) -> Value { LLVMBuildFCmp(cg.builder, LLVMRealOLT, x, y, "")! }
    func expMinusOne(_ x: Value) -> Value { libm("expm1f")(x) }
    switch op.kind {
    case .round: return { cg.call("llvm.roundeven", [$0]) }
    case .sign:
      // NaN stays NaN: copysign(1, x) where x != 0, x itself (0 or NaN) otherwise.
      return { x in
        let nonzero = LLVMBuildFCmp(cg.builder, LLVMRealONE, x, zero, "")!
        return cg.select(nonzero, cg.call("llvm.copysign", [one, x]), x)
      }
    case .tan: return libm("tanf")
    case .asin: return libm("asinf")
    case .acos: return libm("acosf")
    case .atan: return libm("atanf")
    case .sinh: return libm("sinhf")
    case .cosh: return libm("coshf")
    case .asinh: return libm("asinhf")
    case .acosh: return libm("acoshf")
    case .atanh: return libm("atanhf")
    case .softsign: return { x in cg.fdiv(x, cg.fadd(one, cg.call("llvm.fabs", [x]))) }
    case .mish:
      return { x in cg.fmul(x, cg.tanh(libm("log1pf")(cg.exp(x)))) }
    case .selu:
      let alpha = a.float("alpha"), gamma = a.float("gamma")
      return { x in
        let negative = cg.fmul(cg.float(gamma * alpha), expMinusOne(x))
        return cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOLE, x, zero, "")!, negative, cg.fmul(cg.float(gamma), x))
      }
    case .celu:
      let alpha = a.float("alpha")
      return { x in
        let negative = cg.fmul(cg.float(alpha), expMinusOne(cg.fdiv(x, cg.float(alpha))))
        return cg.fadd(cg.fmax(x, zero), cg.fmin(negative, zero))
      }
    case .thresholded_relu:
      let alpha = cg.float(a.float("alpha"))
      return { x in cg.select(less(alpha, x), x, zero) }
    case .shrink:
      let bias = cg.float(a.float("bias")), lambd = a.float("lambd")
      return { x in
        let below = cg.select(less(x, cg.float(-lambd)), cg.fadd(x, bias), zero)
        return cg.select(less(cg.float(lambd), x), cg.fsub(x, bias), below)
      }
    default: return nil
    }
  }
}
