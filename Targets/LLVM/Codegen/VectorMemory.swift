//===--- VectorMemory.swift - masked, strided and transposing vector memory access ---===//
//
// Masks known only at run time (the implicit im2col's row segments), gathers of strided
// lanes, and the store of a register tile transposed (GEMMs with transposed C).

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

  /// The lanes of `mask` loaded from `p`, the others from `passthrough`.
  func load(vectorAt p: Value, mask: Value, passthrough: Value) -> Value {
    let (f, t) = intrinsic("llvm.masked.load", [vec, vecPtr])
    var args: [Value?] = [LLVMBuildBitCast(builder, p, vecPtr, ""), int32(4), mask, passthrough]
    return LLVMBuildCall2(builder, t, f, &args, 4, "")
  }

  /// Lanes 0 ..< n of a vector gathered from p[(first + lane) * stride] (zero beyond n).
  func gather(_ p: Value, stride: Value, first: Int, lanes n: Int) -> Value {
    let pointers = lanePointers(p, stride: stride, first: first)
    let (f, t) = intrinsic("llvm.masked.gather", [vec, LLVMTypeOf(pointers)])
    var args: [Value?] = [pointers, int32(4), prefixMask(n), splat(0)]
    return LLVMBuildCall2(builder, t, f, &args, 4, "")
  }

  private func lanePointers(_ p: Value, stride: Value, first: Int) -> Value {
    let offsets = LLVMBuildMul(builder, intVector((0..<lanes).map { first + $0 }), splat(i64: stride), "")!
    var idx: [Value?] = [offsets]
    return LLVMBuildInBoundsGEP2(builder, f32, p, &idx, 1, "")
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
    var count = 1
    while count < rows.count { count *= 2 }
    precondition(count <= lanes, "a tile of \(rows.count) rows")
    var vectors = rows + Array(repeating: splat(0), count: count - rows.count)
    func zip(_ x: Value, _ y: Value, high: Bool) -> Value {
      let half = high ? lanes / 2 : 0
      var indices: [Value?] = (0..<lanes).map { int32($0 % 2 == 0 ? half + $0 / 2 : lanes + half + $0 / 2) }
      return LLVMBuildShuffleVector(builder, x, y, LLVMConstVector(&indices, UInt32(lanes)), "")!
    }
    var step = count
    while step > 1 {
      let h = vectors.count / 2
      vectors = (0..<h).flatMap { [zip(vectors[$0], vectors[$0 + h], high: false), zip(vectors[$0], vectors[$0 + h], high: true)] }
      step /= 2
    }
    let group = lanes / count
    let (f, t) = intrinsic("llvm.masked.store", [vec, vecPtr])
    for l in 0..<columns {
      let first = (l % group) * count
      var bits: [Value?] = (0..<lanes).map { LLVMConstInt(i1, $0 >= first && $0 < first + rows.count ? 1 : 0, 0) }
      // Lane `first` lands on column l's first element; the lanes before it are masked off.
      var idx: [Value?] = [sub(mul(stride, firstColumn + l), int(first))]
      let at = LLVMBuildGEP2(builder, f32, p, &idx, 1, "")!
      var args: [Value?] = [vectors[l / group], LLVMBuildBitCast(builder, at, vecPtr, ""), int32(4),
                            LLVMConstVector(&bits, UInt32(lanes))]
      LLVMBuildCall2(builder, t, f, &args, 4, "")
    }
  }
}
