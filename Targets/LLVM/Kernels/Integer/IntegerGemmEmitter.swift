//===--- IntegerGemmEmitter.swift - register-tiled u8/i8 GEMM, i32 accumulators ---===//
//
//   C[m][n] = epilogue(bias'[c] + sum_k A[m][k] * B[k][n])     c = m (weights are A)
//                                                               or n (weights are B)
//
// One operand is the constant weight W' = w - zw, the other the activation (raw x; its
// zero point is folded into bias', IntegerOperands). qconv NCHW: A = W' [Co, C*kh*kw],
// B = im2col(x) [K, P]; qmatmul and qconv NHWC: A = x or im2col(x) [P, K], B = W'ᵀ.
//
// Operands are i32 *words*, each holding a K group of `depth` values:
//
//   .pairs (AVX2, and AVX-512 without VNNI): two s16 per word; the dot product is
//       `vpmaddwd` (llvm.x86.avx2.pmadd.wd / avx512.pmaddw.d.512) then `vpaddd`.
//       x widened to s16 (u8 zero-, i8 sign-extended), W' in [-255, 255] as s16: a pair
//       sums to at most 2 * 255 * 255, so vpmaddwd (whose only overflow is two
//       -32768 * -32768 products) is exact and the sums wrap in i32 as the interpreter's
//       do. Chosen over vpmaddubsw + vpmaddwd: vpmaddubsw saturates its s16 pair sums
//       (255 * 127 * 2 > 32767), which would need 7-bit weights or a split of W' to stay
//       bit-exact; widening costs one extra pass over the activation (the packing below
//       writes it anyway) and runs 16 multiply-adds per instruction, 2x the f32 FMA.
//   .quads (AVX-512 VNNI): four bytes per word, u8 activation x s8 weight; `vpdpbusd`
//       (llvm.x86.avx512.vpdpbusd.512) adds the four products into the accumulator
//       (wrapping, not the saturating vpdpbusds). Needs W' in [-128, 127] (symmetric i8
//       weights, zero point 0: what quantize_static writes) and u8 x: i8 x is flipped to
//       u8 (x ^ 0x80, zero point + 128) while packing.
//
// Packed layouts (words; K padded with zeros to whole groups, kq = ceil(K / depth)):
//   weights as A:   [M / rows][kq][rows]       (compile time; broadcast one word per row)
//   weights as B:   [N / width][kq][width]     (compile time; width = vectors * lanes)
//   activation A:   [M][kq]                    (run time, IntegerActivations.swift)
//   activation B:   [kq][paddedN]              (run time, IntegerActivations.swift)
//
// The microkernel keeps rows x vectors i32 accumulators (AVX2 4 x 3 ymm, AVX-512 8 x 3
// zmm), per K group loads `vectors` B words, broadcasts one A word per row and runs one
// dot product per accumulator; then the epilogue (RequantizingEpilogue) runs on whole
// vectors, and u8/i8 (or f32) results are stored with masked tails. Tiles are split over
// the thread pool in contiguous runs of the tile grid (N panel major, so a B panel stays
// in cache while the A panels stream past); every tile is computed the same way whatever
// the split, so results do not depend on the thread count.

internal import CLLVM
import SparrowIR

/// How the products of a K group are summed into an i32 lane.
enum IntegerDotProduct: Equatable {
  case pairs, quads
  /// K values per word.
  var depth: Int { self == .pairs ? 2 : 4 }
}

/// Which GEMM operand is the constant weight.
enum IntegerWeightSide: Equatable {
  /// A: rows are output channels (qconv NCHW).
  case rows
  /// B: columns are output channels (qmatmul, qconv NHWC).
  case columns
}

/// One int8 GEMM: shapes, operand roles, the register tile and the packed constants.
struct IntegerGemm {
  let m: Int, n: Int, k: Int
  let weights: IntegerWeightSide
  let dot: IntegerDotProduct
  let rows: Int, vectors: Int, lanes: Int
  let epilogue: RequantizingEpilogue

  init(m: Int, n: Int, k: Int, weights: IntegerWeightSide, dot: IntegerDotProduct, lanes: Int,
       epilogue: RequantizingEpilogue) {
    (self.m, self.n, self.k, self.weights, self.dot, self.lanes, self.epilogue) = (m, n, k, weights, dot, lanes, epilogue)
    rows = lanes == 16 ? 8 : 4
    vectors = 3
  }

