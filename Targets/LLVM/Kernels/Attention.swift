//===--- Attention.swift - the fused attention op on the LLVM target -------===//
//
// One pass over the keys per block of query rows; the [Sq, Skv] score matrix never
// exists, only one row tile of it:
//
//   units = B x Hq x ceil(Sq / queryBlock), split over the pool's threads
//   per unit (b, h, query block), thread-private scratch:
//     Kᵀ   [D][Skv'] the kv head's keys transposed (packed once per (b, head) a thread
//          meets; Skv' = Skv rounded up to the key tile, zero columns after Skv)
//     S    [R][Skv'] one tile of R query rows' scores
//     for each tile of R rows (the last tile repeats the block's last row; the repeated
//     row computes and stores the same values, so no tail code):
//       S[r, j..j+2L] = Σ_d q[r, d] · Kᵀ[d, j..j+2L]   (R x 2 vector accumulators,
//                       broadcast q, keys along the lanes: no horizontal sums)
//       per row: scale, softcap, bias (vector or broadcast along keys), causal -> -inf;
//                peak; e = exp(s - peak) (0 where s = -inf); 1 / Σ e (0 for a fully
//                masked row, so it yields zeros)
//       Y[r, c..c+2L] = (Σ_j e[r, j] · V[j, c..c+2L]) / Σ e   (R x 2 accumulators, one V
//                       load shared by the R rows)
// With `causal`, keys past the tile's last visible key are neither scored nor summed.
// Semantics: IR/Ops/ShapeRules+Attention.swift; the interpreter's loops are the oracle.

internal import CLLVM
import SparrowIR

/// The static plan of one attention kernel.
private struct AttentionPlan {
  let batch: Int, qHeads: Int, kvHeads: Int, qLength: Int, kvLength: Int, depth: Int, valueDepth: Int
  let lanes: Int
  /// Query rows per register tile, key vectors per score tile, value vectors per output tile.
  let rows = 4, keyVectors = 2, valueVectors = 2
  var keyTile: Int { keyVectors * lanes }
  var paddedKeys: Int { (kvLength + keyTile - 1) / keyTile * keyTile }
  /// Query rows per parallel unit: Kᵀ packing (D x Skv moves) amortized over them.
  var queryBlock: Int { min(qLength, 64) }
  var queryBlocks: Int { (qLength + queryBlock - 1) / queryBlock }
  var units: Int { batch * qHeads * queryBlocks }
  /// Floats of one thread's scratch (Kᵀ then S), rounded to 64 bytes.
  var scratchFloats: Int { ((depth + rows) * paddedKeys + 15) / 16 * 16 }
  var fmas: Int { batch * qHeads * qLength * kvLength * (depth + valueDepth) }
}

extension OpContext {
  func lowerAttention() throws -> OpKernel {
    let (q, k, v) = (shape(operand: 0), shape(operand: 1), shape(operand: 2))
    let plan = AttentionPlan(batch: q[0], qHeads: q[1], kvHeads: k[1], qLength: q[2], kvLength: k[2],
                             depth: q[3], valueDepth: v[3], lanes: cg.lanes)
    let scores = [plan.batch, plan.qHeads, plan.qLength, plan.kvLength]
    let biasStrides = op.operands.count == 4 ? broadcastStrides(shape(operand: 3), to: scores) : nil
    let scratchPerThread = plan.scratchFloats * 4
    guard plan.units > 0, plan.depth > 0, plan.valueDepth > 0 else {
      return OpKernel(function: defineKernel { results, _, _ in zeroFill(results[0], count: shape().reduce(1, *)) })
    }
    let f = defineKernel(parallelOver: plan.units, nanoseconds: ParallelCost.nanoseconds(fmas: plan.fmas),
                             scratchPerThread: scratchPerThread) { results, operands, scratch, begin, end in
      cg.forLoop(begin, end) { unit in
        emitUnit(plan, unit: unit, first: begin, y: results[0], operands: operands,
                 biasStrides: biasStrides, scratch: scratch)
      }
    }
    return OpKernel(function: f, scratchBytes: scratchPerThread * ParallelCost.maximumThreads)
  }

  private func zeroFill(_ p: Value, count: Int) {
    cg.forLoop(0, count) { i in cg.store(cg.float(0), cg.at(p, i)) }
  }

