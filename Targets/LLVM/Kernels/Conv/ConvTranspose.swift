//===--- Cast.swift - conv_transpose through the GEMM and col2im ---===//
//
// (Casts between element types are Elementwise/TypedElementwise.swift.)

internal import CLLVM
import SparrowIR

extension OpContext {
  /// conv_transpose (group 1, 2-D): columns = Wᵀ[Co*kh*kw, C] · X[n][C, H*W] by the
  /// generated GEMM, then col2im scatter-adds the columns into Y[n] (initialized to bias).
  func lowerConvTranspose() throws -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let a = attributes
    guard x.count == 4 else { throw unsupported("\(x.count - 2)-D conv_transpose (2-D only)") }
    guard a.int("group") == 1 else { throw unsupported("grouped conv_transpose") }
    guard let weights = constant(operand: 1) else { throw unsupported("a run-time conv_transpose weight") }
    let bias = op.operands.count == 3 ? constant(operand: 2) : nil
    if op.operands.count == 3 && bias == nil { throw unsupported("a run-time conv_transpose bias") }
    let s = a.ints("strides"), d = a.ints("dilations"), p = a.ints("pads")
    let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
    let (outChannels, kh, kw, oh, ow) = (w[1], w[2], w[3], y[2], y[3])
    let rows = outChannels * kh * kw, positions = height * width
    // W[C, Co*kh*kw] transposed: A[Co*kh*kw, C].
    let descriptor = GemmDescriptor(m: rows, n: positions, k: channels,
                                    a: .constant(transposedMatrix(weights, rows: channels, columns: rows)),
                                    b: .argument)
    let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
    let gemm = emitter.emit()
    let columnsBytes = (rows * positions * 4 + 63) / 64 * 64
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      cg.forLoop(0, batch) { n in
        let out = cg.at(results[0], cg.mul(n, outChannels * oh * ow))
        cg.call(function: gemm, [scratch, cg.nullFloatPointer(), cg.at(operands[0], cg.mul(n, channels * positions)),
                                 cg.nullFloatPointer(), cg.at(scratch, columnsBytes / 4), threads])
        cg.forEachIndex([outChannels, oh * ow]) { idx in
          let b = bias.map { cg.load(cg.at(cg.constantFloats("\(symbol).bias", $0), idx[0])) } ?? cg.float(0)
          cg.store(b, cg.at(out, cg.add(cg.mul(idx[0], oh * ow), idx[1])))
        }
        cg.forEachIndex([outChannels, kh, kw, height]) { idx in
          let (co, i, j, iy) = (idx[0], idx[1], idx[2], idx[3])
          let row = cg.add(cg.mul(cg.add(cg.mul(co, kh), i), kw), j)
          let oy = cg.add(cg.mul(iy, s[0]), cg.sub(cg.mul(i, d[0]), cg.int(p[0])))
          cg.ifThen(cg.inRange(oy, oh)) {
            cg.forLoop(0, width) { ix in
              let ox = cg.add(cg.mul(ix, s[1]), cg.sub(cg.mul(j, d[1]), cg.int(p[1])))
              cg.ifThen(cg.inRange(ox, ow)) {
                let target = cg.at(out, cg.add(cg.mul(co, oh * ow), cg.add(cg.mul(oy, ow), ox)))
                let v = cg.load(cg.at(scratch, cg.add(cg.mul(row, positions), cg.add(cg.mul(iy, width), ix))))
                cg.store(cg.fadd(cg.load(target), v), target)
              }
            }
          }
        }
      }
    })
    return OpKernel(function: f, embeddedOperands: [1, 2], scratchBytes: columnsBytes + emitter.scratchBytes)
  }
}
