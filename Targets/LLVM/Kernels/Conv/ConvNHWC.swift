//===--- ConvNHWC.swift - channels-last 2-D convolution onto the weight-right GEMM ---===//
//
// A conv with `layout = "nhwc"` (chosen by choose-conv-layout): x [N, H, W, C],
// y [N, Ho, Wo, Co], the weight W [Co, C, kh, kw] constant:
//   algorithm gemm1x1:      Y[N*H*W, Co] = X[N*H*W, C] · W^T                (no data movement)
//   algorithm winograd2/4:  Winograd tiles (Winograd/WinogradConvNHWC.swift)
//   algorithm depthwise:    vectors along the channels (DepthwiseConvNHWC.swift)
//   algorithm im2col, per image: Y[Ho*Wo, Co] = cols[Ho*Wo, kh*kw*C] · W'^T
// with W' [Co, kh, kw, C] the weight reordered at compile time, so the GEMM's K runs
// channels innermost (the N:M convention), and
//   cols[oy*Wo + ox][(i*kw + j)*C + c] = x[oy*sy - pt + i*dy][ox*sx - pl + j*dx][c]   (0 outside)
// The input is first copied into a zero-bordered image when the conv pads; a row of
// `cols` is then kh runs of kw*C contiguous floats (dilation 1) or kh*kw runs of C.
// Bias is per column, residuals are [rows, Co] like the output: the GEMM's own epilogue.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerChannelsLastConv() throws -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let a = attributes
    guard x.count == 4 else { throw unsupported("an NHWC conv that is not 2-D") }
    guard let weights = constant(operand: 1) else { throw unsupported("a run-time conv weight") }
    let bias = op.operands.count >= 3 ? constant(operand: 2) : nil
    if op.operands.count >= 3 && bias == nil { throw unsupported("a run-time conv bias") }
    let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
    if let mask = ActivationMask(a, output: y) {
      return lowerChannelsLastMaskedConv(mask, weights: weights, bias: bias, steps: fused.steps,
                                         residual: fused.residual)  // MaskedConvNHWC.swift
    }
    let input = type(op.operands[0]).with(shape: ConvLayout.channelsFirst(x))
    let algorithm = a.resolvedConvAlgorithm(input: input, weight: type(op.operands[1]))
    switch algorithm {
    case .direct:
      throw unsupported("an NHWC conv with algorithm direct (the verifier admits none)")
    case .depthwise:
      return lowerChannelsLastDepthwise(weights: weights, bias: bias, steps: fused.steps,
                                        residual: fused.residual)  // DepthwiseConvNHWC.swift
    case .winograd2, .winograd4:
      return lowerChannelsLastWinogradConv(WinogradTile(algorithm)!, weights: weights, bias: bias, steps: fused.steps,
                                           residual: fused.residual)  // Winograd/WinogradConvNHWC.swift
    case .gemm1x1, .im2col:
      return lowerChannelsLastGemmConv(pointwise: algorithm == .gemm1x1, weights: weights, bias: bias, fused: fused)
    }
  }

  private func lowerChannelsLastGemmConv(pointwise: Bool, weights: [Float], bias: [Float]?,
                                         fused: (steps: [GemmEpilogueStep], residual: Int?)) -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let (strides, pads, dilations) = window()
    let (batch, height, width, channels) = (x[0], x[1], x[2], x[3])
    let (outChannels, kh, kw) = (w[0], w[2], w[3])
    let (oh, ow) = (y[1], y[2])
    let k = kh * kw * channels
    let b = channelsLastWeights(weights, outChannels: outChannels, channels: channels, kh: kh, kw: kw)
    let rows = pointwise ? batch * height * width : oh * ow
    let epilogue = GemmEpilogue(bias: bias.map { .perColumn($0) } ?? .none, steps: fused.steps)
    let emitter = GemmEmitter(cg, GemmDescriptor(m: rows, n: outChannels, k: k, a: .argument, b: .constant(b),
                                                 epilogue: epilogue), name: symbol + ".gemm")
    let gemm = emitter.emit()
    let im2col = pointwise ? nil : ChannelsLastIm2col(cg: cg, channels: channels, height: height, width: width,
                                                      kh: kh, kw: kw, oh: oh, ow: ow, strides: strides,
                                                      pads: pads, dilations: dilations)
    let columnsBytes = im2col?.scratchBytes ?? 0
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      guard let im2col else {
        let residual = fused.residual.map { operands[$0] } ?? cg.nullFloatPointer()
        cg.call(function: gemm, [results[0], operands[0], cg.nullFloatPointer(), residual, scratch, threads])
        return
      }
      cg.forLoop(0, batch) { n in
        im2col.emit(cg.at(operands[0], cg.mul(n, height * width * channels)), into: scratch, pool: threads, symbol: symbol)
        let outputOffset = cg.mul(n, oh * ow * outChannels)
        let residual = fused.residual.map { cg.at(operands[$0], outputOffset) } ?? cg.nullFloatPointer()
        cg.call(function: gemm, [cg.at(results[0], outputOffset), scratch, cg.nullFloatPointer(), residual,
                                 cg.at(scratch, columnsBytes / 4), threads])
      }
    })
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2],
                    scratchBytes: columnsBytes + emitter.scratchBytes)
  }
}

