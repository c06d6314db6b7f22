//===--- WinogradConv.swift - 3x3 stride-1 convolution by Winograd tiles ---===//
//
// Per image, with T = ceil(OH/m) * ceil(OW/m) output tiles (t = ty * tilesX + tx):
//
//   1. input transform, channel by channel:
//        stage   col[j][Y mod m][Y / m][tx] = x[c][Y - padTop][tx*m + j - padLeft] (0 outside)
//        V[ξν][c][t] = (B^T d B)[ξ][ν]  with d[i][j] = col[j][i mod m][ty + i / m][tx],
//        16 tiles per vector: staging by column and row residue makes every d[i][j]
//        a contiguous run over t.
//   2. alpha² GEMMs M[ξν] [Cout x T] = U[ξν] [Cout x Cin] · V[ξν] [Cin x T] by the
//      generated GEMM (U = G g G^T, transformed at compile time: WinogradTransform.swift).
//      One GEMM function serves every position: it reads U from one embedded table as a
//      row-major operand (alpha² packed-constant GEMMs would repeat the code 16-36 times).
//   3. output transform, channel by channel: O[a][b][t] = (A^T M A)[a][b] + bias (16
//      tiles per vector), then each output row is gathered from O and the fused epilogue
//      (residual add, activations) runs before the store.
//
// Scratch: V, M, the staged channel and the per-channel output tiles.

internal import CLLVM
import SparrowIR

/// The tiling of one Winograd conv (static shapes, NCHW).
struct WinogradGeometry {
  let tile: WinogradTile
  let channels: Int, outChannels: Int
  let height: Int, width: Int
  let outHeight: Int, outWidth: Int
  let padTop: Int, padLeft: Int

  var m: Int { tile.outputSide }
  var alpha: Int { tile.inputSide }
  var tilesY: Int { (outHeight + m - 1) / m }
  var tilesX: Int { (outWidth + m - 1) / m }
  /// Output tiles per image.
  var tiles: Int { tilesY * tilesX }
  /// Padded input rows the tiles read.
  var stagedRows: Int { tilesY * m + 2 }
  /// Floats of one staged input channel: [alpha][m][tilesY + 1][tilesX].
  var stagedFloats: Int { alpha * m * (tilesY + 1) * tilesX }

  /// Scratch floats, 16-float aligned: V, M, staged channel, output tiles.
  var transformedInputFloats: Int { align(alpha * alpha * channels * tiles) }
  var productFloats: Int { align(alpha * alpha * outChannels * tiles) }
  var stagingFloats: Int { align(stagedFloats) }
  var outputTileFloats: Int { align(m * m * tiles) }

  /// `n` floats rounded up to whole 64-byte lines.
  func align(_ n: Int) -> Int { (n + 15) / 16 * 16 }
}

extension OpContext {
  /// This conv's Winograd tiling, its activations NCHW or (`channelsLast`) NHWC.
  func winogradGeometry(_ tile: WinogradTile, channelsLast: Bool) -> WinogradGeometry {
    let (x, y) = (shape(operand: 0), shape())
    let (xs, ys) = channelsLast ? (ConvLayout.channelsFirst(x), ConvLayout.channelsFirst(y)) : (x, y)
    let pads = attributes.optionalInts("pads") ?? [0, 0, 0, 0]
    let g = WinogradGeometry(tile: tile, channels: xs[1], outChannels: ys[1], height: xs[2], width: xs[3],
                             outHeight: ys[2], outWidth: ys[3], padTop: pads[0], padLeft: pads[1])
    precondition(shape(operand: 1) == [g.outChannels, g.channels, 3, 3], "a 3x3 group-1 weight")
    return g
  }

