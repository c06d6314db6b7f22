//===--- SparsePacking.swift - the sparse GEMM's pack and transposed store ---===//
//
// The pack holds one K block of one column panel as rows of the panel's width (zero-padded):
//   weight left:   pack[kk][t] = X[k0 + kk][n0 + t]             (row copies; a conv's
//                  columns gathered from its padded planes: Gemm/ConvolutionColumns.swift)
//   transposed:    pack[kk][t] = X[n0 + t][k0 + kk]             (16 x 16 register transposes)
// and, when transposed, the partial tile [M][width] (= Y^T of the panel) goes back to
// Y[n0 + t][m] with the epilogue applied along Y's rows.

internal import CLLVM

extension SparseGemmEmitter {
  /// Fills the pack with K block `kb` of the panel at `n0` (`columns` wide).
  func pack(kb: Value, last: Value, n0: Value, columns: Int, _ buf: Buffers) {
    let w = d.weight
    let k0 = cg.mul(kb, w.kBlock)
    guard d.transposed else {
      let vectors = (columns + lanes - 1) / lanes
      let kLength = cg.smin(cg.int(w.kBlock), cg.sub(cg.int(w.k), k0))
      if let g = d.columns {
        g.pack(cg, planes: buf.x, into: buf.pack, first: n0, columns: columns, of: d.n, k0: k0, kc: kLength,
               vectors: vectors)
        return
      }
      cg.forLoop(cg.int(0), kLength) { kk in
        let source = cg.at(buf.x, cg.add(cg.mul(cg.add(k0, kk), d.n), n0))
        let destination = cg.at(buf.pack, cg.mul(kk, vectors * lanes))
        for v in 0..<vectors {
          let x = cg.load(vectorAt: cg.at(source, v * lanes), lanes: min(lanes, columns - v * lanes))
          cg.store(vector: x, at: cg.at(destination, v * lanes))
        }
      }
      return
    }
    let lastLength = w.k - (w.kBlocks - 1) * w.kBlock
    if w.kBlocks == 1 || lastLength == w.kBlock {
      packTransposed(k0: k0, length: min(w.kBlock, w.k), n0: n0, columns: columns, buf)
    } else {
      _ = cg.ifElse(last, {
        packTransposed(k0: k0, length: lastLength, n0: n0, columns: columns, buf)
        return []
      }, {
        packTransposed(k0: k0, length: w.kBlock, n0: n0, columns: columns, buf)
        return []
      })
    }
  }

  /// pack[kk][t] = X[n0 + t][k0 + kk] for kk < length, t < columns (zero for t ≥ columns).
  private func packTransposed(k0: Value, length: Int, n0: Value, columns: Int, _ buf: Buffers) {
    let groups = (columns + lanes - 1) / lanes
    let chunk = { (kc: Value, kValid: Int) in
      for g in 0..<groups {
        let tokens = min(lanes, columns - g * lanes)
        let rows = (0..<lanes).map { i -> Value in
          guard i < tokens else { return cg.splat(0) }
          let t = cg.add(n0, g * lanes + i)
          return cg.load(vectorAt: cg.at(buf.x, cg.add(cg.add(cg.mul(t, d.weight.k), k0), cg.mul(kc, lanes))),
                         lanes: kValid)
        }
        let columnsOfX = transposed(rows)
        for j in 0..<kValid {
          let kk = cg.add(cg.mul(kc, lanes), j)
          cg.store(vector: columnsOfX[j], at: cg.at(buf.pack, cg.add(cg.mul(kk, width), g * lanes)))
        }
      }
    }
    let chunks = length / lanes, remainder = length % lanes
    if chunks > 0 { cg.forLoop(0, chunks) { kc in chunk(kc, lanes) } }
    if remainder > 0 { chunk(cg.int(chunks), remainder) }
  }

  /// Y[n0 + t][m] = epilogue(partial[m][t]) for the panel's `columns` rows of Y.
  func storeTransposed(n0: Value, columns: Int, _ buf: Buffers, _ t: Tables) {
    let m = d.weight.rows
    let groups = (columns + lanes - 1) / lanes
    let chunk = { (mc: Value, mValid: Int) in
      let m0 = cg.mul(mc, lanes)
      let bias = t.bias.map { cg.load(vectorAt: cg.at($0, m0)) }
      for g in 0..<groups {
        let tokens = min(lanes, columns - g * lanes)
        let rows = (0..<lanes).map { i in cg.load(vectorAt: cg.at(buf.partial, cg.add(cg.mul(cg.add(m0, i), width), g * lanes))) }
        let ys = transposed(rows)
        for j in 0..<tokens {
          let offset = cg.add(cg.mul(cg.add(n0, g * lanes + j), m), m0)
          var value = ys[j]
          if let bias { value = cg.fadd(value, bias) }
          for step in d.epilogue.steps {
            switch step {
            case .addResidual: value = cg.fadd(value, cg.load(vectorAt: cg.at(buf.residual, offset), lanes: mValid))
            case let .activation(a): value = cg.apply(a, value)
            }
          }
          cg.store(vector: value, at: cg.at(buf.c, offset), lanes: mValid)
        }
      }
    }
    if m / lanes > 0 { cg.forLoop(0, m / lanes) { mc in chunk(mc, lanes) } }
    if m % lanes > 0 { chunk(cg.int(m / lanes), m % lanes) }
  }

  /// The transpose of a lanes x lanes matrix held as `lanes` row vectors: log2(lanes)
  /// rounds of two-source shuffles, round b swapping bit b of the row and lane indices.
  func transposed(_ rows: [Value]) -> [Value] {
    precondition(rows.count == lanes && lanes & (lanes - 1) == 0, "transpose of \(rows.count) rows, \(lanes) lanes")
    var m = rows
    var b = 1
    while b < lanes {
      let low = shuffleMask((0..<lanes).map { l in l & b == 0 ? l : lanes + l - b })
      let high = shuffleMask((0..<lanes).map { l in l & b == 0 ? l + b : lanes + l })
      for i in 0..<lanes where i & b == 0 {
        let (p, q) = (m[i], m[i + b])
        m[i] = LLVMBuildShuffleVector(cg.builder, p, q, low, "")!
        m[i + b] = LLVMBuildShuffleVector(cg.builder, p, q, high, "")!
      }
      b *= 2
    }
    return m
  }

  private func shuffleMask(_ indices: [Int]) -> Value {
    var items: [Value?] = indices.map { cg.int32($0) }
    return LLVMConstVector(&items, UInt32(items.count))
  }
}