  var kq: Int { (k + dot.depth - 1) / dot.depth }
  var width: Int { vectors * lanes }
  var rowPanels: Int { (m + rows - 1) / rows }
  var columnPanels: Int { (n + width - 1) / width }
  /// Columns of a run-time B (whole panels, so full vector loads stay inside).
  var paddedN: Int { columnPanels * width }
  var tiles: Int { rowPanels * columnPanels }

  /// The weight words, W'[c][k] (c < channels, k < K in the GEMM's K order) packed as
  /// the kernel reads them.
  func packWeights(_ value: (_ channel: Int, _ k: Int) -> Int32) -> [UInt32] {
    let (panel, channels) = weights == .rows ? (rows, m) : (width, n)
    let panels = (channels + panel - 1) / panel
    var words = [UInt32](repeating: 0, count: panels * kq * panel)
    let bits = 32 / dot.depth
    for p in 0..<panels {
      for q in 0..<kq {
        for j in 0..<panel where p * panel + j < channels {
          var word: UInt32 = 0
          for d in 0..<dot.depth where q * dot.depth + d < k {
            let v = value(p * panel + j, q * dot.depth + d)
            word |= (UInt32(bitPattern: v) & (UInt32.max >> (32 - bits))) << (bits * d)
          }
          words[(p * kq + q) * panel + j] = word
        }
      }
    }
    return words
  }

  /// A per-channel table padded to whole panels (vector loads past the last channel).
  func padded<T: Numeric>(_ table: [T]) -> [T] {
    let panel = weights == .rows ? rows : width
    return table + [T](repeating: 0, count: (table.count + panel - 1) / panel * panel - table.count)
  }
}

/// Emits the tiles of an `IntegerGemm` for one op (functions named after `symbol`).
struct IntegerGemmEmitter {
  let cg: CodegenModule
  let g: IntegerGemm
  let symbol: String
  /// The packed constant weights, bias' and multipliers (globals).
  let weights: Value, bias: Value, multipliers: Value

  init(_ cg: CodegenModule, _ g: IntegerGemm, symbol: String, packedWeights: [UInt32], bias: [Int32],
       multipliers: [Float]) {
    self.cg = cg
    self.g = g
    self.symbol = symbol
    weights = cg.constantBytes("\(symbol).w", packedWeights.withUnsafeBytes { Array($0) }, as: cg.f32Ptr)
    self.bias = cg.constantBytes("\(symbol).b", g.padded(bias).withUnsafeBytes { Array($0) }, as: cg.f32Ptr)
    self.multipliers = cg.constantFloats("\(symbol).m", g.padded(multipliers))
  }

  /// Runs tiles [begin, end) of the grid: `activation` is the packed run-time operand
  /// (words), `c` the result and `residuals` the `add` operands (this image's part).
  func emitTiles(begin: Value, end: Value, activation: Value, c: Value, residuals: [Value]) {
    let full = (rows: g.rows, columns: g.width)
    let tail = (rows: g.m - (g.rowPanels - 1) * g.rows, columns: g.n - (g.columnPanels - 1) * g.width)
    var kernels: [String: Value] = [:]
    func kernel(_ rows: Int, _ columns: Int) -> Value {
      let key = "\(rows)x\(columns)"
      if let f = kernels[key] { return f }
      let f = microkernel(rows: rows, columns: columns)
      kernels[key] = f
      return f
    }
    cg.forLoop(begin, end) { t in
      let rowPanel = cg.urem(t, g.rowPanels), columnPanel = cg.udiv(t, g.rowPanels)
      let m0 = cg.mul(rowPanel, g.rows), n0 = cg.mul(columnPanel, g.width)
      let a: Value, b: Value
      if g.weights == .rows {
        a = cg.gep(cg.i32, words(weights), cg.mul(rowPanel, g.kq * g.rows))
        b = cg.gep(cg.i32, words(activation), n0)
      } else {
        a = cg.gep(cg.i32, words(activation), cg.mul(m0, g.kq))
        b = cg.gep(cg.i32, words(weights), cg.mul(columnPanel, g.kq * g.width))
      }
      let channel = g.weights == .rows ? m0 : n0
      let out = cg.add(cg.mul(m0, g.n), n0)
      let bytes = { (p: Value) in LLVMBuildBitCast(cg.builder, p, cg.i8Ptr, "")! }
      let args = [a, b, bytes(cg.element(g.epilogue.storedElement, c, out)),
                  cg.gep(cg.i32, words(bias), channel), cg.at(multipliers, channel)]
        + residuals.enumerated().map { bytes(cg.element(g.epilogue.residuals[$0.offset].element, $0.element, out)) }
      let lastRow = cg.icmp(LLVMIntEQ, rowPanel, cg.int(g.rowPanels - 1))
      let lastColumn = cg.icmp(LLVMIntEQ, columnPanel, cg.int(g.columnPanels - 1))
      // Four tile shapes at most: full, short rows, narrow columns, both.
      func callTile(rows: Int) {
        if tail.columns == full.columns {
          cg.call(function: kernel(rows, full.columns), args)
        } else {
          _ = cg.ifElse(lastColumn, { cg.call(function: kernel(rows, tail.columns), args); return [] },
                        { cg.call(function: kernel(rows, full.columns), args); return [] })
        }
      }
      if tail.rows == full.rows {
        callTile(rows: full.rows)
      } else {
        _ = cg.ifElse(lastRow, { callTile(rows: tail.rows); return [] }, { callTile(rows: full.rows); return [] })
      }
    }
  }

