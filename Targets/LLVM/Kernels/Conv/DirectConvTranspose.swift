//===--- DirectConvTranspose.swift - conv_transpose as gathering loops (grouped, N-D) ---===//
//
//   y[n][co][o...] = b[co] + Σ_{ci in co's group, k...} x[n][ci][i...] * w[ci][co % (Co/g)][k...]
//   where o = i * s - pad + k * d on every axis (i integral and inside the input)
//
// Conv.swift's conv_transpose (GEMM + col2im) takes 2-D, group 1, constant weights; this
// kernel takes the rest: groups, 1-D and 3-D, run-time weights or bias. One accumulator
// per output element; each tap checks that (o + pad - k * d) divides by the stride.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// The GEMM-based kernel when it fits, else the direct loops.
  func lowerConvTransposeAnyForm() throws -> OpKernel {
    let x = shape(operand: 0)
    let gemmFits = x.count == 4 && attributes.int("group") == 1 && constant(operand: 1) != nil
      && (op.operands.count < 3 || constant(operand: 2) != nil)
    return gemmFits ? try lowerConvTranspose() : try lowerDirectConvTranspose()
  }

  private func lowerDirectConvTranspose() throws -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let rank = x.count - 2
    let a = attributes
    let group = a.int("group")
    let strides = a.ints("strides"), dilations = a.ints("dilations"), pads = a.ints("pads")
    guard rank >= 1, strides.count == rank, dilations.count == rank, pads.count >= rank,
          group >= 1, x[1] % group == 0 else {
      throw unsupported("a conv_transpose with these attributes")
    }
    let (inPerGroup, outPerGroup) = (x[1] / group, w[1])
    let hasBias = op.operands.count >= 3
    let kernel = Array(w[2...]), input = Array(x[2...])
    let xStrides = contiguousStrides(x), wStrides = contiguousStrides(w), yStrides = contiguousStrides(y)
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([y[0], y[1]] + Array(y[2...])) { idx in
        let (n, co) = (idx[0], idx[1])
        let out = Array(idx[2...])
        let g = cg.udiv(co, outPerGroup), local = cg.urem(co, outPerGroup)
        let start = hasBias ? cg.load(cg.at(operands[2], co)) : cg.float(0)
        let sum = cg.forLoop(cg.int(0), cg.int(inPerGroup), carrying: [start]) { c, acc in
          let ci = cg.add(cg.mul(g, inPerGroup), c)
          let xBase = cg.add(cg.mul(n, xStrides[0]), cg.mul(ci, xStrides[1]))
          let wBase = cg.add(cg.mul(ci, wStrides[0]), cg.mul(local, wStrides[1]))
          func nest(_ d: Int, _ acc: Value, _ valid: Value, _ xOffset: Value, _ wOffset: Value) -> Value {
            if d == rank {
              let v = cg.fmul(cg.load(cg.at(operands[0], xOffset)), cg.load(cg.at(operands[1], wOffset)))
              return cg.select(valid, cg.fadd(acc, v), acc)
            }
            return cg.forLoop(cg.int(0), cg.int(kernel[d]), carrying: [acc]) { k, carried in
              let numerator = cg.sub(cg.add(out[d], cg.int(pads[d])), cg.mul(k, dilations[d]))
              let nonnegative = cg.icmp(LLVMIntSGE, numerator, cg.int(0))
              let safe = cg.select(nonnegative, numerator, cg.int(0))
              let i = cg.udiv(safe, strides[d])
              let divides = cg.icmp(LLVMIntEQ, cg.urem(safe, strides[d]), cg.int(0))
              var ok = LLVMBuildAnd(cg.builder, valid, nonnegative, "")!
              ok = LLVMBuildAnd(cg.builder, ok, LLVMBuildAnd(cg.builder, divides, cg.inRange(i, input[d]), "")!, "")!
              return [nest(d + 1, carried[0], ok, cg.add(xOffset, cg.mul(cg.clamp(i, input[d]), xStrides[d + 2])),
                           cg.add(wOffset, cg.mul(k, wStrides[d + 2])))]
            }[0]
          }
          return [nest(0, acc[0], LLVMConstInt(cg.i1, 1, 0), xBase, wBase)]
        }
        cg.store(sum[0], cg.at(results[0], cg.linearOffset(idx, yStrides)))
      }
    }
    return OpKernel(function: f)
  }
}
