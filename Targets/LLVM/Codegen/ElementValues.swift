//===--- ElementValues.swift - loading, storing and converting every element type ---===//
//
// Kernels receive `float*` parameters; a kernel of another element type addresses its
// buffers through `element(e, p, offset)`, which bitcasts to the storage type:
//
//   f32 float   f64 double   f16 half   bf16 i16 (bits)   bool i8 (0 or 1)   iN/uN iN
//
// Values are computed in `computeType(e)`: f16 and bf16 in f32 (as the interpreter: widen,
// compute, round to nearest even), every other type in its storage type (signedness
// lives in the ElementType, not in the LLVM type). `convert` is the interpreter's `cast`
// (Targets/Interpreter/Kernels/Cast.swift). For f32 every helper emits exactly what the
// f32-only helpers (`load`, `store`, `at`) emit, so f32 kernels are unchanged.

internal import CLLVM
import SparrowIR

extension ElementType {
  /// f16 and bf16: stored narrow, computed in f32.
  var isHalf: Bool { self == .f16 || self == .bf16 }
  /// The type whose storage moves these bytes unchanged (halves as u16 bits), for kernels
  /// that only move elements.
  var raw: ElementType { isHalf ? .u16 : self }
}

extension CodegenModule {
  func storageType(_ e: ElementType) -> LType {
    switch e {
    case .f32: return f32
    case .f64: return LLVMDoubleTypeInContext(context)
    case .f16: return LLVMHalfTypeInContext(context)
    case .bf16, .i16, .u16: return LLVMInt16TypeInContext(context)
    case .i8, .u8, .bool: return i8
    case .i32, .u32: return i32
    case .i64, .u64: return i64
    }
  }

  func computeType(_ e: ElementType) -> LType { e.isHalf ? f32 : storageType(e) }

  /// The address of element `offset` of a buffer of `e` at `p` (any pointer type).
  func element(_ e: ElementType, _ p: Value, _ offset: Value) -> Value {
    let t = storageType(e)
    return gep(t, LLVMBuildBitCast(builder, p, LLVMPointerType(t, 0), ""), offset)
  }
  func element(_ e: ElementType, _ p: Value, _ offset: Int) -> Value {
    e == .f32 ? at(p, offset) : element(e, p, int(offset))
  }

  /// Element `offset` of a buffer of `e`, in the compute type.
  func load(_ e: ElementType, _ p: Value, _ offset: Value) -> Value {
    let v = LLVMBuildLoad2(builder, storageType(e), element(e, p, offset), "")!
    LLVMSetAlignment(v, UInt32(e.byteSize))
    switch e {
    case .f16: return LLVMBuildFPExt(builder, v, f32, "")
    case .bf16:
      let bits = LLVMBuildShl(builder, LLVMBuildZExt(builder, v, i32, ""), int32(16), "")
      return LLVMBuildBitCast(builder, bits, f32, "")
    default: return v
    }
  }

  /// Stores `v` (in the compute type of `e`) as element `offset` of a buffer of `e`.
  func store(_ e: ElementType, _ v: Value, _ p: Value, _ offset: Value) {
    var stored = v
    switch e {
    case .f16: stored = LLVMBuildFPTrunc(builder, v, LLVMHalfTypeInContext(context), "")
    case .bf16:
      // Round to nearest even; NaN becomes the quiet NaN 0x7fc0 (as Float.bfloat16Bits).
      let bits = LLVMBuildBitCast(builder, v, i32, "")!
      let odd = LLVMBuildAnd(builder, LLVMBuildLShr(builder, bits, int32(16), ""), int32(1), "")!
      let rounded = LLVMBuildAdd(builder, LLVMBuildAdd(builder, bits, int32(0x7fff), ""), odd, "")!
      let narrow = LLVMBuildTrunc(builder, LLVMBuildLShr(builder, rounded, int32(16), ""),
                                  storageType(.bf16), "")!
      let nan = LLVMBuildFCmp(builder, LLVMRealUNO, v, v, "")!
      stored = select(nan, LLVMConstInt(storageType(.bf16), 0x7fc0, 0), narrow)
    default: break
    }
    LLVMSetAlignment(LLVMBuildStore(builder, stored, element(e, p, offset)), UInt32(e.byteSize))
  }

