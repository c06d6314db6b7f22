//===--- WindowPooling.swift - max/average/lp pooling over 1-D, 3-D ... windows ---===//
//
//   y[n][c][o...] = max | mean | (Σ |x|^p)^(1/p)  over x[n][c][o*s - pad + k*d ...], k < kernel
//
// Pooling.swift generates the 2-D max and average pools; this kernel takes every other
// rank, lp_pool, and global_lp_pool (a window covering the whole input). Taps outside the
// input are skipped (max, lp) or not counted (average, unless count_include_pad counts
// the padded window; ceil_mode windows may still run past the padding).

internal import CLLVM
import SparrowIR

extension OpContext {
  /// Pooling.swift's 2-D kernel for max/average pools over NCHW, this one otherwise.
  func lowerPoolAnyRank() throws -> OpKernel {
    shape(operand: 0).count == 4 ? try lowerPool() : try lowerWindowPool()
  }

  func lowerWindowPool() throws -> OpKernel {
    let x = shape(operand: 0), y = shape()
    let rank = x.count - 2
    guard op.results.count == 1 else { throw unsupported("max_pool indices") }
    let a = attributes
    let global = op.kind == .global_lp_pool
    let kernel = global ? Array(x[2...]) : a.ints("kernel")
    let strides = global ? Array(repeating: 1, count: rank) : a.ints("strides")
    let pads = global ? Array(repeating: 0, count: 2 * rank) : a.ints("pads")
    let dilations = global ? Array(repeating: 1, count: rank) : a.ints("dilations")
    let includePad = op.kind == .average_pool && a.bool("count_include_pad")
    let p = op.kind == .lp_pool || global ? Float(a.int("p")) : 0
    let input = Array(x[2...])
    let inStrides = Array(contiguousStrides(x)[2...])
    let kind = op.kind
    let work = ParallelCost.nanoseconds(fmas: y.reduce(1, *) * kernel.reduce(1, *) * 4)
    let f = defineKernel(parallelOver: x[0] * x[1], nanoseconds: work) { results, operands, _, begin, end in
      cg.forEachIndex([x[0] * x[1]] + Array(y[2...]), outermost: (begin, end)) { idx in
        let base = cg.mul(idx[0], input.reduce(1, *))
        let out = Array(idx[1...])
        let start = cg.float(kind == .max_pool ? -.infinity : 0)
        // Nested loops over the window carrying (accumulator, counted taps).
        func nest(_ d: Int, _ carried: [Value], _ valid: Value, _ counted: Value, _ offset: Value) -> [Value] {
          if d == rank {
            let v = cg.load(cg.at(operands[0], offset))
            let acc: Value
            switch kind {
            case .max_pool: acc = cg.select(valid, cg.fmax(carried[0], v), carried[0])
            case .average_pool: acc = cg.fadd(carried[0], cg.select(valid, v, cg.float(0)))
            default:
              let term = cg.call("llvm.pow", [cg.call("llvm.fabs", [v]), cg.float(p)])
              acc = cg.fadd(carried[0], cg.select(valid, term, cg.float(0)))
            }
            let one = cg.select(includePad ? counted : valid, cg.float(1), cg.float(0))
            return [acc, cg.fadd(carried[1], one)]
          }
          return cg.forLoop(cg.int(0), cg.int(kernel[d]), carrying: carried) { k, values in
            let i = cg.add(cg.sub(cg.mul(out[d], strides[d]), cg.int(pads[d])), cg.mul(k, dilations[d]))
            let inside = LLVMBuildAnd(cg.builder, valid, cg.inRange(i, input[d]), "")!
            let padded = LLVMBuildAnd(cg.builder, counted,
                                      cg.icmp(LLVMIntSLT, i, cg.int(input[d] + pads[rank + d])), "")!
            return nest(d + 1, values, inside, padded, cg.add(offset, cg.mul(cg.clamp(i, input[d]), inStrides[d])))
          }
        }
        let yes = LLVMConstInt(cg.i1, 1, 0)!
        let sums = nest(0, [start, cg.float(0)], yes, yes, base)
        var value = sums[0]
        switch kind {
        case .average_pool: value = cg.fdiv(value, sums[1])
        case .lp_pool, .global_lp_pool: value = cg.call("llvm.pow", [value, cg.float(1 / p)])
        default: break
        }
        cg.store(value, cg.at(results[0], cg.linearOffset(idx, contiguousStrides([x[0] * x[1]] + Array(y[2...])))))
      }
    }
    return OpKernel(function: f)
  }
}