/// B = W'^T [kh*kw*C, Co] of a weight W [Co, C, kh, kw]: K ordered (i, j, c), the rows of
/// the channels-last column matrix.
func channelsLastWeights(_ weights: [Float], outChannels: Int, channels: Int, kh: Int, kw: Int) -> [Float] {
  var b = [Float](repeating: 0, count: kh * kw * channels * outChannels)
  for o in 0..<outChannels { for c in 0..<channels { for i in 0..<kh { for j in 0..<kw {
    b[((i * kw + j) * channels + c) * outChannels + o] = weights[((o * channels + c) * kh + i) * kw + j]
  } } } }
  return b
}

/// The channels-last column matrix of one image (see the header): a row per output
/// position, or with `rows` (a masked conv's kept positions, MaskedConvNHWC.swift) a row
/// per listed position only.
struct ChannelsLastIm2col {
  let cg: CodegenModule
  let channels: Int, height: Int, width: Int, kh: Int, kw: Int, oh: Int, ow: Int
  let strides: [Int], pads: [Int], dilations: [Int]
  /// The output positions (oy * ow + ox) whose rows are gathered, in order, and the i32
  /// table of their input offsets (in the padded image, in floats) when not all are.
  var rows: (positions: [Int], offsets: Value)? = nil

  private var padded: Bool { pads.contains { $0 != 0 } }
  private var paddedHeight: Int {
    padded ? max(pads[0] + height + pads[2], (oh - 1) * strides[0] + (kh - 1) * dilations[0] + 1) : height
  }
  private var paddedWidth: Int {
    padded ? max(pads[1] + width + pads[3], (ow - 1) * strides[1] + (kw - 1) * dilations[1] + 1) : width
  }
  private var rowCount: Int { rows?.positions.count ?? oh * ow }
  private var columnFloats: Int { (rowCount * kh * kw * channels + 15) / 16 * 16 }
  private var paddedFloats: Int { padded ? paddedHeight * paddedWidth * channels : 0 }

  /// Scratch bytes: the column matrix, then the zero-bordered image.
  var scratchBytes: Int { (columnFloats + paddedFloats + 15) / 16 * 64 }

  /// Writes the column matrix of `x` (one image) at the start of `columns` (only the
  /// `rows` positions when given): threads split the rows of the zero-bordered copy, then
  /// the output rows of the matrix.
  func emit(_ x: Value, into columns: Value, pool: Value, symbol: String) {
    let (pw, c) = (paddedWidth, channels)
    if padded {
      let parts = ParallelCost.parts(units: paddedHeight, nanoseconds: ParallelCost.nanoseconds(bytes: paddedFloats * 8),
                                     maximum: ParallelCost.maximumThreads)
      cg.emitParallel(pool: pool, maximum: parts, symbol: symbol + ".pad", captures: [x, columns]) { thread, count, p in
        let (first, end) = cg.share(paddedHeight, thread: thread, count: count)
        let source = cg.at(p[1], columnFloats)
        cg.forLoop(first, end) { r in
          let row = cg.at(source, cg.mul(r, pw * c))
          cg.zeroFloats(row, count: pw * c)
          let iy = cg.sub(r, cg.int(pads[0]))
          cg.ifThen(cg.icmp(LLVMIntULT, iy, cg.int(height))) {
            cg.copyFloats(from: cg.at(p[0], cg.mul(iy, width * c)), to: cg.at(row, pads[1] * c), count: width * c)
          }
        }
      }
    }
    let (sy, sx, dy, dx) = (strides[0], strides[1], dilations[0], dilations[1])
    let units = rows?.positions.count ?? oh
    let parts = ParallelCost.parts(units: units, nanoseconds: ParallelCost.nanoseconds(bytes: columnFloats * 8),
                                   maximum: ParallelCost.maximumThreads)
    cg.emitParallel(pool: pool, maximum: parts, symbol: symbol + ".columns", captures: [x, columns]) { thread, count, p in
      let columns = p[1]
      let source = padded ? cg.at(columns, columnFloats) : p[0]
      // Kernel row i of output row `row`, whose window starts `origin` floats into `source`.
      func gather(row: Value, origin: Value, i: Value) {
        let src = cg.at(source, cg.add(origin, cg.mul(i, dy * pw * c)))
        let dst = cg.at(columns, cg.mul(cg.add(cg.mul(row, kh), i), kw * c))
        if dx == 1 {
          cg.copyFloats(from: src, to: dst, count: kw * c)
        } else {
          for j in 0..<kw { cg.copyFloats(from: cg.at(src, j * dx * c), to: cg.at(dst, j * c), count: c) }
        }
      }
      if let rows {
        cg.forEachIndex([rows.positions.count, kh], outermost: cg.share(units, thread: thread, count: count)) { idx in
          let offset = LLVMBuildLoad2(cg.builder, cg.i32, cg.gep(cg.i32, rows.offsets, idx[0]), "")!
          gather(row: idx[0], origin: LLVMBuildSExt(cg.builder, offset, cg.i64, "")!, i: idx[1])
        }
      } else {
        cg.forEachIndex([oh, ow, kh], outermost: cg.share(oh, thread: thread, count: count)) { idx in
          let (oy, ox, i) = (idx[0], idx[1], idx[2])
          gather(row: cg.add(cg.mul(oy, ow), ox), origin: cg.mul(cg.add(cg.mul(cg.mul(oy, sy), pw), cg.mul(ox, sx)), c),
                 i: i)
        }
      }
    }
  }

  /// The input offset (floats, in the image `emit` reads: padded when the conv pads) of
  /// the window of each output position in `positions`.
  func windowOffsets(_ positions: [Int]) -> [Int32] {
    positions.map { Int32(($0 / ow * strides[0] * paddedWidth + $0 % ow * strides[1]) * channels) }
  }
}