  private func words(_ p: Value) -> Value { LLVMBuildBitCast(cg.builder, p, LLVMPointerType(cg.i32, 0), "")! }

  private var wordVector: LType { LLVMVectorType(cg.i32, UInt32(cg.lanes))! }

  /// `mk(a, b, c, bias, multipliers, residuals...)`: a rows x columns tile, every
  /// pointer at the tile's first element.
  private func microkernel(rows: Int, columns: Int) -> Value {
    let saved = LLVMGetInsertBlock(cg.builder)!
    defer { LLVMPositionBuilderAtEnd(cg.builder, saved) }
    let i32p = LLVMPointerType(cg.i32, 0)!
    let params = [i32p, i32p, cg.i8Ptr, i32p, cg.f32Ptr] + g.epilogue.residuals.map { _ in cg.i8Ptr }
    let f = cg.addFunction("\(symbol).mk\(rows)x\(columns)", params: params, local: true)
    cg.addEnumAttribute("nounwind", to: f)
    cg.startBlock("entry", in: f)
    let (a, b, c) = (cg.param(f, 0), cg.param(f, 1), cg.param(f, 2))
    let vectors = (columns + cg.lanes - 1) / cg.lanes
    // Word (row r, group q) of A and vector v of group q of B.
    let (aGroupStep, aRowStep) = g.weights == .rows ? (g.rows, 1) : (1, g.kq)
    let bGroupStep = g.weights == .rows ? g.paddedN : g.width
    let zeros = [Value](repeating: LLVMConstNull(wordVector), count: rows * vectors)
    let acc = cg.forLoop(cg.int(0), cg.int(g.kq), carrying: zeros) { q, acc in
      let bRow = cg.gep(cg.i32, b, cg.mul(q, bGroupStep))
      let bv = (0..<vectors).map { loadWords(cg.gep(cg.i32, bRow, cg.int($0 * cg.lanes))) }
      let aColumn = cg.gep(cg.i32, a, cg.mul(q, aGroupStep))
      var next = acc
      for r in 0..<rows {
        let word = LLVMBuildLoad2(cg.builder, cg.i32, cg.gep(cg.i32, aColumn, cg.int(r * aRowStep)), "")!
        LLVMSetAlignment(word, 4)
        let broadcast = splat(word)
        for v in 0..<vectors {
          next[r * vectors + v] = dot(acc[r * vectors + v], broadcast: broadcast, vector: bv[v])
        }
      }
      return next
    }
    let perRow = g.weights == .rows
    let f32Vector = cg.vec
    for r in 0..<rows {
      for v in 0..<vectors {
        let valid = min(cg.lanes, columns - v * cg.lanes)
        let first = r * g.n + v * cg.lanes
        var sum = acc[r * vectors + v]
        let biasWords = cg.gep(cg.i32, cg.param(f, 3), cg.int(perRow ? r : v * cg.lanes))
        sum = cg.add(sum, perRow ? splat(LLVMBuildLoad2(cg.builder, cg.i32, biasWords, "")!) : loadWords(biasWords))
        let multiplier = perRow ? cg.broadcast(cg.load(cg.at(cg.param(f, 4), r)))
                                : cg.load(vectorAt: cg.at(cg.param(f, 4), v * cg.lanes))
        let t = cg.fmul(LLVMBuildSIToFP(cg.builder, sum, f32Vector, "")!, multiplier)
        let stored = g.epilogue.apply(cg, t, vector: true) { i in
          let element = g.epilogue.residuals[i].element
          return loadVector(element, cg.element(element, cg.param(f, 5 + i), cg.int(first)), valid: valid)
        }
        storeVector(stored, cg.element(g.epilogue.storedElement, c, cg.int(first)), valid: valid)
      }
    }
    cg.retVoid()
    return f
  }