  /// `x` as a constant of `e`'s compute type (integers truncate toward zero, saturating).
  func constant(_ x: Double, as e: ElementType) -> Value {
    let t = computeType(e)
    if e.isFloat { return LLVMConstReal(t, x) }
    if e == .bool { return LLVMConstInt(t, x != 0 ? 1 : 0, 0) }
    if x.isNaN { return LLVMConstInt(t, 0, 0) }
    let bits = e.byteSize * 8
    if e.isSignedInteger {
      let (lo, hi) = (Int64.min >> (64 - bits), Int64.max >> (64 - bits))
      let v = x >= Double(hi) ? hi : x <= Double(lo) ? lo : Int64(x)
      return LLVMConstInt(t, UInt64(bitPattern: v), 1)
    }
    let hi = UInt64.max >> (64 - bits)
    let v = x <= 0 ? 0 : x >= Double(hi) ? hi : UInt64(x)
    return LLVMConstInt(t, v, 0)
  }

  /// `x` stored as `e.raw` (halves as their bits), for the fills of kernels that move raw
  /// elements (as the interpreter's `elementBytes`).
  func rawConstant(_ x: Double, _ e: ElementType) -> Value {
    switch e {
    case .f16: return LLVMConstInt(storageType(.u16), UInt64(Float(x).float16Bits), 0)
    case .bf16: return LLVMConstInt(storageType(.u16), UInt64(Float(x).bfloat16Bits), 0)
    default: return constant(x, as: e)
    }
  }

  /// Whether `x` (of element type `e`, compute type) is negative (false for unsigned).
  func isNegative(_ x: Value, _ e: ElementType) -> Value {
    if e.isFloat { return LLVMBuildFCmp(builder, LLVMRealOLT, x, LLVMConstNull(LLVMTypeOf(x)), "") }
    if e.isSignedInteger { return icmp(LLVMIntSLT, x, LLVMConstNull(LLVMTypeOf(x))) }
    return LLVMConstInt(i1, 0, 0)
  }

  /// An i1 as a bool element (i8 0 or 1).
  func boolValue(_ c: Value) -> Value { LLVMBuildZExt(builder, c, i8, "") }

  /// `x` of element type `from` (compute type) converted as the interpreter's `cast`:
  /// float -> integer truncates toward zero, NaN -> 0, saturates at the 64-bit range and
  /// then wraps to the width; integers wrap; anything -> bool is `x != 0` (NaN is true).
  func convert(_ x: Value, from: ElementType, to: ElementType) -> Value {
    let target = computeType(to)
    if from == to || (from.isHalf && to.isHalf) || (from.isHalf && to == .f32) || (from == .f32 && to.isHalf) {
      return x
    }
    if to == .bool {
      let zero = LLVMConstNull(LLVMTypeOf(x))!
      let c = from.isFloat ? LLVMBuildFCmp(builder, LLVMRealUNE, x, zero, "")! : icmp(LLVMIntNE, x, zero)
      return boolValue(c)
    }
    if from.isFloat {
      if to.isFloat {
        let fromWidth = from == .f64 ? 64 : 32, toWidth = to == .f64 ? 64 : 32
        if fromWidth == toWidth { return x }
        return fromWidth < toWidth ? LLVMBuildFPExt(builder, x, target, "") : LLVMBuildFPTrunc(builder, x, target, "")
      }
      let double = storageType(.f64)
      let wide = from == .f64 ? x : LLVMBuildFPExt(builder, x, double, "")!
      func saturating(_ name: String) -> Value {
        let (f, t) = intrinsic(name, [i64, double])
        var args: [Value?] = [wide]
        return LLVMBuildCall2(builder, t, f, &args, 1, "")
      }
      var v = saturating("llvm.fptosi.sat")
      if to.isUnsignedInteger {
        v = select(isNegative(wide, .f64), v, saturating("llvm.fptoui.sat"))
      }
      return to.byteSize == 8 ? v : LLVMBuildTrunc(builder, v, target, "")
    }
    // From an integer or bool (0/1, unsigned).
    let signed = from.isSignedInteger
    if to.isFloat {
      return signed ? LLVMBuildSIToFP(builder, x, target, "") : LLVMBuildUIToFP(builder, x, target, "")
    }
    return LLVMBuildIntCast2(builder, x, target, signed ? 1 : 0, "")
  }

  /// `memcpy` of `count` elements of `e` from `source[sourceOffset]` to
  /// `destination[destinationOffset]`.
  func copyElements(_ e: ElementType, from source: Value, _ sourceOffset: Value,
                    to destination: Value, _ destinationOffset: Value, count: Int) {
    let (f, t) = intrinsic("llvm.memcpy", [i8Ptr, i8Ptr, i64])
    var args: [Value?] = [LLVMBuildBitCast(builder, element(e, destination, destinationOffset), i8Ptr, ""),
                          LLVMBuildBitCast(builder, element(e, source, sourceOffset), i8Ptr, ""),
                          int(count * e.byteSize), LLVMConstInt(i1, 0, 0)]
    LLVMBuildCall2(builder, t, f, &args, 4, "")
  }
}