  /// Strides (floats) reading `shape` broadcast to `target` (rank <= target's; 0 on broadcast axes).
  private func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let padded = Array(repeating: 1, count: target.count - shape.count) + shape
    var strides = [Int](repeating: 0, count: target.count), running = 1
    for d in padded.indices.reversed() {
      strides[d] = padded[d] == 1 ? 0 : running
      running *= padded[d]
    }
    return strides
  }

  private func emitUnit(_ p: AttentionPlan, unit: Value, first: Value, y: Value, operands: [Value],
                        biasStrides: [Int]?, scratch: Value) {
    let group = p.qHeads / p.kvHeads
    let head = cg.udiv(unit, p.queryBlocks), block = cg.urem(unit, p.queryBlocks)
    let (b, h) = (cg.udiv(head, p.qHeads), cg.urem(head, p.qHeads))
    let kvHead = cg.add(cg.mul(b, p.kvHeads), cg.udiv(h, group))
    let keys = cg.at(operands[1], cg.mul(kvHead, p.kvLength * p.depth))
    let values = cg.at(operands[2], cg.mul(kvHead, p.kvLength * p.valueDepth))
    let packed = scratch, tile = cg.at(scratch, p.depth * p.paddedKeys)
    // Pack Kᵀ when this thread starts a new (b, head): its first unit or a block 0.
    let fresh = LLVMBuildOr(cg.builder, cg.icmp(LLVMIntEQ, unit, first), cg.icmp(LLVMIntEQ, block, cg.int(0)), "")!
    cg.ifThen(fresh) {
      cg.forLoop(0, p.kvLength) { j in
        cg.forLoop(0, p.depth) { d in
          cg.store(cg.load(cg.at(keys, cg.add(cg.mul(j, p.depth), d))), cg.at(packed, cg.add(cg.mul(d, p.paddedKeys), j)))
        }
      }
      if p.paddedKeys > p.kvLength {
        cg.forLoop(0, p.depth) { d in
          cg.forLoop(p.kvLength, p.paddedKeys) { j in cg.store(cg.float(0), cg.at(packed, cg.add(cg.mul(d, p.paddedKeys), j))) }
        }
      }
    }
    let blockStart = cg.mul(block, p.queryBlock)
    let blockEnd = cg.smin(cg.add(blockStart, p.queryBlock), cg.int(p.qLength))
    let lastRow = cg.sub(blockEnd, cg.int(1))
    cg.forLoop(blockStart, blockEnd, step: p.rows) { r0 in
      // Query indices of the tile's rows (past the block's end: its last row again).
      let rowIndex = (0..<p.rows).map { cg.smin(cg.add(r0, $0), lastRow) }
      let rowOffset = rowIndex.map { cg.add(cg.mul(head, p.qLength), $0) }  // in [B*Hq*Sq]
      let visible = visibleKeys(after: rowIndex.last!)
      emitScores(p, q: operands[0], rowOffset: rowOffset, packed: packed, tile: tile, visible: visible)
      let inverses = (0..<p.rows).map { r in
        normalizeRow(p, cg.at(tile, r * p.paddedKeys), i: rowIndex[r], b: b, h: h,
                     bias: biasStrides.map { (operands[3], $0) })
      }
      emitValues(p, values: values, tile: tile, visible: visible, inverses: inverses,
                 outputs: rowOffset.map { cg.at(y, cg.mul($0, p.valueDepth)) })
    }
  }

  /// Keys 0 ..< visible can carry weight for query row `i` (all of them without `causal`).
  private func visibleKeys(after i: Value) -> Value {
    let kvLength = shape(operand: 1)[2]
    guard attributes.bool("causal") else { return cg.int(kvLength) }
    let limit = cg.add(i, attributes.int("causal_offset") + 1)
    return cg.smin(cg.select(cg.icmp(LLVMIntSLT, limit, cg.int(0)), cg.int(0), limit), cg.int(kvLength))
  }

  /// tile[r, j] = Σ_d q[r, d] Kᵀ[d, j] for the key tiles covering 0 ..< visible.
  private func emitScores(_ p: AttentionPlan, q: Value, rowOffset: [Value], packed: Value, tile: Value,
                          visible: Value) {
    let tiles = cg.udiv(cg.add(visible, p.keyTile - 1), p.keyTile)
    let queries = rowOffset.map { cg.at(q, cg.mul($0, p.depth)) }
    cg.forLoop(cg.int(0), cg.mul(tiles, p.keyTile), step: p.keyTile) { j in
      let zero = cg.splat(0)
      let initial = [Value](repeating: zero, count: p.rows * p.keyVectors)
      let sums = cg.forLoop(cg.int(0), cg.int(p.depth), carrying: initial) { d, acc in
        let row = cg.at(packed, cg.add(cg.mul(d, p.paddedKeys), j))
        let kv = (0..<p.keyVectors).map { cg.load(vectorAt: cg.at(row, $0 * p.lanes)) }
        var next = acc
        for r in 0..<p.rows {
          let qd = cg.broadcast(cg.load(cg.at(queries[r], d)))
          for c in 0..<p.keyVectors { next[r * p.keyVectors + c] = cg.fma(qd, kv[c], acc[r * p.keyVectors + c]) }
        }
        return next
      }
      for r in 0..<p.rows {
        for c in 0..<p.keyVectors {
          cg.store(vector: sums[r * p.keyVectors + c], at: cg.at(tile, cg.add(j, r * p.paddedKeys + c * p.lanes)))
        }
      }
    }
  }

  /// Turns one row of scores into exp(s - peak) in place; returns 1 / Σ (0 when fully masked).
  private func normalizeRow(_ p: AttentionPlan, _ row: Value, i: Value, b: Value, h: Value,
                            bias: (Value, [Int])?) -> Value {
    let scale = cg.splat(attributes.float("scale")), softcap = attributes.float("softcap")
    let causal = attributes.bool("causal")
    let minusInfinity = cg.splat(-.infinity)
    let biasRow = bias.map { pointer, s in
      cg.at(pointer, cg.add(cg.add(cg.mul(b, s[0]), cg.mul(h, s[1])), cg.mul(i, s[2])))
    }
    let limit = cg.splat(i64: cg.add(i, attributes.int("causal_offset")))
    let laneIndex = cg.intVector(Array(0..<p.lanes))
    cg.forEachVector(count: p.kvLength) { j, valid in
      var s = cg.fmul(cg.load(vectorAt: cg.at(row, j), lanes: valid), scale)
      if softcap > 0 { s = cg.fmul(cg.tanh(cg.fmul(s, cg.splat(1 / softcap))), cg.splat(softcap)) }
      if let biasRow, let strides = bias?.1 {
        s = cg.fadd(s, strides[3] == 0 ? cg.broadcast(cg.load(biasRow))
                      : cg.load(vectorAt: cg.at(biasRow, j), lanes: valid))
      }
      if causal {
        let keys = cg.add(cg.splat(i64: j), laneIndex)
        s = cg.select(cg.icmp(LLVMIntSGT, keys, limit), minusInfinity, s)
      }
      cg.store(vector: s, at: cg.at(row, j), lanes: valid)
    }
    var peak = cg.reduceRow(row, count: p.kvLength, neutral: -.infinity, combine: cg.fmax, horizontal: cg.reduceMax)
    peak = cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOEQ, peak, cg.float(-.infinity), "")!, cg.float(0), peak)
    let peakVector = cg.broadcast(peak)
    cg.forEachVector(count: p.kvLength) { j, valid in
      let s = cg.load(vectorAt: cg.at(row, j), lanes: valid)
      let e = cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOEQ, s, minusInfinity, "")!, cg.splat(0),
                        cg.exp(cg.fsub(s, peakVector)))
      cg.store(vector: e, at: cg.at(row, j), lanes: valid)
    }
    let sum = cg.sumRow(row, count: p.kvLength)
    let positive = LLVMBuildFCmp(cg.builder, LLVMRealOGT, sum, cg.float(0), "")!
    return cg.select(positive, cg.fdiv(cg.float(1), sum), cg.float(0))
  }

  /// outputs[r][c] = inverses[r] · Σ_{j < visible} tile[r, j] V[j, c].
  private func emitValues(_ p: AttentionPlan, values: Value, tile: Value, visible: Value, inverses: [Value],
                          outputs: [Value]) {
    let width = p.valueVectors * p.lanes
    for c0 in stride(from: 0, to: p.valueDepth, by: width) {
      let valid = (0..<p.valueVectors).map { min(p.lanes, max(0, p.valueDepth - c0 - $0 * p.lanes)) }
      let vectors = valid.filter { $0 > 0 }.count
      let initial = [Value](repeating: cg.splat(0), count: p.rows * vectors)
      let sums = cg.forLoop(cg.int(0), visible, carrying: initial) { j, acc in
        let row = cg.at(values, cg.add(cg.mul(j, p.valueDepth), c0))
        let vs = (0..<vectors).map { c in
          valid[c] == p.lanes ? cg.load(vectorAt: cg.at(row, c * p.lanes))
            : cg.load(vectorAt: cg.at(row, c * p.lanes), lanes: valid[c])
        }
        var next = acc
        for r in 0..<p.rows {
          let e = cg.broadcast(cg.load(cg.at(tile, cg.add(j, r * p.paddedKeys))))
          for c in 0..<vectors { next[r * vectors + c] = cg.fma(e, vs[c], acc[r * vectors + c]) }
        }
        return next
      }
      for r in 0..<p.rows {
        let inverse = cg.broadcast(inverses[r])
        for c in 0..<vectors {
          let out = cg.at(outputs[r], c0 + c * p.lanes)
          let value = cg.fmul(sums[r * vectors + c], inverse)
          if valid[c] == p.lanes { cg.store(vector: value, at: out) } else { cg.store(vector: value, at: out, lanes: valid[c]) }
        }
      }
    }
  }
}
