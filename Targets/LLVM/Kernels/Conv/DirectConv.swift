//===--- DirectConv.swift - convolution as plain loops (grouped, N-D, run-time weights) ---===//
//
//   y[n][co][o...] = b[co] + Σ_{ci < C/g, k...} x[n][g*C/g + ci][o*s - p + k*d ...] * w[co][ci][k...]
//   with g = co / (Co/groups); positions outside the input contribute 0.
//
// What the GEMM paths of Conv.swift do not take: groups other than 1 and depthwise,
// 1-D and 3-D convolutions, and weights or biases that are run-time values (the GEMM
// packs its weight at compile time). One accumulator per output element, loops over the
// group's channels and the kernel window; the fused epilogue runs before the store.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// Algorithm `direct`, and convs the packed kernels of Conv.swift cannot take.
  func lowerDirectConv() throws -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let rank = x.count - 2
    let a = attributes
    let group = a.int("group")
    let strides = a.optionalInts("strides") ?? Array(repeating: 1, count: rank)
    let dilations = a.optionalInts("dilations") ?? Array(repeating: 1, count: rank)
    let pads = a.optionalInts("pads") ?? Array(repeating: 0, count: 2 * rank)
    guard rank >= 1, strides.count == rank, dilations.count == rank, pads.count == 2 * rank,
          group >= 1, x[1] % group == 0, w[0] % group == 0 else {
      throw unsupported("a convolution with these attributes")
    }
    let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
    let hasBias = op.operands.count >= 3
    let (channelsPerGroup, outPerGroup) = (x[1] / group, w[0] / group)
    let kernel = Array(w[2...]), inSpatial = Array(x[2...]), outSpatial = Array(y[2...])
    let xStrides = contiguousStrides(x), wStrides = contiguousStrides(w), yStrides = contiguousStrides(y)
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([y[0], y[1]] + outSpatial) { idx in
        let (n, co) = (idx[0], idx[1])
        let out = Array(idx[2...])
        let firstChannel = cg.mul(cg.udiv(co, outPerGroup), channelsPerGroup)
        let start = hasBias ? cg.load(cg.at(operands[2], co)) : cg.float(0)
        let sum = cg.forLoop(cg.int(0), cg.int(channelsPerGroup), carrying: [start]) { ci, acc in
          let xBase = cg.add(cg.mul(n, xStrides[0]), cg.mul(cg.add(firstChannel, ci), xStrides[1]))
          let wBase = cg.add(cg.mul(co, wStrides[0]), cg.mul(ci, wStrides[1]))
          return [accumulateWindow(acc[0], out: out, xBase: xBase, wBase: wBase, x: operands[0],
                                   w: operands[1], kernel: kernel, input: inSpatial,
                                   strides: strides, dilations: dilations, pads: pads,
                                   xStrides: Array(xStrides[2...]), wStrides: Array(wStrides[2...]))]
        }
        var value = sum[0]
        let at = cg.linearOffset(idx, yStrides)
        for step in fused.steps {
          switch step {
          case .addResidual: value = cg.fadd(value, cg.load(cg.at(operands[fused.residual!], at)))
          case let .activation(act): value = cg.apply(act, value)
          }
        }
        cg.store(value, cg.at(results[0], at))
      }
    }
    return OpKernel(function: f)
  }

  /// acc + Σ over the kernel window of x * w (zero outside the input), one loop per axis.
  private func accumulateWindow(_ acc: Value, out: [Value], xBase: Value, wBase: Value, x: Value,
                                w: Value, kernel: [Int], input: [Int], strides: [Int],
                                dilations: [Int], pads: [Int], xStrides: [Int],
                                wStrides: [Int]) -> Value {
    func nest(_ d: Int, _ acc: Value, _ valid: Value, _ xOffset: Value, _ wOffset: Value) -> Value {
      if d == kernel.count {
        let v = cg.load(cg.at(x, xOffset)), wv = cg.load(cg.at(w, wOffset))
        return cg.select(valid, cg.fadd(acc, cg.fmul(v, wv)), acc)
      }
      return cg.forLoop(cg.int(0), cg.int(kernel[d]), carrying: [acc]) { k, carried in
        let i = cg.add(cg.sub(cg.mul(out[d], strides[d]), cg.int(pads[d])), cg.mul(k, dilations[d]))
        let inside = LLVMBuildAnd(cg.builder, valid, cg.inRange(i, input[d]), "")!
        return [nest(d + 1, carried[0], inside, cg.add(xOffset, cg.mul(cg.clamp(i, input[d]), xStrides[d])),
                     cg.add(wOffset, cg.mul(k, wStrides[d])))]
      }[0]
    }
    return nest(0, acc, LLVMConstInt(cg.i1, 1, 0), xBase, wBase)
  }
}
