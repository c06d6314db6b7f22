//===--- MaskedConvNHWC.swift - channels-last convs over their kept positions only ---===//
//
// A conv with `kept_positions` and `layout = "nhwc"` (x [N, H, W, C], y [N, Ho, Wo, Co]),
// P = kept count; per image:
//   cols[P, kh*kw*C]   the channels-last column matrix of the kept positions only
//                      (ChannelsLastIm2col with a row table): each row is kh runs of kw*C
//                      contiguous floats, so the gather copies whole channel vectors
//   residual[P, Co]    the residual's kept rows (only with an "add" step)
//   y[0..<P, :]        = cols · W'^T, bias and epilogue fused (the weight-right GEMM of
//                      ConvNHWC.swift, written compactly at the start of the output)
//   y[kept[t], :]      = y[t, :], t from P-1 down to 0 (kept[t] >= t: no row is
//                      overwritten before it is moved)
//   y[masked[t], :]    = masked_fill, or the epilogue of the bias (+ the residual row)
// A kept position's output row is Co contiguous floats, so the scatter and the fill run
// a vector at a time, unlike the NCHW kernel (MaskedConv.swift), which gathers and
// scatters one float per channel plane.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerChannelsLastMaskedConv(_ mask: ActivationMask, weights: [Float], bias: [Float]?,
                                   steps: [GemmEpilogueStep], residual: Int?) -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let a = attributes
    let (batch, height, width, channels) = (x[0], x[1], x[2], x[3])
    let (outChannels, kh, kw) = (w[0], w[2], w[3])
    let (oh, ow) = (y[1], y[2])
    let kept = mask.kept, masked = mask.masked, p = kept.count
    let imageIn = height * width * channels, imageOut = oh * ow * outChannels
    var im2col = ChannelsLastIm2col(cg: cg, channels: channels, height: height, width: width, kh: kh, kw: kw,
                                    oh: oh, ow: ow, strides: a.ints("strides"), pads: a.ints("pads"),
                                    dilations: a.ints("dilations"))
    let i32Ptr = LLVMPointerType(cg.i32, 0)!
    func table(_ name: String, _ values: [Int32]) -> Value {
      cg.constantBytes(symbol + "." + name, (values.isEmpty ? [0] : values).withUnsafeBytes { Array($0) }, as: i32Ptr)
    }
    im2col.rows = (kept, table("windows", im2col.windowOffsets(kept)))
    let keptTable = table("kept", kept.map(Int32.init)), maskedTable = table("masked", masked.map(Int32.init))
    func position(_ table: Value, _ t: Value) -> Value {
      LLVMBuildSExt(cg.builder, LLVMBuildLoad2(cg.builder, cg.i32, cg.gep(cg.i32, table, t), ""), cg.i64, "")!
    }
    let b = channelsLastWeights(weights, outChannels: outChannels, channels: channels, kh: kh, kw: kw)
    let epilogue = GemmEpilogue(bias: bias.map { .perColumn($0) } ?? .none, steps: steps)
    let emitter = GemmEmitter(cg, GemmDescriptor(m: max(p, 1), n: outChannels, k: kh * kw * channels, a: .argument,
                                                 b: .constant(b), epilogue: epilogue), name: symbol + ".gemm")
    let gemm = emitter.emit()
    let biasPointer = bias.map { cg.constantFloats(symbol + ".bias", $0) }
    let columnsBytes = im2col.scratchBytes
    let residualBytes = residual == nil ? 0 : (p * outChannels + 15) / 16 * 64

    let f = defineKernel(threaded: { results, operands, scratch, threads in
      let residualKept = cg.at(scratch, columnsBytes / 4)
      let gemmScratch = cg.at(scratch, (columnsBytes + residualBytes) / 4)
      cg.forLoop(0, batch) { n in
        let output = cg.at(results[0], cg.mul(n, imageOut))
        let residualImage = residual.map { cg.at(operands[$0], cg.mul(n, imageOut)) }
        func row(_ base: Value, _ position: Value) -> Value { cg.at(base, cg.mul(position, outChannels)) }
        if p > 0 {
          im2col.emit(cg.at(operands[0], cg.mul(n, imageIn)), into: scratch, pool: threads, symbol: symbol)
          if let residualImage {
            cg.forLoop(0, p) { t in
              cg.copyFloats(from: row(residualImage, position(keptTable, t)), to: row(residualKept, t), count: outChannels)
            }
          }
          cg.call(function: gemm, [output, scratch, cg.nullFloatPointer(),
                                   residualImage == nil ? cg.nullFloatPointer() : residualKept, gemmScratch, threads])
          cg.forLoop(0, p) { r in  // t = P-1-r: last row first
            let t = cg.sub(cg.int(p - 1), r)
            let (from, to) = (row(output, t), row(output, position(keptTable, t)))
            cg.forEachVector(count: outChannels) { offset, valid in  // from == to at t == kept[t]: harmless
              cg.store(vector: cg.load(vectorAt: cg.at(from, offset), lanes: valid), at: cg.at(to, offset), lanes: valid)
            }
          }
        }
        guard !masked.isEmpty else { return }
        cg.forLoop(0, masked.count) { t in
          let at = position(maskedTable, t)
          cg.forEachVector(count: outChannels) { offset, valid in
            var v = biasPointer.map { cg.load(vectorAt: cg.at($0, offset), lanes: valid) } ?? cg.splat(0)
            if let fill = mask.fill {
              v = cg.splat(fill)
            } else {
              for step in steps {
                switch step {
                case .addResidual: v = cg.fadd(v, cg.load(vectorAt: cg.at(row(residualImage!, at), offset), lanes: valid))
                case let .activation(act): v = cg.apply(act, v)
                }
              }
            }
            cg.store(vector: v, at: cg.at(row(output, at), offset), lanes: valid)
          }
        }
      }
    })
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2],
                    scratchBytes: columnsBytes + residualBytes + emitter.scratchBytes)
  }
}
