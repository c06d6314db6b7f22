//===--- WinogradConvNHWC.swift - channels-last 3x3 stride-1 conv by Winograd tiles ---===//
//
// x [N, H, W, C], y [N, OH, OW, Co]. Per image, with T output tiles (t = ty * tilesX + tx):
//
//   0. copy x into a zero-bordered image P [tilesY*m + 2][tilesX*m + 2][C], so every
//      tile reads inside it;
//   1. input transform, tile by tile, 16 channels per vector:
//        V[ξν][t][c] = (B^T d B)[ξ][ν]  with d[i][j] = P[ty*m + i][tx*m + j][c];
//   2. alpha² weight-right GEMMs M[ξν] [T x Co] = V[ξν] [T x C] · U[ξν] [C x Co]. U = G g G^T
//      is transformed and packed in the GEMM's panel layout at compile time, all positions
//      in one table, so one GEMM function (B `.packed`) serves every position;
//   3. output transform, tile by tile, 16 output channels per vector:
//        y[ty*m + a][tx*m + b][k] = act((A^T M A)[a][b] + bias[k] + residual)
//      with the fused epilogue on the vector before the store (edge tiles store only the
//      positions inside the output).
// Threads split step 0 by rows of P, step 1 and 3 by tile rows and step 2 by positions
// (one GEMM per position on one thread): four fork/joins per image.
//
// Against the NCHW form (WinogradConv.swift) the GEMMs keep their vectors along the
// channels, so few tiles (14x14 and 7x7 outputs: 16 tiles) no longer leave lanes empty.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// A channels-last group-1, 3x3, stride-1, dilation-1 conv by Winograd F(m x m, 3x3).
  func lowerChannelsLastWinogradConv(_ tile: WinogradTile, weights: [Float], bias: [Float]?,
                                     steps: [GemmEpilogueStep], residual: Int?) -> OpKernel {
    let batch = shape(operand: 0)[0]
    let g = winogradGeometry(tile, channelsLast: true)
    let (channels, outChannels, positions) = (g.channels, g.outChannels, g.alpha * g.alpha)
    let emitter = GemmEmitter(cg, GemmDescriptor(m: g.tiles, n: outChannels, k: channels, a: .argument, b: .packed),
                              name: symbol + ".gemm")
    // U[ξν] as [C x Co], packed for the GEMM's tiling, position after position.
    let u = tile.transformedWeights(weights, outChannels: outChannels, inChannels: channels)
    var packed: [Float] = []
    for p in 0..<positions {
      var up = [Float](repeating: 0, count: channels * outChannels)
      for o in 0..<outChannels {
        for c in 0..<channels { up[c * outChannels + o] = u[(p * outChannels + o) * channels + c] }
      }
      packed += packColumnPanels(up, k: channels, n: outChannels, width: emitter.t.vectors * cg.lanes,
                                 kBlock: emitter.t.kBlock)
    }
    let tableStride = packed.count / positions
    let table = cg.constantFloats(symbol + ".winograd_u", packed)
    let biasGlobal = bias.map { cg.constantFloats(symbol + ".bias", $0) }
    let gemm = emitter.emit()
    let inputTransform = emitChannelsLastInputTransform(g)
    let outputTransform = emitChannelsLastOutputTransform(g, bias: biasGlobal, steps: steps)
    cg.addEnumAttribute("noinline", to: outputTransform)

    let vFloats = g.align(positions * g.tiles * channels), mFloats = g.align(positions * g.tiles * outChannels)
    let paddedFloats = g.align(g.stagedRows * (g.tilesX * g.m + 2) * channels)
    let offsets = (v: 0, m: vFloats, padded: vFloats + mFloats, gemm: vFloats + mFloats + paddedFloats)
    let (inImage, outImage) = (g.height * g.width * channels, g.outHeight * g.outWidth * outChannels)
    // Threads split the positions' GEMMs (each GEMM on one thread: B is packed, so no
    // scratch) and the output transform's tile rows.
    let gemmParts = ParallelCost.parts(units: positions, nanoseconds: ParallelCost.nanoseconds(fmas: positions * g.tiles * channels * outChannels),
                                       maximum: ParallelCost.maximumThreads)
    let tileRows = (g.outHeight + g.m - 1) / g.m
    let outputParts = ParallelCost.parts(units: tileRows, nanoseconds: ParallelCost.nanoseconds(bytes: (positions + 2) * g.tiles * outChannels * 4),
                                         maximum: ParallelCost.maximumThreads)
    let padParts = ParallelCost.parts(units: g.stagedRows, nanoseconds: ParallelCost.nanoseconds(bytes: 2 * paddedFloats * 4),
                                      maximum: ParallelCost.maximumThreads)
    let inputParts = ParallelCost.parts(units: g.tilesY, nanoseconds: ParallelCost.nanoseconds(bytes: (positions + 2) * g.tiles * channels * 4),
                                        maximum: ParallelCost.maximumThreads)
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      let v = cg.at(scratch, offsets.v), products = cg.at(scratch, offsets.m)
      cg.forLoop(0, batch) { n in
        let image = cg.at(operands[0], cg.mul(n, inImage)), padded = cg.at(scratch, offsets.padded)
        cg.emitParallel(pool: threads, maximum: padParts, symbol: symbol + ".pad", captures: [image, padded]) { thread, count, c in
          let (first, end) = cg.share(g.stagedRows, thread: thread, count: count)
          cg.call(function: inputTransform.pad, c + [first, end])
        }
        cg.emitParallel(pool: threads, maximum: inputParts, symbol: symbol + ".input", captures: [padded, v]) { thread, count, c in
          let (first, end) = cg.share(g.tilesY, thread: thread, count: count)
          cg.call(function: inputTransform.transform, c + [first, end])
        }
        cg.emitParallel(pool: threads, maximum: gemmParts, symbol: symbol + ".positions", captures: [products, v, cg.at(scratch, offsets.gemm)]) {
          thread, count, c in
          let (first, end) = cg.share(positions, thread: thread, count: count)
          cg.forLoop(first, end) { p in
            cg.call(function: gemm, [cg.at(c[0], cg.mul(p, g.tiles * outChannels)), cg.at(c[1], cg.mul(p, g.tiles * channels)),
                                     cg.at(table, cg.mul(p, tableStride)), cg.nullFloatPointer(),
                                     c[2], LLVMConstNull(cg.i8Ptr)])
          }
        }
        let res = residual.map { cg.at(operands[$0], cg.mul(n, outImage)) } ?? cg.nullFloatPointer()
        cg.emitParallel(pool: threads, maximum: outputParts, symbol: symbol + ".output",
                        captures: [products, cg.at(results[0], cg.mul(n, outImage)), res]) { thread, count, c in
          let (first, end) = cg.share(tileRows, thread: thread, count: count)
          cg.call(function: outputTransform, c + [first, end])
        }
      }
    })
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2],
                    scratchBytes: offsets.gemm * 4 + emitter.scratchBytes)
  }

  /// A helper `name(float *..., i64 begin, i64 end)` over a range of units.
  private func rangeHelper(_ name: String, pointers: Int, _ body: (_ pointers: [Value], _ begin: Value, _ end: Value) -> Void) -> Value {
    let saved = LLVMGetInsertBlock(cg.builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(cg.builder, saved) } }
    let f = cg.addFunction(name, params: Array(repeating: cg.f32Ptr, count: pointers) + [cg.i64, cg.i64], local: true)
    cg.addEnumAttribute("nounwind", to: f)
    cg.addEnumAttribute("noinline", to: f)
    cg.startBlock("entry", in: f)
    body((0..<pointers).map { cg.param(f, $0) }, cg.param(f, pointers), cg.param(f, pointers + 1))
    cg.retVoid()
    return f
  }

  /// `pad(x, padded, rowBegin, rowEnd)`: rows [rowBegin, rowEnd) of one image's
  /// zero-bordered copy; `in(padded, v, tyBegin, tyEnd)`: tile rows [tyBegin, tyEnd) of
  /// V[ξν][t][c], from the copy.
  private func emitChannelsLastInputTransform(_ g: WinogradGeometry) -> (pad: Value, transform: Value) {
    let (m, alpha, c) = (g.m, g.alpha, g.channels)
    let paddedWidth = g.tilesX * m + 2
    let rowFloats = paddedWidth * c
    let transform = g.tile.inputTransposed
    let pad = rangeHelper(symbol + ".winograd_pad", pointers: 2) { p, begin, end in
      let (x, padded) = (p[0], p[1])
      // Rows of the image, with strips left and right of it; whole zero rows elsewhere.
      let imageRows = min(g.height, g.stagedRows - g.padTop)
      let right = min(g.width, paddedWidth - g.padLeft)
      cg.forLoop(begin, end) { r in
        let row = cg.at(padded, cg.mul(r, rowFloats))
        let iy = cg.sub(r, cg.int(g.padTop))
        let inside = cg.icmp(LLVMIntULT, iy, cg.int(imageRows))
        _ = cg.ifElse(inside, {
          if g.padLeft > 0 { cg.zeroFloats(row, count: g.padLeft * c) }
          cg.copyFloats(from: cg.at(x, cg.mul(iy, g.width * c)), to: cg.at(row, g.padLeft * c), count: right * c)
          let tail = paddedWidth - g.padLeft - right
          if tail > 0 { cg.zeroFloats(cg.at(row, (g.padLeft + right) * c), count: tail * c) }
          return []
        }, {
          cg.zeroFloats(row, count: rowFloats)
          return []
        })
      }
    }
    let tiles = rangeHelper(symbol + ".winograd_in", pointers: 2) { p, begin, end in
      let (padded, v) = (p[0], p[1])
      cg.forLoop(begin, end) { ty in
        cg.forLoop(0, g.tilesX) { tx in
          let corner = cg.at(padded, cg.add(cg.mul(cg.mul(ty, m), rowFloats), cg.mul(cg.mul(tx, m), c)))
          let tileIndex = cg.add(cg.mul(ty, g.tilesX), tx)
          forEachVectorChunk(c) { c0, lanes in
            var d: [Value] = []
            for i in 0..<alpha {
              for j in 0..<alpha { d.append(cg.load(vectorAt: cg.at(corner, cg.add(c0, i * rowFloats + j * c)), lanes: lanes)) }
            }
            for (position, value) in cg.sandwich(transform, d, side: alpha).enumerated() {
              let at = cg.at(v, cg.add(cg.mul(cg.add(tileIndex, position * g.tiles), c), c0))
              cg.store(vector: value, at: at, lanes: lanes)
            }
          }
        }
      }
    }
    return (pad, tiles)
  }

  /// `out(products, y, residual, tyBegin, tyEnd)`: tile rows [tyBegin, tyEnd) of one
  /// image's output from M[ξν][t][k].
  private func emitChannelsLastOutputTransform(_ g: WinogradGeometry, bias: Value?,
                                               steps: [GemmEpilogueStep]) -> Value {
    let (m, alpha, co) = (g.m, g.alpha, g.outChannels)
    let transform = g.tile.outputTransposed
    let saved = LLVMGetInsertBlock(cg.builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(cg.builder, saved) } }
    let f = cg.addFunction(symbol + ".winograd_out", params: [cg.f32Ptr, cg.f32Ptr, cg.f32Ptr, cg.i64, cg.i64], local: true)
    cg.addEnumAttribute("nounwind", to: f)
    cg.startBlock("entry", in: f)
    do {
      let (products, y, residual) = (cg.param(f, 0), cg.param(f, 1), cg.param(f, 2))
      let (tyBegin, tyEnd) = (cg.param(f, 3), cg.param(f, 4))
      // Tiles [0, full) along an axis lie inside the output; the last may stick out.
      func tiles(_ ty: (Value, Int), _ tx: (Value, Int)) {
        let tileIndex = cg.add(cg.mul(ty.0, g.tilesX), tx.0)
        forEachVectorChunk(co) { k0, lanes in
          let mv = (0..<alpha * alpha).map { position in
            cg.load(vectorAt: cg.at(products, cg.add(cg.mul(cg.add(tileIndex, position * g.tiles), co), k0)), lanes: lanes)
          }
          let b = bias.map { cg.load(vectorAt: cg.at($0, k0), lanes: lanes) }
          let out = cg.sandwich(transform, mv, side: alpha)
          for a in 0..<ty.1 {
            for bx in 0..<tx.1 {
              let offset = cg.add(cg.mul(cg.add(cg.mul(cg.add(cg.mul(ty.0, m), a), g.outWidth), cg.add(cg.mul(tx.0, m), bx)), co), k0)
              var value = b.map { cg.fadd(out[a * m + bx], $0) } ?? out[a * m + bx]
              for step in steps {
                switch step {
                case .addResidual: value = cg.fadd(value, cg.load(vectorAt: cg.at(residual, offset), lanes: lanes))
                case let .activation(activation): value = cg.apply(activation, value)
                }
              }
              cg.store(vector: value, at: cg.at(y, offset), lanes: lanes)
            }
          }
        }
      }
      let (fullY, fullX) = (g.outHeight / m, g.outWidth / m)
      let (edgeY, edgeX) = (g.outHeight % m, g.outWidth % m)
      func alongX(_ ty: Value, rows: Int) {
        if fullX > 0 { cg.forLoop(0, fullX) { tx in tiles((ty, rows), (tx, m)) } }
        if edgeX > 0 { tiles((ty, rows), (cg.int(fullX), edgeX)) }
      }
      if fullY > 0 { cg.forLoop(cg.smin(tyBegin, cg.int(fullY)), cg.smin(tyEnd, cg.int(fullY))) { ty in alongX(ty, rows: m) } }
      if edgeY > 0 {
        let holdsEdge = LLVMBuildAnd(cg.builder, cg.icmp(LLVMIntSLE, tyBegin, cg.int(fullY)),
                                     cg.icmp(LLVMIntSGT, tyEnd, cg.int(fullY)), "")!
        cg.ifThen(holdsEdge) { alongX(cg.int(fullY), rows: edgeY) }
      }
    }
    cg.retVoid()
    return f
  }
}
