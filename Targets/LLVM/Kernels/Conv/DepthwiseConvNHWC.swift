//===--- DepthwiseConvNHWC.swift - channels-last depthwise conv, vectorized over channels ---===//
//
// x [N, H, W, C], y [N, OH, OW, C], weight [C, 1, kh, kw] repacked at compile time as
// [kh*kw][C]:
//
//   per output row (n, oy):  row i of the window = x[n][oy*sy + i*dy - pt], or a zero row
//                            (scratch) where that is outside the image
//     per 16 channels c0:    the kh*kw weight vectors and the bias stay in registers
//       per ox:              acc = bias + Σ_ij w[ij] * row_i[ox*sx + j*dx - pl][c0 ..]
//                            epilogue (residual, activation), store (masked last chunk)
//
// Columns outside the image are skipped at compile time: the few output columns whose
// window crosses the left or right edge are emitted one by one, the rest in one loop.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerChannelsLastDepthwise(weights: [Float], bias: [Float]?, steps: [GemmEpilogueStep],
                                  residual: Int?) -> OpKernel {
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    let (batch, height, width, channels) = (x[0], x[1], x[2], x[3])
    let (kh, kw, oh, ow) = (w[2], w[3], y[1], y[2])
    let strides = attributes.optionalInts("strides") ?? [1, 1], dilations = attributes.optionalInts("dilations") ?? [1, 1]
    let pads = attributes.optionalInts("pads") ?? [0, 0, 0, 0]
    var taps = [Float](repeating: 0, count: kh * kw * channels)
    for c in 0..<channels { for t in 0..<kh * kw { taps[t * channels + c] = weights[c * kh * kw + t] } }
    let table = cg.constantFloats(symbol + ".taps", taps)
    let biasGlobal = bias.map { cg.constantFloats(symbol + ".bias", $0) }
    // Output columns whose whole window lies inside the row: [first, end).
    func inside(_ ox: Int) -> Bool { ox * strides[1] - pads[1] >= 0 && ox * strides[1] + (kw - 1) * dilations[1] - pads[1] < width }
    let first = (0..<ow).first(where: inside) ?? ow
    let end = max(first, ((0..<ow).last(where: inside) ?? -1) + 1)
    let rowFloats = width * channels
    // Threads split the output rows; the zero row is written before the fork.
    let work = ParallelCost.nanoseconds(fmas: batch * oh * ow * channels * kh * kw * 2) + streamingNanoseconds
    let f = defineKernel(parallelOver: batch * oh, nanoseconds: work,
                         prologue: { _, _, scratch in cg.zeroFloats(scratch, count: rowFloats) }) {
      results, operands, scratch, rowBegin, rowEnd in
      cg.forLoop(rowBegin, rowEnd) { row in
        let (n, oy) = (cg.udiv(row, oh), cg.urem(row, oh))
        let rows = (0..<kh).map { i -> Value in
          let iy = cg.add(cg.mul(oy, strides[0]), i * dilations[0] - pads[0])
          let inImage = cg.at(operands[0], cg.mul(cg.add(cg.mul(n, height), cg.clamp(iy, height)), rowFloats))
          return cg.select(cg.inRange(iy, height), inImage, scratch)
        }
        let outRow = cg.at(results[0], cg.mul(cg.add(cg.mul(n, oh), oy), ow * channels))
        let residualRow = residual.map { cg.at(operands[$0], cg.mul(cg.add(cg.mul(n, oh), oy), ow * channels)) }
        forEachVectorChunk(channels) { c0, lanes in
          let wv = (0..<kh * kw).map { cg.load(vectorAt: cg.at(table, cg.add(c0, $0 * channels)), lanes: lanes) }
          let start = biasGlobal.map { cg.load(vectorAt: cg.at($0, c0), lanes: lanes) } ?? cg.splat(0)
          // One output pixel; `column` is static on the edges (its window is clipped there).
          func pixel(_ ox: Value, column: Int?) {
            var acc = start
            for i in 0..<kh {
              for j in 0..<kw {
                if let column {
                  let ix = column * strides[1] + j * dilations[1] - pads[1]
                  guard ix >= 0 && ix < width else { continue }
                }
                let ix = cg.add(cg.mul(ox, strides[1]), j * dilations[1] - pads[1])
                let v = cg.load(vectorAt: cg.at(rows[i], cg.add(cg.mul(ix, channels), c0)), lanes: lanes)
                acc = cg.fma(v, wv[i * kw + j], acc)
              }
            }
            let at = cg.add(cg.mul(ox, channels), c0)
            for step in steps {
              switch step {
              case .addResidual: acc = cg.fadd(acc, cg.load(vectorAt: cg.at(residualRow!, at), lanes: lanes))
              case let .activation(a): acc = cg.apply(a, acc)
              }
            }
            cg.store(vector: acc, at: cg.at(outRow, at), lanes: lanes)
          }
          for ox in 0..<first { pixel(cg.int(ox), column: ox) }
          if end > first { cg.forLoop(first, end) { ox in pixel(ox, column: nil) } }
          for ox in end..<ow { pixel(cg.int(ox), column: ox) }
        }
      }
    }
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2], scratchBytes: rowFloats * 4)
  }
}
