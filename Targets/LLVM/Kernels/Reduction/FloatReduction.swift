//===--- FloatReduction.swift - reduce_sum/mean/max/min/prod/sum_square/l1/l2/log_sum(_exp) ---===//
//
// One loop nest over the kept dimensions, an inner nest over the reduced ones carrying
// the accumulator in a stack slot (promoted to a register by LLVM).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerReduction() throws -> OpKernel {
    let x = shape(operand: 0)
    let axes = Set(attributes.ints("axes"))
    let strides = contiguousStrides(x)
    let kept = x.indices.filter { !axes.contains($0) }, reduced = x.indices.filter { axes.contains($0) }
    let count = Float(reduced.map { x[$0] }.reduce(1, *))
    let kind = op.kind
    let initial: Float
    switch kind {
    case .reduce_max: initial = -.infinity
    case .reduce_min: initial = .infinity
    case .reduce_prod: initial = 1
    case .reduce_sum, .reduce_mean, .reduce_sum_square, .reduce_l1, .reduce_l2, .reduce_log_sum,
         .reduce_log_sum_exp:
      initial = 0
    default: throw unsupported("this reduction")
    }
    let f = defineKernel { results, operands, _ in
      let slot = cg.entryAlloca(cg.f32)
      cg.forEachIndex(kept.map { x[$0] }) { outer in
        LLVMBuildStore(cg.builder, cg.float(initial), slot)
        let base = cg.linearOffset(outer, kept.map { strides[$0] })
        cg.forEachIndex(reduced.map { x[$0] }) { inner in
          let v = cg.load(cg.at(operands[0], cg.add(base, cg.linearOffset(inner, reduced.map { strides[$0] }))))
          let acc = LLVMBuildLoad2(cg.builder, cg.f32, slot, "")!
          let next: Value
          switch kind {
          case .reduce_max: next = cg.fmax(acc, v)
          case .reduce_min: next = cg.fmin(acc, v)
          case .reduce_sum_square, .reduce_l2: next = cg.fma(v, v, acc)
          case .reduce_l1: next = cg.fadd(acc, cg.call("llvm.fabs", [v]))
          case .reduce_prod: next = cg.fmul(acc, v)
          case .reduce_log_sum_exp: next = cg.fadd(acc, cg.exp(v))
          default: next = cg.fadd(acc, v)
          }
          LLVMBuildStore(cg.builder, next, slot)
        }
        var total = LLVMBuildLoad2(cg.builder, cg.f32, slot, "")!
        if kind == .reduce_mean { total = cg.fdiv(total, cg.float(count)) }
        if kind == .reduce_l2 { total = cg.call("llvm.sqrt", [total]) }
        if kind == .reduce_log_sum || kind == .reduce_log_sum_exp { total = cg.call("llvm.log", [total]) }
        cg.store(total, cg.at(results[0], cg.linearOffset(outer, contiguousStrides(kept.map { x[$0] }))))
      }
    }
    return OpKernel(function: f)
  }
}

extension CodegenModule {
  /// A stack slot in the current function's entry block.
  func entryAlloca(_ type: LType) -> Value {
    let f = LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))!
    let entry = LLVMGetEntryBasicBlock(f)!
    let b = LLVMCreateBuilderInContext(context)!
    defer { LLVMDisposeBuilder(b) }
    if let first = LLVMGetFirstInstruction(entry) {
      LLVMPositionBuilderBefore(b, first)
    } else {
      LLVMPositionBuilderAtEnd(b, entry)
    }
    return LLVMBuildAlloca(b, type, "slot")
  }
}
