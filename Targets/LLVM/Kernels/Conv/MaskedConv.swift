//===--- MaskedConv.swift - convs that compute only their kept output positions ---===//
//
// A conv with `kept_positions` (IR/Ops/ActivationMask.swift; 2-D, group 1), per image,
// P = kept count, tables of kept and masked positions embedded as i32 constants:
//   columns[C*kh*kw, P]  gather: columns[(c*kh + i)*kw + j][t] = x[c][tap(i, j, t)] (0 in
//                        padding; one offset table per tap, so 1x1 convs gather rows)
//   residual[Co, P]      gather of the residual at kept positions (only with an "add" step)
//   sums[Co, P]          = W · columns, with the bias and epilogue fused into the GEMM
//   y[c][kept[t]]        = sums[c][t]                                 (scatter)
//   y[c][masked[t]]      = masked_fill, or the epilogue of bias[c] (+ residual there)
// The weights are packed at compile time as for a dense conv (a sparse weight layout is
// read as its dense values: correct, not yet faster).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerMaskedConv(_ mask: ActivationMask) throws -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let a = attributes
    guard x.count == 4, a.int("group") == 1 else { throw unsupported("a masked conv that is not 2-D with group 1") }
    let strides = a.ints("strides"), dilations = a.ints("dilations"), pads = a.ints("pads")
    let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
    let (outChannels, kh, kw) = (w[0], w[2], w[3])
    let (oh, ow) = (y[2], y[3])
    let plane = oh * ow, kept = mask.kept, masked = mask.masked, p = kept.count
    let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
    guard let weights = constant(operand: 1) else { throw unsupported("a run-time conv weight") }
    let bias = op.operands.count >= 3 ? constant(operand: 2) : nil
    if op.operands.count >= 3 && bias == nil { throw unsupported("a run-time conv bias") }
    let depth = channels * kh * kw

    // Input offset within one channel plane per (tap, kept position); -1 in the padding.
    var taps = [Int32](repeating: -1, count: kh * kw * max(p, 1))
    for i in 0..<kh {
      for j in 0..<kw {
        for (t, position) in kept.enumerated() {
          let iy = position / ow * strides[0] - pads[0] + i * dilations[0]
          let ix = position % ow * strides[1] - pads[1] + j * dilations[1]
          if iy >= 0 && iy < height && ix >= 0 && ix < width { taps[(i * kw + j) * p + t] = Int32(iy * width + ix) }
        }
      }
    }
    let i32Ptr = LLVMPointerType(cg.i32, 0)!
    func table(_ name: String, _ values: [Int32]) -> Value {
      cg.constantBytes(symbol + "." + name, (values.isEmpty ? [0] : values).withUnsafeBytes { Array($0) }, as: i32Ptr)
    }
    let tapTable = table("taps", taps)
    let keptTable = table("kept", kept.map(Int32.init))
    let maskedTable = table("masked", masked.map(Int32.init))
    func index(_ table: Value, _ i: Value) -> Value {
      LLVMBuildSExt(cg.builder, LLVMBuildLoad2(cg.builder, cg.i32, cg.gep(cg.i32, table, i), ""), cg.i64, "")!
    }

    let epilogue = GemmEpilogue(bias: bias.map { .perRow($0) } ?? .none, steps: fused.steps)
    let descriptor = GemmDescriptor(m: outChannels, n: max(p, 1), k: depth, a: .constant(weights),
                                    b: .argument, epilogue: epilogue)
    let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
    let gemm = emitter.emit()
    let align = { (floats: Int) in (floats * 4 + 63) / 64 * 64 }
    let columnsBytes = align(depth * max(p, 1)), sumsBytes = align(outChannels * max(p, 1))
    let residualBytes = fused.residual == nil ? 0 : sumsBytes

    let f = defineKernel(threaded: { results, operands, scratch, threads in
      let columns = scratch, sums = cg.at(scratch, columnsBytes / 4)
      let residualKept = cg.at(scratch, (columnsBytes + sumsBytes) / 4)
      let gemmScratch = cg.at(scratch, (columnsBytes + sumsBytes + residualBytes) / 4)
      cg.forLoop(0, batch) { n in
        let input = cg.at(operands[0], cg.mul(n, channels * height * width))
        let output = cg.at(results[0], cg.mul(n, outChannels * plane))
        let residual = fused.residual.map { cg.at(operands[$0], cg.mul(n, outChannels * plane)) }
        if p > 0 {
          cg.forEachIndex([channels, kh * kw]) { idx in
            let (c, tap) = (idx[0], idx[1])
            let src = cg.at(input, cg.mul(c, height * width))
            let dst = cg.at(columns, cg.mul(cg.add(cg.mul(c, kh * kw), tap), p))
            let offsets = cg.gep(cg.i32, tapTable, cg.mul(tap, p))
            cg.forLoop(0, p) { t in
              let offset = index(offsets, t)
              let inside = cg.icmp(LLVMIntSGE, offset, cg.int(0))
              let v = cg.load(cg.at(src, cg.select(inside, offset, cg.int(0))))
              cg.store(cg.select(inside, v, cg.float(0)), cg.at(dst, t))
            }
          }
          if let residual {
            cg.forEachIndex([outChannels, p]) { idx in
              let at = cg.add(cg.mul(idx[0], plane), index(keptTable, idx[1]))
              cg.store(cg.load(cg.at(residual, at)), cg.at(residualKept, cg.add(cg.mul(idx[0], p), idx[1])))
            }
          }
          cg.call(function: gemm, [sums, cg.nullFloatPointer(), columns,
                                   residual == nil ? cg.nullFloatPointer() : residualKept, gemmScratch, threads])
          cg.forEachIndex([outChannels, p]) { idx in
            let v = cg.load(cg.at(sums, cg.add(cg.mul(idx[0], p), idx[1])))
            cg.store(v, cg.at(output, cg.add(cg.mul(idx[0], plane), index(keptTable, idx[1]))))
          }
        }
        guard !masked.isEmpty else { return }
        let biasPointer = bias.map { cg.constantFloats(symbol + ".bias", $0) }
        cg.forLoop(0, outChannels) { c in
          var start = biasPointer.map { cg.load(cg.at($0, c)) } ?? cg.float(0)
          if fused.residual == nil, mask.fill == nil {  // one value per channel
            for case let .activation(act) in fused.steps { start = cg.apply(act, start) }
          }
          cg.forLoop(0, masked.count) { t in
            let at = cg.add(cg.mul(c, plane), index(maskedTable, t))
            var v = start
            if let fill = mask.fill {
              v = cg.float(fill)
            } else if let residual {
              for step in fused.steps {
                switch step {
                case .addResidual: v = cg.fadd(v, cg.load(cg.at(residual, at)))
                case let .activation(act): v = cg.apply(act, v)
                }
              }
            }
            cg.store(v, cg.at(output, at))
          }
        }
      }
    })
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2],
                    scratchBytes: columnsBytes + sumsBytes + residualBytes + emitter.scratchBytes)
  }
}
