//===--- IntegerGemmLowering.swift - qconv and qmatmul onto the int8 GEMM ---===//
//
//   qconv NCHW, group 1:  Y[n][Co, P] = W'[Co, C*kh*kw] · im2col(X[n])   weights = A
//   qconv NHWC, group 1:  Y[n][P, Co] = im2col(X[n]) · W'ᵀ (K in (i, j, c) order)
//   qmatmul:              Y[M, N]     = X[M, K] · W'[K, N]                weights = B
//   grouped / depthwise qconvs, sparse-typed weights: ScalarIntegerGemm.swift
//
// Per image: the zero-point bordered copy (if the conv pads), the packed activation
// (IntegerActivations.swift; split over the pool by K groups or rows), then the tile
// grid (IntegerGemmEmitter.swift) split over the pool. The dot product is VNNI's when
// the target has it and W' fits s8, else vpmaddwd on s16 pairs (AVX2 or AVX-512BW).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerIntegerOp() throws -> OpKernel {
    let input = type(op.operands[0]), weight = type(op.operands[1]), result = type(op.result)
    let isConv = op.kind == .qconv
    guard let xq = input.quantization, input.element == .u8 || input.element == .i8, weight.layout == nil,
          !isConv || attributes.int("group") == 1 else {
      return try lowerScalarIntegerOp()
    }
    let epilogue = try requantizingEpilogue()
    let zx = xq.zeroPoints[0]
    let geometry: IntegerConvGeometry, batch: Int
    if isConv {
      let channelsLast = attributes.convLayout == .nhwc
      let x = channelsLast ? ConvLayout.channelsFirst(input.shape) : input.shape
      let y = channelsLast ? ConvLayout.channelsFirst(result.shape) : result.shape
      geometry = IntegerConvGeometry(channels: x[1], height: x[2], width: x[3], kh: weight.shape[2], kw: weight.shape[3],
                                     oh: y[2], ow: y[3], strides: attributes.ints("strides"),
                                     dilations: attributes.ints("dilations"), pads: attributes.ints("pads"),
                                     channelsLast: channelsLast)
      batch = x[0]
    } else {
      let k = weight.shape[0]
      geometry = .matmul(rows: input.shape.reduce(1, *) / max(k, 1), k: k)
      batch = 1
    }
    // VNNI takes u8 x s8: i8 activations are flipped to u8 (zero point + 128).
    let plain = try integerOperands(inputZeroPoint: zx)
    let dot: IntegerDotProduct = cg.hasVNNI && cg.lanes == 16 && plain.centered.allSatisfy({ (-128...127).contains($0) })
      ? .quads : .pairs
    let operands = dot == .quads && input.element == .i8 ? try integerOperands(inputZeroPoint: zx + 128) : plain
    let packing = IntegerElementPacking(input: input.element, dot: dot, zeroPoint: zx)
    let weightsAreRows = isConv && !geometry.channelsLast
    let (cout, positions, k) = (operands.channels, geometry.positions, geometry.k)
    let gemm = IntegerGemm(m: weightsAreRows ? cout : positions, n: weightsAreRows ? positions : cout, k: k,
                           weights: weightsAreRows ? .rows : .columns, dot: dot, lanes: cg.lanes, epilogue: epilogue)
    let taps = geometry.kh * geometry.kw
    let packed = gemm.packWeights { c, kk in
      // NHWC im2col rows run (i, j, c); W' is stored OIHW.
      let index = geometry.channelsLast && isConv ? (kk % geometry.channels) * taps + kk / geometry.channels : kk
      return operands.centered[c * operands.taps + index]
    }
    let emitter = IntegerGemmEmitter(cg, gemm, symbol: symbol, packedWeights: packed, bias: operands.bias,
                                     multipliers: operands.multipliers)
    let paddedBytes = geometry.padded ? (geometry.paddedBytes + 63) / 64 * 64 : 0
    let activationBytes = weightsAreRows ? gemm.kq * gemm.paddedN * 4 : gemm.m * gemm.kq * 4
    let imageIn = input.shape.reduce(1, *) / batch, imageOut = result.shape.reduce(1, *) / batch
    let gemmParts = ParallelCost.parts(units: gemm.tiles, nanoseconds: ParallelCost.nanoseconds(fmas: gemm.m * gemm.n * k / 2),
                                       maximum: ParallelCost.maximumThreads)
    let packUnits = weightsAreRows ? gemm.kq : gemm.m
    let packParts = ParallelCost.parts(units: packUnits, nanoseconds: ParallelCost.nanoseconds(bytes: activationBytes * 2),
                                       maximum: ParallelCost.maximumThreads)

    let f = defineKernel(threaded: { results, operands, scratch, pool in
      cg.forLoop(0, batch) { image in
        var source = cg.element(input.element, operands[0], cg.mul(image, imageIn))
        if geometry.padded {
          cg.emitPaddedInput(geometry, source, into: scratch, zeroPoint: zx)
          source = scratch
        }
        let activation = cg.element(.u8, scratch, cg.int(paddedBytes))
        cg.emitParallel(pool: pool, maximum: packParts, symbol: "\(symbol).pack", captures: [source, activation]) {
          thread, count, captured in
          let range = cg.share(packUnits, thread: thread, count: count)
          if weightsAreRows {
            cg.emitPackColumns(geometry, packing, source: captured[0], into: captured[1], paddedN: gemm.paddedN, groups: range)
          } else {
            cg.emitPackRows(geometry, packing, source: captured[0], into: captured[1], rows: range)
          }
        }
        let out = cg.element(epilogue.storedElement, results[0], cg.mul(image, imageOut))
        let residuals = epilogue.residuals.indices.map {
          cg.element(epilogue.residuals[$0].element, operands[3 + $0], cg.mul(image, imageOut))
        }
        let bytes = ([activation, out] + residuals).map { LLVMBuildBitCast(cg.builder, $0, cg.i8Ptr, "")! }
        cg.emitParallel(pool: pool, maximum: gemmParts, symbol: "\(symbol).tiles", captures: bytes) {
          thread, count, captured in
          let (begin, end) = cg.share(gemm.tiles, thread: thread, count: count)
          emitter.emitTiles(begin: begin, end: end, activation: captured[0], c: captured[1],
                            residuals: Array(captured[2...]))
        }
      }
    })
    return OpKernel(function: f, embeddedOperands: [1, 2], scratchBytes: paddedBytes + activationBytes)
  }
}
