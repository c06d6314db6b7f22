//===--- Conv.swift - 2-D convolution: 1x1 and im2col onto GEMM, depthwise direct ---===//
//
//   algorithm gemm1x1:                  Y[n] = W[Co, C] · X[n][C, H*W]     (+ bias per row)
//   algorithm im2col:                   Y[n] = W[Co, C*kh*kw] · im2col(X[n]); the dense and sparse
//                                       GEMMs gather the columns from padded planes while packing
//                                       (Gemm/ConvolutionColumns.swift) where Im2col vectorizes
//   few positions (7x7), dense:         Y[n]ᵀ = X[n]ᵀ · Wᵀ or im2col(X[n])ᵀ · Wᵀ, vectors along Co
//                                       (GemmDescriptor.transposedAC)
//   algorithm depthwise:                DepthwiseConv.swift
//   algorithm winograd2/winograd4:      Winograd tiles, 16/36 GEMMs (Conv/Winograd/)
//   algorithm direct:                   DirectConv.swift (plain loops)
//   layout = "nhwc":                    ConvNHWC.swift (weight-right GEMM, channels-last im2col)
//
// The packed kernels need a constant weight: it is packed into the GEMM's panels at
// compile time; a conv with a run-time weight runs as plain loops whatever its algorithm.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// Switches on the conv's algorithm (lower-conv's, or the structural choice when it has
  /// not run). The packed kernels need a 2-D conv with a constant weight (the GEMMs also a
  /// constant bias and group 1); a conv they cannot take runs as plain loops.
  func lowerConv() throws -> OpKernel {
    if attributes.convLayout == .nhwc { return try lowerChannelsLastConv() }  // ConvNHWC.swift
    if let mask = ActivationMask(attributes, output: shape()) { return try lowerMaskedConv(mask) }
    let x = shape(operand: 0), w = shape(operand: 1)
    let packable = x.count == 4 && constant(operand: 1) != nil
    let gemmFits = packable && attributes.int("group") == 1 && (op.operands.count < 3 || constant(operand: 2) != nil)
    let algorithm = attributes.resolvedConvAlgorithm(input: type(op.operands[0]), weight: type(op.operands[1]))
    switch algorithm {
    case .direct:
      return try lowerDirectConv()  // DirectConv.swift
    case .depthwise:
      guard packable, w[0] == x[1] else { return try lowerDirectConv() }  // a channel multiplier
      let (strides, pads, dilations) = window()
      let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
      return lowerDepthwise(x: x, kh: w[2], kw: w[3], oh: shape()[2], ow: shape()[3], strides: strides, pads: pads,
                            dilations: dilations, steps: fused.steps, residual: fused.residual)  // DepthwiseConv.swift
    case .winograd2, .winograd4:
      guard gemmFits else { return try lowerDirectConv() }
      guard shape()[2] > 0, shape()[3] > 0 else { return try lowerGemmConv(pointwise: false) }
      let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
      return lowerWinogradConv(WinogradTile(algorithm)!, weights: constant(operand: 1)!,
                               bias: op.operands.count >= 3 ? constant(operand: 2) : nil,
                               steps: fused.steps, residual: fused.residual)  // Winograd/WinogradConv.swift
    case .gemm1x1, .im2col:
      guard gemmFits else { return try lowerDirectConv() }
      return try lowerGemmConv(pointwise: algorithm == .gemm1x1)
    }
  }

  /// A 2-D conv's strides, pads and dilations (defaults where absent).
  func window() -> (strides: [Int], pads: [Int], dilations: [Int]) {
    (attributes.optionalInts("strides") ?? [1, 1], attributes.optionalInts("pads") ?? [0, 0, 0, 0],
     attributes.optionalInts("dilations") ?? [1, 1])
  }

  /// gemm1x1 (`pointwise`: the input is the GEMM's operand as stored) or im2col, with a
  /// dense or sparse constant weight.
  private func lowerGemmConv(pointwise direct: Bool) throws -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let (strides, pads, dilations) = window()
    let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
    let (outChannels, kh, kw) = (w[0], w[2], w[3])
    let (oh, ow) = (y[2], y[3])
    let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
    let bias = op.operands.count >= 3 ? constant(operand: 2) : nil
    let weights = constant(operand: 1)!
    let k = channels * kh * kw, positions = oh * ow
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
                                      b: .constant(transposedMatrix(weights, rows: outChannels, columns: k)),
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
