//===--- Conv.swift - 2-D convolution: 1x1 and im2col onto GEMM, depthwise direct ---===//
//
//   groups = 1, 1x1, stride 1, no pad:  Y[n] = W[Co, C] · X[n][C, H*W]     (+ bias per row)
//   groups = 1 otherwise:               Y[n] = W[Co, C*kh*kw] · im2col(X[n]); the dense and sparse
//                                       GEMMs gather the columns from padded planes while packing
//                                       (Gemm/ConvolutionColumns.swift) where Im2col vectorizes
//   few positions (7x7), dense:         Y[n]ᵀ = X[n]ᵀ · Wᵀ or im2col(X[n])ᵀ · Wᵀ, vectors along Co
//                                       (GemmDescriptor.transposedAC)
//   groups = C = Co (depthwise):        DepthwiseConv.swift
//   algorithm winograd2/winograd4:      Winograd tiles, 16/36 GEMMs (Kernels/Winograd/)
//   layout = "nhwc":                    ConvNHWC.swift (weight-right GEMM, channels-last im2col)
//
// The weight must be a constant: it is packed into the GEMM's panels at compile time.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerConv() throws -> OpKernel {
    if attributes.string("layout") == "nhwc" { return try lowerChannelsLastConv() }  // ConvNHWC.swift
    if let mask = ActivationMask(attributes, output: shape()) { return try lowerMaskedConv(mask) }
    if let direct = try lowerDirectConvIfNeeded() { return direct }  // DirectConv.swift
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    guard x.count == 4 else { throw unsupported("\(x.count - 2)-D convolution (2-D only)") }
    let a = attributes
    let group = a.int("group")
    let strides = a.optionalInts("strides") ?? [1, 1], dilations = a.optionalInts("dilations") ?? [1, 1]
    let pads = a.optionalInts("pads") ?? [0, 0, 0, 0]
    let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
    let (outChannels, kh, kw) = (w[0], w[2], w[3])
    let (oh, ow) = (y[2], y[3])
    let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
    let bias = op.operands.count >= 3 ? constant(operand: 2) : nil
    if op.operands.count >= 3 && bias == nil { throw unsupported("a run-time conv bias") }
    if group == channels && outChannels == channels && w[1] == 1 {
      return lowerDepthwise(x: x, kh: kh, kw: kw, oh: oh, ow: ow, strides: strides, pads: pads,
                            dilations: dilations, steps: fused.steps, residual: fused.residual)
    }
    guard group == 1 else { throw unsupported("grouped convolution (group = \(group))") }
    guard let weights = constant(operand: 1) else { throw unsupported("a run-time conv weight") }
    if let tile = WinogradTile(algorithm: a.string("algorithm")), type(op.operands[1]).layout == nil,
       kh == 3, kw == 3, strides == [1, 1], dilations == [1, 1], oh > 0, ow > 0 {
      return lowerWinogradConv(tile, weights: weights, bias: bias, steps: fused.steps, residual: fused.residual)
    }
    let k = channels * kh * kw, positions = oh * ow
    let direct = kh == 1 && kw == 1 && strides == [1, 1] && pads.allSatisfy { $0 == 0 }
    let epilogue = GemmEpilogue(bias: bias.map { .perRow($0) } ?? .none, steps: fused.steps)
    // A weight with a sparse layout (set by `sparsify`) gets the weight-specialized sparse
    // GEMM (Kernels/Sparse); dense weights the packed GEMM.
    let im2col = direct ? nil : Im2col(cg: cg, channels: channels, height: height, width: width, kh: kh, kw: kw,
                                       oh: oh, ow: ow, strides: strides, pads: pads, dilations: dilations)
    let gemm: Value, gemmScratchBytes: Int
    var transposedGemm = false
    // The GEMMs gather the columns while packing (ConvolutionColumns.swift) where they can.
    var implicit: ConvolutionColumns? = nil
    if let layout = type(op.operands[1]).layout {
      implicit = im2col?.implicitColumns
      let d = SparseGemmDescriptor(layout: layout, weight: weights, rows: outChannels, k: k, n: positions,
                                   epilogue: epilogue, taps: kh * kw, columns: implicit)
      gemm = SparseGemmEmitter(cg: cg, d: d, name: symbol + ".sparse_gemm").emit()
      gemmScratchBytes = d.scratchBytes(lanes: cg.lanes)
    } else if GemmTiling.prefersTransposed(m: outChannels, n: positions, lanes: cg.lanes) {
      // Few positions (7x7): Yᵀ[P, Co] = Xᵀ · Wᵀ (or im2col(X)ᵀ · Wᵀ, the column matrix
      // written out: it is A, read as stored) fills the vector lanes along Co instead.
      var descriptor = GemmDescriptor(m: positions, n: outChannels, k: k, a: .argument,
                                      b: .constant(transposed(weights, rows: outChannels, columns: k)),
                                      epilogue: GemmEpilogue(bias: bias.map { .perColumn($0) } ?? .none, steps: fused.steps))
      descriptor.transposedAC = true
      let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
      (gemm, gemmScratchBytes, transposedGemm) = (emitter.emit(), emitter.scratchBytes, true)
    } else {
      implicit = im2col?.implicitColumns
      let descriptor = GemmDescriptor(m: outChannels, n: positions, k: k, a: .constant(weights),
                                      b: implicit.map { .convolutionColumns($0) } ?? .argument, epilogue: epilogue)
      let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
      (gemm, gemmScratchBytes) = (emitter.emit(), emitter.scratchBytes)
    }
    let columnsBytes = implicit != nil ? im2col!.planesBytes : im2col?.scratchBytes ?? 0
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      cg.forLoop(0, batch) { n in
        let input = cg.at(operands[0], cg.mul(n, channels * height * width))
        var b = input
        if implicit != nil {
          im2col!.padPlanes(input, into: scratch, pool: threads, symbol: symbol)
          b = scratch
        } else if let im2col {
          b = scratch
          im2col.emit(input, into: scratch, pool: threads, symbol: symbol)
        }
        let gemmScratch = cg.at(scratch, columnsBytes / 4)
        let outputOffset = cg.mul(n, outChannels * positions)
        let residual = fused.residual.map { cg.at(operands[$0], outputOffset) } ?? cg.nullFloatPointer()
        let (aArgument, bArgument) = transposedGemm ? (b, cg.nullFloatPointer()) : (cg.nullFloatPointer(), b)
        cg.call(function: gemm, [cg.at(results[0], outputOffset), aArgument, bArgument, residual, gemmScratch, threads])
      }
    })
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2], scratchBytes: columnsBytes + gemmScratchBytes)
  }
}

extension CodegenModule {
  /// 0 <= i < n.
  func inRange(_ i: Value, _ n: Int) -> Value { icmp(LLVMIntULT, i, int(n)) }
  /// i clamped into [0, n).
  func clamp(_ i: Value, _ n: Int) -> Value {
    let low = select(icmp(LLVMIntSLT, i, int(0)), int(0), i)
    return select(icmp(LLVMIntSGE, low, int(n)), int(n - 1), low)
  }
}
