//===--- AxisScans.swift - argmax/argmin, cumsum, top_k along one axis ---===//
//
// Each walks the [outer, n, inner] view of one axis, with the interpreter's rules
// (Interpreter/Kernels/AxisScans.swift):
//   argmax/argmin  the first extreme (the last with select_last_index); NaN is the extreme
//   cumsum         inclusive or exclusive, from the end with reverse; f32 accumulates in
//                  f64, integers wrap (f32, f64, i32, i64, u32, u64)
//   top_k          the k largest (smallest) with their indices, sorted; equal values keep
//                  the lower index first, NaN sorts above every number. Each element's
//                  rank is counted directly (n² compares per row: no scratch, no sort).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerAxisScan() throws -> OpKernel {
    let x = shape(operand: 0), e = type(op.operands[0]).element
    var axis = attributes.int("axis")
    if axis < 0 { axis += x.count }
    guard x.indices.contains(axis) else { throw unsupported("axis \(axis) of \(type(op.operands[0]))") }
    let (outer, n, inner) = (x[..<axis].reduce(1, *), x[axis], x[(axis + 1)...].reduce(1, *))
    switch op.kind {
    case .argmax, .argmin:
      guard n > 0, e != .bool else { throw unsupported("\(type(op.operands[0])) operands") }
      return lowerArgExtreme(e, outer, n, inner)
    case .cumsum:
      guard [.f32, .f64, .i32, .i64, .u32, .u64].contains(e) else { throw unsupported("\(e) operands") }
      return lowerCumsum(e, outer, n, inner)
    default:
      guard e != .bool else { throw unsupported("\(e) operands") }
      return lowerTopK(e, outer, n, inner)
    }
  }

  /// Whether `a` comes before `b` in descending (`largest`) or ascending order; NaN comes
  /// before every number when `nanFirst`, after them otherwise; `orEqual`: ties (and two
  /// NaNs) count as before.
  private func ordered(_ a: Value, _ b: Value, _ e: ElementType, largest: Bool, orEqual: Bool,
                       nanFirst: Bool) -> Value {
    let builder = cg.builder
    if !e.isFloat {
      let s = e.isSignedInteger
      let p = largest ? (orEqual ? (s ? LLVMIntSGE : LLVMIntUGE) : (s ? LLVMIntSGT : LLVMIntUGT))
        : (orEqual ? (s ? LLVMIntSLE : LLVMIntULE) : (s ? LLVMIntSLT : LLVMIntULT))
      return cg.icmp(p, a, b)
    }
    let nanA = LLVMBuildFCmp(builder, LLVMRealUNO, a, a, "")!, nanB = LLVMBuildFCmp(builder, LLVMRealUNO, b, b, "")!
    let p = largest ? (orEqual ? LLVMRealOGE : LLVMRealOGT) : (orEqual ? LLVMRealOLE : LLVMRealOLT)
    let numbers = LLVMBuildFCmp(builder, p, a, b, "")!
    // The NaN side: (first ? a : b) is NaN, and a tie of two NaNs only with orEqual.
    let (nan, other) = nanFirst ? (nanA, nanB) : (nanB, nanA)
    let nanWins = orEqual ? nan : LLVMBuildAnd(builder, nan, LLVMBuildNot(builder, other, ""), "")!
    return LLVMBuildOr(builder, numbers, nanWins, "")
  }

  private func lowerArgExtreme(_ e: ElementType, _ outer: Int, _ n: Int, _ inner: Int) -> OpKernel {
    let last = attributes.bool("select_last_index"), largest = op.kind == .argmax
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([outer, inner]) { idx in
        let base = cg.add(cg.mul(idx[0], n * inner), idx[1])
        let best = cg.forLoop(cg.int(1), cg.int(n), carrying: [cg.load(e, operands[0], base), cg.int(0)]) { r, acc in
          let v = cg.load(e, operands[0], cg.add(base, cg.mul(r, inner)))
          let better = ordered(v, acc[0], e, largest: largest, orEqual: last, nanFirst: true)
          return [cg.select(better, v, acc[0]), cg.select(better, r, acc[1])]
        }
        cg.store(.i64, best[1], results[0], cg.add(cg.mul(idx[0], inner), idx[1]))
      }
    }
    return strict(OpKernel(function: f))
  }

  private func lowerCumsum(_ e: ElementType, _ outer: Int, _ n: Int, _ inner: Int) -> OpKernel {
    let exclusive = attributes.bool("exclusive"), reverse = attributes.bool("reverse")
    let wide: ElementType = e == .f32 ? .f64 : e
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([outer, inner]) { idx in
        let base = cg.add(cg.mul(idx[0], n * inner), idx[1])
        _ = cg.forLoop(cg.int(0), cg.int(n), carrying: [cg.constant(0, as: wide)]) { s, acc in
          let step = reverse ? cg.sub(cg.int(n - 1), s) : s
          let at = cg.add(base, cg.mul(step, inner))
          let x = cg.convert(cg.load(e, operands[0], at), from: e, to: wide)
          let sum = e.isFloat ? cg.fadd(acc[0], x) : LLVMBuildAdd(cg.builder, acc[0], x, "")!
          cg.store(e, cg.convert(exclusive ? acc[0] : sum, from: wide, to: e), results[0], at)
          return [sum]
        }
      }
    }
    return OpKernel(function: f)
  }

  private func lowerTopK(_ e: ElementType, _ outer: Int, _ n: Int, _ inner: Int) -> OpKernel {
    let k = attributes.int("k"), largest = attributes.bool("largest")
    let f = defineKernel { results, operands, _ in
      guard k > 0 else { return }
      cg.forEachIndex([outer, n, inner]) { idx in
        let base = cg.add(cg.mul(idx[0], n * inner), idx[2])
        let r = idx[1]
        let v = cg.load(e, operands[0], cg.add(base, cg.mul(r, inner)))
        // rank(r) = #{s : s comes before r} (more extreme, or equal with a lower index).
        let rank = cg.forLoop(cg.int(0), cg.int(n), carrying: [cg.int(0)]) { s, acc in
          let w = cg.load(e, operands[0], cg.add(base, cg.mul(s, inner)))
          let before = cg.select(cg.icmp(LLVMIntSLT, s, r), ordered(w, v, e, largest: largest, orEqual: true, nanFirst: largest),
                                 ordered(w, v, e, largest: largest, orEqual: false, nanFirst: largest))
          return [cg.add(acc[0], LLVMBuildZExt(cg.builder, before, cg.i64, "")!)]
        }[0]
        cg.ifThen(cg.icmp(LLVMIntSLT, rank, cg.int(k))) {
          let at = cg.add(cg.mul(cg.add(cg.mul(idx[0], k), rank), inner), idx[2])
          cg.store(e, v, results[0], at)
          cg.store(.i64, r, results[1], at)
        }
      }
    }
    return strict(OpKernel(function: f))
  }
}
