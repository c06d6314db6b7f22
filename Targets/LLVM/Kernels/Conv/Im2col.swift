//===--- Im2col.swift - the column matrix of a convolution, vectorized ---===//
//
//   columns[(c*kh + i)*kw + j][oy*ow + ox] = x[c][oy*sy - py + i*dy][ox*sx - px + j*dx]   (0 outside)
//
// The input is first copied into zero-bordered planes at the end of the scratch, so each
// row of `ow` columns is a run of unconditional vector copies: stride 1 one unaligned
// load per vector, stride 2 two loads keeping the even lanes; the last vector of a row
// is a masked store. Strides above 2 use a scalar loop with bounds selects. Threads
// split the channels.

internal import CLLVM

struct Im2col {
  let cg: CodegenModule
  let channels: Int, height: Int, width: Int, kh: Int, kw: Int, oh: Int, ow: Int
  let strides: [Int], pads: [Int], dilations: [Int]

  private var vectorized: Bool { strides[1] <= 2 }
  private var roundedWidth: Int { (ow + cg.lanes - 1) / cg.lanes * cg.lanes }
  /// The zero-bordered plane: wide and tall enough for every vector read.
  private var paddedWidth: Int { max(pads[1] + width + pads[3], roundedWidth * strides[1] + (kw - 1) * dilations[1]) }
  private var paddedHeight: Int { max(pads[0] + height + pads[2], (oh - 1) * strides[0] + (kh - 1) * dilations[0] + 1) }
  private var columnFloats: Int { (channels * kh * kw * oh * ow + 15) / 16 * 16 }
  private var paddedFloats: Int { vectorized ? channels * paddedWidth * paddedHeight : 0 }

  /// Scratch bytes: the column matrix, then the padded planes.
  var scratchBytes: Int { (columnFloats + paddedFloats + 15) / 16 * 64 }
  /// Scratch bytes of the padded planes alone (the implicit GEMM reads those).
  var planesBytes: Int { (paddedFloats + 15) / 16 * 64 }

  /// The column matrix as the GEMM packer gathers it from the padded planes.
  var implicitColumns: ConvolutionColumns? {
    guard vectorized else { return nil }
    return ConvolutionColumns(channels: channels, kh: kh, kw: kw, oh: oh, ow: ow, strides: strides,
                              dilations: dilations, planeHeight: paddedHeight, planeWidth: paddedWidth)
  }

  /// Threads worth splitting the channels of one image for.
  private var parts: Int {
    ParallelCost.parts(units: channels, nanoseconds: ParallelCost.nanoseconds(bytes: (columnFloats + 2 * paddedFloats) * 4),
                       maximum: ParallelCost.maximumThreads)
  }

  /// Copies `x` (one image) into zero-bordered planes at `padded`; threads split the channels.
  func padPlanes(_ x: Value, into padded: Value, pool: Value, symbol: String) {
    cg.emitParallel(pool: pool, maximum: parts, symbol: symbol + ".planes", captures: [x, padded]) { thread, count, p in
      let (first, end) = cg.share(channels, thread: thread, count: count)
      padPlanes(p[0], into: p[1], channels: (first, end))
    }
  }

  /// Planes of channels [first, end).
  private func padPlanes(_ x: Value, into padded: Value, channels range: (Value, Value)) {
    let pw = paddedWidth, ph = paddedHeight
    cg.forLoop(range.0, range.1) { c in
      cg.zeroFloats(cg.at(padded, cg.mul(c, ph * pw)), count: ph * pw)
      cg.forLoop(0, height) { iy in
        let src = cg.at(x, cg.add(cg.mul(c, height * width), cg.mul(iy, width)))
        let dst = cg.at(padded, cg.add(cg.add(cg.mul(c, ph * pw), cg.mul(iy, pw)), pads[0] * pw + pads[1]))
        cg.copyFloats(from: src, to: dst, count: width)
      }
    }
  }

  /// Writes the column matrix of `x` (one image) at the start of `columns`; threads split
  /// the channels (a channel's rows read only its own plane).
  func emit(_ x: Value, into columns: Value, pool: Value, symbol: String) {
    cg.emitParallel(pool: pool, maximum: parts, symbol: symbol + ".im2col", captures: [x, columns]) { thread, count, p in
      let range = cg.share(channels, thread: thread, count: count)
      if vectorized {
        emitVectorized(p[0], into: p[1], channels: range)
      } else {
        emitScalar(p[0], into: p[1], channels: range)
      }
    }
  }

  private func emitVectorized(_ x: Value, into columns: Value, channels range: (Value, Value)) {
    let lanes = cg.lanes
    let (pw, ph) = (paddedWidth, paddedHeight)
    let padded = cg.at(columns, columnFloats)
    padPlanes(x, into: padded, channels: range)
    let (sy, sx, dy, dx) = (strides[0], strides[1], dilations[0], dilations[1])
    cg.forEachIndex([channels, kh, kw, oh], outermost: range) { idx in
      let (c, i, j, oy) = (idx[0], idx[1], idx[2], idx[3])
      let row = cg.add(cg.mul(cg.add(cg.mul(c, kh), i), kw), j)
      let dst = cg.at(columns, cg.add(cg.mul(row, oh * ow), cg.mul(oy, ow)))
      let iy = cg.add(cg.mul(oy, sy), cg.mul(i, dy))
      let src = cg.at(padded, cg.add(cg.add(cg.mul(c, ph * pw), cg.mul(iy, pw)), cg.mul(j, dx)))
      func copyVector(_ ox0: Value, valid: Int) {
        let p = cg.at(src, cg.mul(ox0, sx))
        let v = sx == 1 ? cg.load(vectorAt: p) : cg.evenLanes(cg.load(vectorAt: p), cg.load(vectorAt: cg.at(p, lanes)))
        cg.store(vector: v, at: cg.at(dst, ox0), lanes: valid)
      }
      let full = ow / lanes
      if full > 0 { cg.forLoop(0, full * lanes, step: lanes) { copyVector($0, valid: lanes) } }
      if ow % lanes > 0 { copyVector(cg.int(full * lanes), valid: ow % lanes) }
    }
  }

  /// The scalar form, for strides above 2.
  private func emitScalar(_ x: Value, into columns: Value, channels range: (Value, Value)) {
    cg.forEachIndex([channels, kh, kw, oh], outermost: range) { idx in
      let (c, i, j, oy) = (idx[0], idx[1], idx[2], idx[3])
      let row = cg.add(cg.mul(cg.add(cg.mul(c, kh), i), kw), j)
      let iy = cg.add(cg.sub(cg.mul(oy, strides[0]), cg.int(pads[0])), cg.mul(i, dilations[0]))
      let rowValid = cg.inRange(iy, height)
      let dst = cg.at(columns, cg.add(cg.mul(row, oh * ow), cg.mul(oy, ow)))
      let src = cg.at(x, cg.add(cg.mul(c, height * width), cg.mul(cg.clamp(iy, height), width)))
      cg.forLoop(0, ow) { ox in
        let ix = cg.add(cg.sub(cg.mul(ox, strides[1]), cg.int(pads[1])), cg.mul(j, dilations[1]))
        let valid = LLVMBuildAnd(cg.builder, rowValid, cg.inRange(ix, width), "")!
        let v = cg.load(cg.at(src, cg.clamp(ix, width)))
        cg.store(cg.select(valid, v, cg.float(0)), cg.at(dst, ox))
      }
    }
  }
}
