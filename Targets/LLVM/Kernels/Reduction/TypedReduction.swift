//===--- TypedReduction.swift - reduce_* of integers and bool ---===//
//
// The loop nest of Reduction.swift with the interpreter's integer and bool rules
// (Interpreter/Kernels/Reduction.swift):
//
//   integers  sum, prod, l1, sum_square wrap; mean is the wrapped sum divided (truncating)
//             by the count truncated to the type (by 0: the sum); max/min from T.min/T.max;
//             l2, log_sum, log_sum_exp accumulate in f64 and convert as `cast`
//   bool      reduce_max is any (false when empty), reduce_min all (true when empty)
//
// f16/bf16 reductions widen around the f32 kernel (WidenedHalves.swift); f64 is refused.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerTypedReduction() throws -> OpKernel {
    let e = type(op.operands[0]).element, x = shape(operand: 0), kind = op.kind
    let axes = Set(attributes.ints("axes"))
    let strides = contiguousStrides(x)
    let kept = x.indices.filter { !axes.contains($0) }, reduced = x.indices.filter { axes.contains($0) }
    let count = reduced.map { x[$0] }.reduce(1, *)
    let inDouble: Set<OpKind> = [.reduce_l2, .reduce_log_sum, .reduce_log_sum_exp]
    if e == .bool {
      guard kind == .reduce_max || kind == .reduce_min else { throw unsupported("\(e) operands") }
    } else {
      guard e.isInteger else { throw unsupported("\(e) operands") }
    }
    let signed = e.isSignedInteger
    let acc: ElementType = inDouble.contains(kind) ? .f64 : e
    let initial: Value
    switch kind {
    case .reduce_max: initial = e == .bool ? cg.constant(0, as: e) : cg.constant(-.infinity, as: e)
    case .reduce_min: initial = e == .bool ? cg.constant(1, as: e) : cg.constant(.infinity, as: e)
    case .reduce_prod: initial = cg.constant(1, as: e)
    default: initial = cg.constant(0, as: acc)
    }

    let f = defineKernel { results, operands, _ in
      let b = cg.builder
      let slot = cg.entryAlloca(cg.computeType(acc))
      cg.forEachIndex(kept.map { x[$0] }) { outer in
        LLVMBuildStore(b, initial, slot)
        let base = cg.linearOffset(outer, kept.map { strides[$0] })
        cg.forEachIndex(reduced.map { x[$0] }) { inner in
          let v = cg.load(e, operands[0], cg.add(base, cg.linearOffset(inner, reduced.map { strides[$0] })))
          let total = LLVMBuildLoad2(b, cg.computeType(acc), slot, "")!
          let next: Value
          switch kind {
          case .reduce_max where e == .bool: next = LLVMBuildOr(b, total, v, "")
          case .reduce_min where e == .bool: next = LLVMBuildAnd(b, total, v, "")
          case .reduce_max: next = cg.select(cg.icmp(signed ? LLVMIntSGT : LLVMIntUGT, v, total), v, total)
          case .reduce_min: next = cg.select(cg.icmp(signed ? LLVMIntSLT : LLVMIntULT, v, total), v, total)
          case .reduce_prod: next = LLVMBuildMul(b, total, v, "")
          case .reduce_l1:
            let negative = cg.isNegative(v, e)
            next = cg.add(total, cg.select(negative, LLVMBuildNeg(b, v, "")!, v))
          case .reduce_sum_square: next = cg.add(total, LLVMBuildMul(b, v, v, ""))
          case .reduce_l2:
            let d = cg.convert(v, from: e, to: .f64)
            next = cg.fadd(total, cg.fmul(d, d))
          case .reduce_log_sum_exp: next = cg.fadd(total, cg.call("llvm.exp", [cg.convert(v, from: e, to: .f64)]))
          case .reduce_log_sum: next = cg.fadd(total, cg.convert(v, from: e, to: .f64))
          default: next = cg.add(total, v)  // sum, mean
          }
          LLVMBuildStore(b, next, slot)
        }
        var total = LLVMBuildLoad2(b, cg.computeType(acc), slot, "")!
        switch kind {
        case .reduce_mean:
          // The count truncated to the type; dividing by 0 leaves the sum, by -1 negates (wrapping).
          let bits = e.byteSize * 8
          let truncated = bits == 64 ? Int64(count) : Int64(count) & ((1 << bits) - 1)
          let n = signed && bits < 64 && truncated >= 1 << (bits - 1) ? truncated - (1 << bits) : truncated
          if n == -1 { total = LLVMBuildNeg(b, total, "") }
          else if n != 0 {
            let divisor = LLVMConstInt(cg.computeType(e), UInt64(bitPattern: n), signed ? 1 : 0)!
            total = signed ? LLVMBuildSDiv(b, total, divisor, "") : LLVMBuildUDiv(b, total, divisor, "")
          }
        case .reduce_l2: total = cg.convert(cg.call("llvm.sqrt", [total]), from: .f64, to: e)
        case .reduce_log_sum, .reduce_log_sum_exp: total = cg.convert(cg.call("llvm.log", [total]), from: .f64, to: e)
        default: break
        }
        cg.store(e, total, results[0], cg.linearOffset(outer, contiguousStrides(kept.map { x[$0] })))
      }
    }
    return strict(OpKernel(function: f))
  }
}