  /// A group-1, 3x3, stride-1, dilation-1 conv by Winograd F(m x m, 3x3) (the conv's
  /// `algorithm` chose the tile). `steps` run after the bias; `residual` is the operand
  /// index of the residual added by `.addResidual`.
  func lowerWinogradConv(_ tile: WinogradTile, weights: [Float], bias: [Float]?,
                         steps: [GemmEpilogueStep], residual: Int?) -> OpKernel {
    let x = shape(operand: 0)
    let g = winogradGeometry(tile, channelsLast: false)
    let u = cg.constantFloats(symbol + ".winograd_u",
                              tile.transformedWeights(weights, outChannels: g.outChannels, inChannels: g.channels))
    let biasGlobal = bias.map { cg.constantFloats(symbol + ".bias", $0) }
    let gemmEmitter = GemmEmitter(cg, GemmDescriptor(m: g.outChannels, n: g.tiles, k: g.channels,
                                                     a: .argument, b: .argument),
                                  name: symbol + ".gemm")
    let gemm = gemmEmitter.emit()
    let inputTransform = emitWinogradInputTransform(g)
    let outputTransform = emitWinogradOutputTransform(g, bias: biasGlobal, steps: steps)
    for helper in [inputTransform, outputTransform] { cg.addEnumAttribute("noinline", to: helper) }

    let vFloats = g.transformedInputFloats, mFloats = g.productFloats
    let offsets = (v: 0, m: vFloats, staging: vFloats + mFloats,
                   tiles: vFloats + mFloats + g.stagingFloats,
                   gemm: vFloats + mFloats + g.stagingFloats + g.outputTileFloats)
    let (inPlane, outPlane) = (g.channels * g.height * g.width, g.outChannels * g.outHeight * g.outWidth)
    let alpha2 = g.alpha * g.alpha
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      let v = cg.at(scratch, offsets.v), products = cg.at(scratch, offsets.m)
      cg.forLoop(0, x[0]) { n in
        cg.call(function: inputTransform, [cg.at(operands[0], cg.mul(n, inPlane)), v,
                                           cg.at(scratch, offsets.staging)])
        cg.forLoop(0, alpha2) { p in
          cg.call(function: gemm, [cg.at(products, cg.mul(p, g.outChannels * g.tiles)),
                                   cg.at(u, cg.mul(p, g.outChannels * g.channels)),
                                   cg.at(v, cg.mul(p, g.channels * g.tiles)), cg.nullFloatPointer(),
                                   cg.at(scratch, offsets.gemm), threads])
        }
        let out = cg.at(results[0], cg.mul(n, outPlane))
        let res = residual.map { cg.at(operands[$0], cg.mul(n, outPlane)) } ?? cg.nullFloatPointer()
        cg.call(function: outputTransform, [products, out, res, cg.at(scratch, offsets.tiles)])
      }
    })
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2],
                    scratchBytes: offsets.gemm * 4 + gemmEmitter.scratchBytes)
  }

  /// `in(x, v, staging)`: one image's V[ξν][c][t].
  private func emitWinogradInputTransform(_ g: WinogradGeometry) -> Value {
    let (m, alpha, tilesX) = (g.m, g.alpha, g.tilesX)
    let residueStride = (g.tilesY + 1) * tilesX, columnStride = m * (g.tilesY + 1) * tilesX
    let transform = g.tile.inputTransposed
    return cg.defineHelper(symbol + ".winograd_in", pointers: 3) { p in
      let (x, v, col) = (p[0], p[1], p[2])
      cg.forLoop(0, g.channels) { c in
        let plane = cg.at(x, cg.mul(c, g.height * g.width))
        // Stage the channel: every (column j, row residue) run contiguous over tiles.
        // Tiles [first, end) read only columns inside the row: no bounds checks there, and
        // all alpha columns in one loop body (one interleaved load group for the vectorizer).
        let first = min(tilesX, (g.padLeft + m - 1) / m)
        let lastStart = g.width - alpha + g.padLeft  // of the last tile reading only inside
        let end = lastStart < 0 ? first : max(first, min(tilesX, lastStart / m + 1))
        cg.forLoop(0, g.stagedRows) { row in
          let yIn = cg.sub(row, cg.int(g.padTop))
          let rowValid = cg.inRange(yIn, g.height)
          let src = cg.at(plane, cg.mul(cg.clamp(yIn, g.height), g.width))
          let dst = cg.at(col, cg.add(cg.mul(cg.urem(row, m), residueStride), cg.mul(cg.udiv(row, m), tilesX)))
          func checked(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            cg.forLoop(range.lowerBound, range.upperBound) { q in
              for j in 0..<alpha {
                let xIn = cg.add(cg.mul(q, m), j - g.padLeft)
                let valid = LLVMBuildAnd(cg.builder, rowValid, cg.inRange(xIn, g.width), "")!
                let value = cg.load(cg.at(src, cg.clamp(xIn, g.width)))
                cg.store(cg.select(valid, value, cg.float(0)), cg.at(dst, cg.add(q, j * columnStride)))
              }
            }
          }
          checked(0..<first)
          if end > first {
            _ = cg.ifElse(rowValid, {
              cg.forLoop(first, end) { q in
                let base = cg.at(src, cg.sub(cg.mul(q, m), cg.int(g.padLeft)))
                for j in 0..<alpha { cg.store(cg.load(cg.at(base, j)), cg.at(dst, cg.add(q, j * columnStride))) }
              }
              return []
            }, {
              cg.forLoop(first, end) { q in
                for j in 0..<alpha { cg.store(cg.float(0), cg.at(dst, cg.add(q, j * columnStride))) }
              }
              return []
            })
          }
          checked(end..<tilesX)
        }
        // Transform 16 tiles at a time.
        forEachVectorChunk(g.tiles) { t0, lanes in
          var d: [Value] = []
          for i in 0..<alpha {
            for j in 0..<alpha {
              let offset = j * columnStride + (i % m) * residueStride + (i / m) * tilesX
              d.append(cg.load(vectorAt: cg.at(col, cg.add(t0, offset)), lanes: lanes))
            }
          }
          for (position, value) in cg.sandwich(transform, d, side: alpha).enumerated() {
            let at = cg.at(v, cg.add(cg.mul(cg.add(c, position * g.channels), g.tiles), t0))
            cg.store(vector: value, at: at, lanes: lanes)
          }
        }
      }
    }
  }

  /// `out(products, y, residual, tiles)`: one image's output from M[ξν][k][t].
  private func emitWinogradOutputTransform(_ g: WinogradGeometry, bias: Value?,
                                           steps: [GemmEpilogueStep]) -> Value {
    let (m, alpha, tilesX, tiles) = (g.m, g.alpha, g.tilesX, g.tiles)
    let transform = g.tile.outputTransposed
    return cg.defineHelper(symbol + ".winograd_out", pointers: 4) { p in
      let (products, y, residual, staging) = (p[0], p[1], p[2], p[3])
      cg.forLoop(0, g.outChannels) { k in
        let b = bias.map { cg.load(cg.at($0, k)) }
        forEachVectorChunk(tiles) { t0, lanes in
          let mv = (0..<alpha * alpha).map { position in
            cg.load(vectorAt: cg.at(products, cg.add(cg.mul(cg.add(k, position * g.outChannels), tiles), t0)),
                    lanes: lanes)
          }
          for (position, value) in cg.sandwich(transform, mv, side: alpha).enumerated() {
            let biased = b.map { cg.fadd(value, cg.broadcast($0)) } ?? value
            cg.store(vector: biased, at: cg.at(staging, cg.add(t0, position * tiles)), lanes: lanes)
          }
        }
        // Rows of the output from the tiles, with the epilogue.
        let plane = cg.mul(k, g.outHeight * g.outWidth)
        cg.forLoop(0, g.outHeight) { row in
          let a = cg.urem(row, m)
          let source = cg.at(staging, cg.add(cg.mul(a, m * tiles), cg.mul(cg.udiv(row, m), tilesX)))
          let rowOffset = cg.add(plane, cg.mul(row, g.outWidth))
          func emitColumns(_ tx: Value, columns: Int) {
            for column in 0..<columns {
              let xo = cg.add(cg.mul(tx, m), column)
              var value = cg.load(cg.at(source, cg.add(tx, column * tiles)))
              for step in steps {
                switch step {
                case .addResidual: value = cg.fadd(value, cg.load(cg.at(residual, cg.add(rowOffset, xo))))
                case let .activation(activation): value = cg.apply(activation, value)
                }
              }
              cg.store(value, cg.at(y, cg.add(rowOffset, xo)))
            }
          }
          let fullTiles = g.outWidth / m
          if fullTiles > 0 { cg.forLoop(0, fullTiles) { tx in emitColumns(tx, columns: m) } }
          if g.outWidth % m > 0 { emitColumns(cg.int(fullTiles), columns: g.outWidth % m) }
        }
      }
    }
  }

  /// `body(i0, lanes)` for i0 = 0, 16, ... over `count` floats (tiles, channels); the last
  /// chunk may be partial.
  func forEachVectorChunk(_ count: Int, _ body: (Value, Int) -> Void) {
    let lanes = cg.lanes
    let full = count / lanes
    if full > 0 { cg.forLoop(0, full * lanes, step: lanes) { i0 in body(i0, lanes) } }
    if count % lanes > 0 { body(cg.int(full * lanes), count % lanes) }
  }
}
