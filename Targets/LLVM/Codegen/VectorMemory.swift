//===--- VectorMemory.swift - masked, strided and transposing vector memory access ---===//
//
// What the implicit im2col needs (i64 lane vectors for run-time masks, GEPs that may
// leave a buffer for masked-off lanes) and the load and store of a register tile
// transposed (GEMMs with transposed C).

internal import CLLVM

extension CodegenModule {
  /// The i64 vector `values` (constant).
  func intVector(_ values: [Int]) -> Value {
    var items: [Value?] = values.map { int($0) }
    return LLVMConstVector(&items, UInt32(values.count))
  }

  /// An i64 vector with every lane `v`.
  func splat(i64 v: Value) -> Value {
    let type = LLVMVectorType(i64, UInt32(lanes))!
    let one = LLVMBuildInsertElement(builder, LLVMGetUndef(type), v, int32(0), "")
    let zeros = LLVMConstNull(LLVMVectorType(i32, UInt32(lanes)))
    return LLVMBuildShuffleVector(builder, one, LLVMGetUndef(type), zeros, "")!
  }

  /// `p + offset` floats without `inbounds`: for the base of a masked access whose lanes
  /// before or after the buffer are masked off.
  func unboundedAt(_ p: Value, _ offset: Value) -> Value {
    var idx: [Value?] = [offset]
    return LLVMBuildGEP2(builder, f32, p, &idx, 1, "")!
  }
}

extension CodegenModule {
  /// Stores the tile rows[r][lane] (rows.count <= lanes vectors) transposed: lane l of
  /// every row goes to p[(firstColumn + l) * stride + r], for l < columns.
  ///
  /// log2(P) rounds of zips (P = rows.count rounded up to a power of two) leave vector f
  /// holding columns f*g ..< (f+1)*g, g = lanes / P, column l at lanes (l % g) * P + r;
  /// each column is then one masked store (8 values for an 8-row tile).
  func storeTransposed(_ rows: [Value], _ p: Value, stride: Value, firstColumn: Int, columns: Int) {
    let count = transposeCount(rows.count)
    var vectors = rows + Array(repeating: splat(0), count: count - rows.count)
    var h = count / 2
    while h >= 1 {
      vectors = (0..<count / 2).flatMap { i -> [Value] in
        let (x, y) = (vectors[i], vectors[i + count / 2])
        return [shuffle(x, y, (0..<lanes).map { $0 % 2 == 0 ? $0 / 2 : lanes + $0 / 2 }),
                shuffle(x, y, (0..<lanes).map { $0 % 2 == 0 ? lanes / 2 + $0 / 2 : lanes + lanes / 2 + $0 / 2 })]
      }
      h /= 2
    }
    for l in 0..<columns {
      let (pointer, mask) = transposedColumn(l, p, stride: stride, firstColumn: firstColumn, rows: rows.count, count: count)
      store(vector: vectors[l / (lanes / count)], at: pointer, mask: mask)
    }
  }

  /// The tile `storeTransposed` would store there, loaded back: rows vectors, lanes at
  /// or past `columns` zero. The zips undone are even/odd lane splits.
  func loadTransposed(_ p: Value, stride: Value, firstColumn: Int, columns: Int, rows: Int) -> [Value] {
    let count = transposeCount(rows)
    var vectors = Array(repeating: splat(0), count: count)
    for l in 0..<columns {
      let (pointer, mask) = transposedColumn(l, p, stride: stride, firstColumn: firstColumn, rows: rows, count: count)
      vectors[l / (lanes / count)] = load(vectorAt: pointer, mask: mask, passthrough: vectors[l / (lanes / count)])
    }
    var h = 1
    while h < count {
      var next = vectors
      for i in 0..<count / 2 {
        next[i] = shuffle(vectors[2 * i], vectors[2 * i + 1], (0..<lanes).map { 2 * $0 })
        next[i + count / 2] = shuffle(vectors[2 * i], vectors[2 * i + 1], (0..<lanes).map { 2 * $0 + 1 })
      }
      vectors = next
      h *= 2
    }
    return Array(vectors.prefix(rows))
  }

  /// Rows of a transposed tile rounded up to a power of two (at most `lanes`).
  private func transposeCount(_ rows: Int) -> Int {
    var count = 1
    while count < rows { count *= 2 }
    precondition(count <= lanes, "a tile of \(rows) rows")
    return count
  }

  /// Where column l of a transposed tile lives: lane (l % g) * count lands on
  /// p[(firstColumn + l) * stride]; the mask covers its `rows` lanes (the masked-off
  /// lanes before it may lie before the buffer).
  private func transposedColumn(_ l: Int, _ p: Value, stride: Value, firstColumn: Int, rows: Int,
                                count: Int) -> (Value, Value) {
    let first = (l % (lanes / count)) * count
    var bits: [Value?] = (0..<lanes).map { LLVMConstInt(i1, $0 >= first && $0 < first + rows ? 1 : 0, 0) }
    return (unboundedAt(p, sub(mul(stride, firstColumn + l), int(first))), LLVMConstVector(&bits, UInt32(lanes)))
  }

  /// shufflevector(x, y, indices) (indices into x ++ y).
  func shuffle(_ x: Value, _ y: Value, _ indices: [Int]) -> Value {
    var items: [Value?] = indices.map { int32($0) }
    return LLVMBuildShuffleVector(builder, x, y, LLVMConstVector(&items, UInt32(indices.count)), "")!
  }
}
