//===--- TypedElementwise.swift - elementwise ops on every element type ---===//
//
// The same broadcasting loop as f32 (Elementwise.swift) with the scalar function chosen
// per element type, following the interpreter (Interpreter/Kernels/Binary.swift, Unary.swift):
//
//   f32, f16, bf16  the f32 functions (halves widen on load and round to nearest even on store)
//   f64             arithmetic, max/min (NaN propagates), abs, neg, relu, floor, ceil, sqrt, mod
//   integers        wrapping add/sub/mul, div truncating (x / 0 = x, MIN / -1 = MIN), mod
//                   (C or Python sign), max/min, abs, neg, sign, relu, clip, prelu,
//                   bitwise ops, bit_shift (an amount >= the width shifts every bit out)
//   any             comparisons -> bool, where (moves bits), cast
//   bool            and, or, xor, not;   floats: is_nan, is_inf -> bool
//   pow             f32 ^ f32 as f32; any other mix in f64, converted to the base's type as cast
//
// These kernels honor NaNs (no "no-nans-fp-math"), since casts, comparisons and is_nan
// must see them.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// Every operand and result computes in f32 (f32, f16 or bf16): the f32 functions apply.
  var computesInF32: Bool {
    (op.operands + op.results).allSatisfy { [.f32, .f16, .bf16].contains(type($0).element) }
  }

  func lowerTypedElementwise() throws -> OpKernel {
    let operandTypes = op.operands.map { type($0).element }
    let result = type(op.result).element
    let e = operandTypes.first ?? result
    switch op.kind {
    case .cast:
      return strict(emitElementwise { cg.convert($0[0], from: e, to: result) })
    case .where:
      let a = operandTypes[1].raw, b = operandTypes[2].raw
      return strict(emitElementwise(elements: [.bool, a, b, result.raw]) { v in
        cg.select(cg.icmp(LLVMIntNE, v[0], LLVMConstInt(cg.i8, 0, 0)), v[1], v[2])
      })
    case .equal, .greater, .greater_or_equal, .less, .less_or_equal:
      return strict(emitElementwise { v in cg.boolValue(compare(v[0], v[1], e)) })
    case .and, .or, .xor, .not:
      guard e == .bool else { throw unsupported("\(e) operands") }
      return emitElementwise { v in
        switch op.kind {
        case .and: return LLVMBuildAnd(cg.builder, v[0], v[1], "")
        case .or: return LLVMBuildOr(cg.builder, v[0], v[1], "")
        case .xor: return LLVMBuildXor(cg.builder, v[0], v[1], "")
        default: return LLVMBuildXor(cg.builder, v[0], LLVMConstInt(cg.i8, 1, 0), "")
        }
      }
    case .is_nan, .is_inf:
      guard e.isFloat else { throw unsupported("\(e) operands") }
      let a = attributes
      return strict(emitElementwise { v in
        let x = v[0]
        if op.kind == .is_nan { return cg.boolValue(LLVMBuildFCmp(cg.builder, LLVMRealUNO, x, x, "")) }
        let inf = LLVMConstReal(LLVMTypeOf(x), .infinity)!, negInf = LLVMConstReal(LLVMTypeOf(x), -.infinity)!
        let none = LLVMConstInt(cg.i1, 0, 0)!
        let positive = a.bool("detect_positive") ? LLVMBuildFCmp(cg.builder, LLVMRealOEQ, x, inf, "")! : none
        let negative = a.bool("detect_negative") ? LLVMBuildFCmp(cg.builder, LLVMRealOEQ, x, negInf, "")! : none
        return cg.boolValue(LLVMBuildOr(cg.builder, positive, negative, ""))
      })
    case .pow:
      guard !operandTypes.contains(.bool) else { throw unsupported("bool operands") }
      return strict(emitElementwise { v in
        let x = cg.convert(v[0], from: operandTypes[0], to: .f64)
        let y = cg.convert(v[1], from: operandTypes[1], to: .f64)
        return cg.convert(cg.call("llvm.pow", [x, y]), from: .f64, to: result)
      })
    default:
      if e == .f64, let f = doubleFunction() { return strict(emitElementwise(f)) }
      if e.isInteger, let f = try integerFunction(e) { return emitElementwise(f) }
      throw unsupported("\(e) operands")
    }
  }

  /// `a <op> b` as i1 for the comparison ops (bool compares as u8).
  private func compare(_ a: Value, _ b: Value, _ e: ElementType) -> Value {
    if e.isFloat {
      let p: LLVMRealPredicate
      switch op.kind {
      case .equal: p = LLVMRealOEQ
      case .greater: p = LLVMRealOGT
      case .greater_or_equal: p = LLVMRealOGE
      case .less: p = LLVMRealOLT
      default: p = LLVMRealOLE
      }
      return LLVMBuildFCmp(cg.builder, p, a, b, "")
    }
    let signed = e.isSignedInteger
    let p: LLVMIntPredicate
    switch op.kind {
    case .equal: p = LLVMIntEQ
    case .greater: p = signed ? LLVMIntSGT : LLVMIntUGT
    case .greater_or_equal: p = signed ? LLVMIntSGE : LLVMIntUGE
    case .less: p = signed ? LLVMIntSLT : LLVMIntULT
    default: p = signed ? LLVMIntSLE : LLVMIntULE
    }
    return cg.icmp(p, a, b)
  }

  /// Clears the no-NaNs assumption every generated function starts with.
  func strict(_ kernel: OpKernel) -> OpKernel {
    let key = "no-nans-fp-math", value = "false"
    LLVMRemoveStringAttributeAtIndex(kernel.function, cg.functionIndex, key, UInt32(key.utf8.count))
    let a = LLVMCreateStringAttribute(cg.context, key, UInt32(key.utf8.count), value, UInt32(value.utf8.count))
    LLVMAddAttributeAtIndex(kernel.function, cg.functionIndex, a)
    return kernel
  }

  private func fold(_ f: @escaping (Value, Value) -> Value) -> ([Value]) -> Value {
    { values in values.dropFirst().reduce(values[0], f) }
  }

  /// f64 scalar functions (the common arithmetic), or nil.
  private func doubleFunction() -> (([Value]) -> Value)? {
    let b = cg.builder
    func fcmp(_ p: LLVMRealPredicate, _ x: Value, _ y: Value) -> Value { LLVMBuildFCmp(b, p, x, y, "") }
    let zero = cg.constant(0, as: .f64)
    switch op.kind {
    case .add, .sum: return fold(cg.fadd)
    case .sub: return fold(cg.fsub)
    case .mul: return fold(cg.fmul)
    case .div: return fold(cg.fdiv)
    case .mean:
      let n = cg.constant(Double(op.operands.count), as: .f64)
      return { v in cg.fdiv(v.dropFirst().reduce(v[0], cg.fadd), n) }
    // NaN propagates (as the interpreter and onnxruntime).
    case .max: return fold { x, y in cg.select(LLVMBuildOr(b, fcmp(LLVMRealUNO, x, x), fcmp(LLVMRealOGT, x, y), "")!, x, y) }
    case .min: return fold { x, y in cg.select(LLVMBuildOr(b, fcmp(LLVMRealUNO, x, x), fcmp(LLVMRealOLT, x, y), "")!, x, y) }
    case .neg: return { cg.fneg($0[0]) }
    case .abs: return { cg.call("llvm.fabs", [$0[0]]) }
    case .relu: return { v in cg.select(fcmp(LLVMRealOLT, v[0], zero), zero, v[0]) }
    case .floor: return { cg.call("llvm.floor", [$0[0]]) }
    case .ceil: return { cg.call("llvm.ceil", [$0[0]]) }
    case .round: return { cg.call("llvm.roundeven", [$0[0]]) }
    case .sqrt: return { cg.call("llvm.sqrt", [$0[0]]) }
    case .reciprocal: return { cg.fdiv(cg.constant(1, as: .f64), $0[0]) }
    case .mod:
      let cFmod = attributes.bool("fmod")
      return { v in
        let r = LLVMBuildFRem(b, v[0], v[1], "")!
        if cFmod { return r }
        let differ = LLVMBuildXor(b, fcmp(LLVMRealOLT, r, zero), fcmp(LLVMRealOLT, v[1], zero), "")!
        return cg.select(LLVMBuildAnd(b, fcmp(LLVMRealONE, r, zero), differ, "")!, cg.fadd(r, v[1]), r)
      }
    default: return nil
    }
  }

  /// Integer scalar functions with the interpreter's wrapping semantics, or nil.
  private func integerFunction(_ e: ElementType) throws -> (([Value]) -> Value)? {
    let b = cg.builder, signed = e.isSignedInteger, width = e.byteSize * 8
    let t = cg.computeType(e)
    func k(_ v: Int64) -> Value { LLVMConstInt(t, UInt64(bitPattern: v), 1) }
    func less(_ x: Value, _ y: Value) -> Value { cg.icmp(signed ? LLVMIntSLT : LLVMIntULT, x, y) }
    func negate(_ x: Value) -> Value { LLVMBuildSub(b, k(0), x, "") }
    // x / 0 = x; MIN / -1 wraps to MIN (x % -1 = 0): divide by a safe divisor, then select.
    func divide(_ x: Value, _ y: Value, remainder: Bool) -> Value {
      let zero = cg.icmp(LLVMIntEQ, y, k(0))
      let minusOne = signed ? cg.icmp(LLVMIntEQ, y, k(-1)) : LLVMConstInt(cg.i1, 0, 0)!
      let safe = cg.select(LLVMBuildOr(b, zero, minusOne, ""), k(1), y)
      let q: Value = remainder ? (signed ? LLVMBuildSRem(b, x, safe, "") : LLVMBuildURem(b, x, safe, ""))
        : (signed ? LLVMBuildSDiv(b, x, safe, "") : LLVMBuildUDiv(b, x, safe, ""))
      return cg.select(zero, x, cg.select(minusOne, remainder ? k(0) : negate(x), q))
    }
    switch op.kind {
    case .add, .sum: return fold { LLVMBuildAdd(b, $0, $1, "") }
    case .sub: return fold { LLVMBuildSub(b, $0, $1, "") }
    case .mul: return fold { LLVMBuildMul(b, $0, $1, "") }
    case .div: return fold { divide($0, $1, remainder: false) }
    case .max: return fold { x, y in cg.select(less(x, y), y, x) }
    case .min: return fold { x, y in cg.select(less(y, x), y, x) }
    case .mod:
      let cFmod = attributes.bool("fmod")
      return { v in
        let r = divide(v[0], v[1], remainder: true)
        guard signed, !cFmod else { return r }
        let differ = LLVMBuildXor(b, less(r, k(0)), less(v[1], k(0)), "")!
        let adjust = LLVMBuildAnd(b, cg.icmp(LLVMIntNE, r, k(0)), differ, "")!
        return cg.select(adjust, LLVMBuildAdd(b, r, v[1], ""), r)
      }
    case .prelu: return { v in cg.select(less(v[0], k(0)), LLVMBuildMul(b, v[1], v[0], ""), v[0]) }
    case .bitwise_and: return fold { LLVMBuildAnd(b, $0, $1, "") }
    case .bitwise_or: return fold { LLVMBuildOr(b, $0, $1, "") }
    case .bitwise_xor: return fold { LLVMBuildXor(b, $0, $1, "") }
    case .bitwise_not: return { LLVMBuildNot(b, $0[0], "") }
    case .bit_shift:
      let left = attributes.string("direction") == "LEFT"
      guard left || attributes.string("direction") == "RIGHT" else {
        throw unsupported("bit_shift direction '\(attributes.string("direction"))'")
      }
      return { v in
        let over = cg.icmp(LLVMIntUGE, v[1], k(Int64(width)))
        if left { return cg.select(over, k(0), LLVMBuildShl(b, v[0], cg.select(over, k(0), v[1]), "")) }
        if signed { return LLVMBuildAShr(b, v[0], cg.select(over, k(Int64(width - 1)), v[1]), "") }
        return cg.select(over, k(0), LLVMBuildLShr(b, v[0], cg.select(over, k(0), v[1]), ""))
      }
    case .abs: return { v in cg.select(less(v[0], k(0)), negate(v[0]), v[0]) }
    case .neg:
      guard signed else { throw unsupported("\(e) operands") }
      return { negate($0[0]) }
    case .sign:
      return { v in cg.select(less(k(0), v[0]), k(1), cg.select(less(v[0], k(0)), k(-1), k(0))) }
    case .relu: return { v in cg.select(less(v[0], k(0)), k(0), v[0]) }
    case .clip:
      let lo = clipBound(attributes.float("min"), e, roundingUp: true)
      let hi = clipBound(attributes.float("max"), e, roundingUp: false)
      return { v in
        let c = cg.select(less(v[0], lo), lo, v[0])
        return cg.select(less(hi, c), hi, c)
      }
    default: return nil
    }
  }

  /// A float clip bound as the nearest integer inside it, saturated to `e`'s range.
  private func clipBound(_ v: Float, _ e: ElementType, roundingUp: Bool) -> Value {
    let width = e.byteSize * 8
    let (lo, hi): (Double, Double) = e.isSignedInteger
      ? (-pow2(width - 1), pow2(width - 1) - 1) : (0, pow2(width) - 1)
    let r = Double(v).rounded(roundingUp ? .up : .down)
    let t = cg.computeType(e)
    func exact(_ x: Double, isMax: Bool) -> Value {
      // The 64-bit extremes are not exact doubles: build them from their bit patterns.
      if width == 64 {
        if e.isSignedInteger { return LLVMConstInt(t, UInt64(bitPattern: isMax ? Int64.max : Int64.min), 1) }
        return LLVMConstInt(t, isMax ? UInt64.max : 0, 0)
      }
      return cg.constant(x, as: e)
    }
    if r.isNaN { return roundingUp ? exact(lo, isMax: false) : exact(hi, isMax: true) }
    if r <= lo { return exact(lo, isMax: false) }
    if r >= hi { return exact(hi, isMax: true) }
    return cg.constant(r, as: e)
  }
}

private func pow2(_ n: Int) -> Double { Double(sign: .plus, exponent: n, significand: 1) }