  /// acc + the dot products of each lane's K group.
  private func dot(_ acc: Value, broadcast: Value, vector: Value) -> Value {
    switch g.dot {
    case .pairs:
      let halves = LLVMVectorType(LLVMInt16TypeInContext(cg.context), UInt32(2 * cg.lanes))!
      let name = cg.lanes == 16 ? "llvm.x86.avx512.pmaddw.d.512" : "llvm.x86.avx2.pmadd.wd"
      let (fn, type) = cg.intrinsic(name, [])
      var args: [Value?] = [LLVMBuildBitCast(cg.builder, broadcast, halves, ""), LLVMBuildBitCast(cg.builder, vector, halves, "")]
      return cg.add(acc, LLVMBuildCall2(cg.builder, type, fn, &args, 2, "")!)
    case .quads:
      precondition(cg.lanes == 16, "vpdpbusd kernels are AVX-512")
      // The u8 operand (the activation) first.
      let (unsigned, signed) = g.weights == .rows ? (vector, broadcast) : (broadcast, vector)
      let (fn, type) = cg.intrinsic("llvm.x86.avx512.vpdpbusd.512", [])
      var args: [Value?] = [acc, unsigned, signed]
      return LLVMBuildCall2(cg.builder, type, fn, &args, 3, "")!
    }
  }

  private func splat(_ word: Value) -> Value {
    let undef = LLVMGetUndef(wordVector)
    let one = LLVMBuildInsertElement(cg.builder, undef, word, cg.int32(0), "")
    return LLVMBuildShuffleVector(cg.builder, one, undef, LLVMConstNull(wordVector), "")!
  }

  private func loadWords(_ p: Value) -> Value {
    let v = LLVMBuildLoad2(cg.builder, wordVector, LLVMBuildBitCast(cg.builder, p, LLVMPointerType(wordVector, 0), ""), "")!
    LLVMSetAlignment(v, 4)
    return v
  }

  /// The first `valid` lanes of a vector of `element` at `p` (the rest zero).
  private func loadVector(_ element: ElementType, _ p: Value, valid: Int) -> Value {
    let type = LLVMVectorType(cg.storageType(element), UInt32(cg.lanes))!
    let pointer = LLVMBuildBitCast(cg.builder, p, LLVMPointerType(type, 0), "")!
    if valid >= cg.lanes {
      let v = LLVMBuildLoad2(cg.builder, type, pointer, "")!
      LLVMSetAlignment(v, 1)
      return v
    }
    let (fn, fnType) = cg.intrinsic("llvm.masked.load", [type, LLVMPointerType(type, 0)])
    var args: [Value?] = [pointer, cg.int32(1), cg.prefixMask(valid), LLVMConstNull(type)]
    return LLVMBuildCall2(cg.builder, fnType, fn, &args, 4, "")!
  }

  /// Stores the first `valid` lanes of `v` at `p`.
  private func storeVector(_ v: Value, _ p: Value, valid: Int) {
    let type = LLVMTypeOf(v)!
    let pointer = LLVMBuildBitCast(cg.builder, p, LLVMPointerType(type, 0), "")!
    if valid >= cg.lanes {
      LLVMSetAlignment(LLVMBuildStore(cg.builder, v, pointer), 1)
      return
    }
    let (fn, fnType) = cg.intrinsic("llvm.masked.store", [type, LLVMPointerType(type, 0)])
    var args: [Value?] = [v, pointer, cg.int32(1), cg.prefixMask(valid)]
    LLVMBuildCall2(cg.builder, fnType, fn, &args, 4, "")
  }
}
