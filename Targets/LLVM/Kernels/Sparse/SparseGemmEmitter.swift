//===--- SparseGemmEmitter.swift - weight-specialized sparse GEMM in LLVM IR ---===//
//
// C[M, N] = epilogue(W[M, K] · X[K, N]) with W a compile-time sparse weight (the conv
// orientation: W [Cout, K] · im2col [K, P]) and X a run-time row-major argument. The
// generated function is `void name(float *c, const float *w, const float *x,
// const float *residual, float *scratch, void *pool)` like the dense GEMM (w unused).
// Threads split the column panels (each with its own scratch slice: pack and partial
// tile), so every sum keeps its order: results do not depend on the thread count.
//
//   for each column panel of `vectors` x 16 columns of X (masked tail panel; weight
//   left, a tail of one vector or less joins the last full panel, `vectors` + 1 wide)
//     for each K block
//       [pack X[k block, panel] into scratch rows of the panel's width]
//       for each row block b of R rows (SparseRowBlocks)
//         acc[R][vectors] = 0 on the first K block, else the partial sums
//         for each entry j of block b in this K block              (constant tables)
//           x_r[v] = X[k_{j,r}, n0 + 16 v ...]        shared: one load for all R rows
//           acc[r][v] += broadcast(W[b R + r, k_{j,r}]) * x_r[v]
//         last K block: bias (per row), residual, activation; store
//
// Weight on the right (`transposed`, gemm layers: Y[T, M] = X[T, K] · W[M, K]^T) is the
// same kernel on Y^T = W · X^T: the K block of a panel of T rows of X is transposed into
// the pack (16 x 16 register transposes), the row blocks accumulate into a scratch tile
// [M][panel], and once per panel that tile is transposed back into Y with the epilogue
// applied along Y's rows (bias per column, residual and activation as vectors).
// Empty columns of a block cost nothing; non-zeros are embedded in the binary.

internal import CLLVM

/// What a generated sparse GEMM computes and its register tile.
public struct SparseGemmDescriptor: Sendable {
  public var weight: SparseRowBlocks
  /// Output columns of the weight-left form: X's columns (weight left) or rows (transposed).
  public var n: Int
  /// Bias `.perRow` is per row of W (per output column of Y when transposed).
  public var epilogue: GemmEpilogue
  /// Column vectors per panel (16 floats each with AVX-512).
  public var vectors: Int
  /// Weight on the right: x is [n, K], c and the residual [n, M] (row-major).
  public var transposed: Bool
  /// Copy each (panel, K block) of X into contiguous scratch rows first (always when
  /// transposed). Without it X rows are read in place at a stride of N floats, which
  /// alias in L1 and leave the kernel at ~0.5 of the dense FLOP rate (RESULTS.md).
  public var packs: Bool
  /// A conv's column matrix gathered from its zero-bordered input planes while packing
  /// (x then points at the planes, Gemm/ConvolutionColumns.swift); nil: x is X itself.
  public var columns: ConvolutionColumns?

  public init(weight: SparseRowBlocks, n: Int, epilogue: GemmEpilogue = GemmEpilogue(steps: []), vectors: Int = 4,
              transposed: Bool = false, packs: Bool = true) {
    if case .perColumn = epilogue.bias { preconditionFailure("the sparse GEMM takes per-row (per-W-row) bias only") }
    self.weight = weight
    self.n = n
    self.epilogue = epilogue
    self.vectors = vectors
    self.transposed = transposed
    self.packs = packs || transposed
  }

  /// Column vectors of the widest panel: weight left, a short tail joins the last panel.
  var widestPanel: Int { transposed ? vectors : vectors + 1 }
  /// Floats of the pack (one K block of a panel) for `lanes`-wide vectors.
  func packFloats(lanes: Int) -> Int { packs ? min(weight.kBlock, max(weight.k, 1)) * widestPanel * lanes : 0 }
  /// Rows of the transposed partial tile: M rounded up to the row blocks and to `lanes`.
  func partialRows(lanes: Int) -> Int {
    let padded = max(weight.blocks * weight.blockRows, weight.rows)
    return (padded + lanes - 1) / lanes * lanes
  }
  /// Scratch one thread needs, in bytes (64-byte multiple).
  func threadScratchBytes(lanes: Int) -> Int {
    let floats = packFloats(lanes: lanes) + (transposed ? partialRows(lanes: lanes) * vectors * lanes : 0)
    return (floats * 4 + 63) / 64 * 64
  }
  /// Scratch the kernel needs, in bytes (a slice per thread it may use).
  public func scratchBytes(lanes: Int = 16) -> Int { threadScratchBytes(lanes: lanes) * ParallelCost.maximumThreads }
}

struct SparseGemmEmitter {
  let cg: CodegenModule
  let d: SparseGemmDescriptor
  let name: String

  var lanes: Int { cg.lanes }
  private var r: Int { d.weight.blockRows }
  /// Floats between consecutive X rows in the pack.
  var width: Int { d.vectors * lanes }

  /// One `SparseRowBlocks.Entries` part as constant tables. `columns` holds each entry
  /// column's X row: relative to the K block (the pack's row, times the panel's width)
  /// when packing, else the absolute element offset k * N.
  struct PartTables {
    let starts: IndexTable, columns: IndexTable, values: Value
    let columnsPerEntry: Int
  }

  struct Tables {
    let parts: [PartTables]
    let bias: Value?
  }

  /// The panel's run-time pointers.
  struct Buffers {
    let c: Value, x: Value, residual: Value, pack: Value, partial: Value
  }

  @discardableResult
  func emit() -> Value {
    let saved = LLVMGetInsertBlock(cg.builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(cg.builder, saved) } }
    let p = cg.f32Ptr
    let f = cg.addFunction(name, params: [p, p, p, p, p, cg.i8Ptr])
    let t = tables()
    cg.startBlock("entry", in: f)
    precondition(d.columns == nil || d.packs, "implicit conv columns are read through the pack")
    var full = d.n / width, tail = d.n % width
    // A tail of one vector or less costs a whole panel's index and weight loads for a
    // few lanes: weight left, it joins the last full panel (ResNet-50's 14x14: 196 = 64
    // + 64 + 68 columns, not 64 + 64 + 64 + 4). The transposed partial tile is `width` wide.
    if !d.transposed && full > 0 && tail > 0 && tail <= lanes { (full, tail) = (full - 1, tail + width) }
    let panels = full + (tail > 0 ? 1 : 0)
    let work = ParallelCost.nanoseconds(fmas: d.weight.storedValues * d.n * 2)
    let parts = ParallelCost.parts(units: panels, nanoseconds: work, maximum: ParallelCost.maximumThreads)
    let sliceFloats = d.threadScratchBytes(lanes: lanes) / 4
    let captures = [cg.param(f, 0), cg.param(f, 2), cg.param(f, 3), cg.param(f, 4)]
    cg.emitParallel(pool: cg.param(f, 5), maximum: parts, symbol: name, captures: captures) { thread, count, c in
      let scratch = cg.at(c[3], cg.mul(thread, sliceFloats))
      let buffers = Buffers(c: c[0], x: c[1], residual: c[2], pack: scratch,
                            partial: cg.at(scratch, d.packFloats(lanes: lanes)))
      let (first, end) = cg.share(panels, thread: thread, count: count)
      if full > 0 {
        cg.forLoop(cg.mul(cg.smin(first, cg.int(full)), width), cg.mul(cg.smin(end, cg.int(full)), width), step: width) { n0 in
          panel(n0, columns: width, buffers, t)
        }
      }
      if tail > 0 {
        cg.ifThen(cg.icmp(LLVMIntSGT, end, cg.int(full))) { panel(cg.int(full * width), columns: tail, buffers, t) }
      }
    }
    cg.retVoid()
    return f
  }

  /// The weight as constant tables: per part, entry ranges, X rows (see `PartTables`) and
  /// values; the bias padded to whole vectors and row blocks. The integer tables take
  /// the narrowest width their values fit (a K block of <= 256 columns: one byte a
  /// column), so a 2:4 weight costs ~5 bytes a non-zero (~0.62x of dense) instead of 8.
  private func tables() -> Tables {
    let w = d.weight
    let parts = w.parts.enumerated().map { index, part -> PartTables in
      var columns = [Int](repeating: 0, count: part.columns.count)
      let perEntry = part.columnsPerEntry
      for kb in 0..<w.kBlocks {
        for b in 0..<w.blocks {
          let i = kb * w.blocks + b
          for e in Int(part.blockStart[i])..<Int(part.blockStart[i + 1]) {
            for c in 0..<perEntry {
              let k = Int(part.columns[e * perEntry + c])
              columns[e * perEntry + c] = d.packs ? k - kb * w.kBlock : k * d.n
            }
          }
        }
      }
      let prefix = "\(name).\(index)"
      return PartTables(
        starts: IndexTable(cg, name: "\(prefix).starts", part.blockStart.map { Int($0) }),
        columns: IndexTable(cg, name: "\(prefix).columns", columns),
        values: cg.constantFloats("\(prefix).values", part.values.isEmpty ? [0] : part.values),
        columnsPerEntry: perEntry)
    }
    var bias: Value?
    if case let .perRow(b) = d.epilogue.bias {
      precondition(b.count == w.rows, "bias \(b.count) for \(w.rows) rows")
      bias = cg.constantFloats("\(name).bias", b + [Float](repeating: 0, count: d.partialRows(lanes: lanes) - w.rows))
    }
    return Tables(parts: parts, bias: bias)
  }

  /// One column panel of `columns` (static) at `n0`, all row blocks.
  private func panel(_ n0: Value, columns: Int, _ buf: Buffers, _ t: Tables) {
    let vectors = (columns + lanes - 1) / lanes
    // The pack is zero-padded to whole vectors; X itself is read with masks.
    let valid = { (v: Int) in d.packs ? lanes : min(lanes, columns - v * lanes) }
    let w = d.weight
    let kBlocks = w.kBlocks
    cg.forLoop(0, kBlocks) { kb in
      let first = cg.icmp(LLVMIntEQ, kb, cg.int(0))
      let last = cg.icmp(LLVMIntEQ, kb, cg.int(kBlocks - 1))
      if d.packs { pack(kb: kb, last: last, n0: n0, columns: columns, buf) }
      let rowBase = d.packs ? buf.pack : cg.at(buf.x, n0)
      cg.forLoop(0, w.blocks) { b in
        let entry = cg.add(cg.mul(kb, w.blocks), b)
        let row0 = cg.mul(b, r)
        let partialAt = { (i: Int, v: Int) in cg.at(buf.partial, cg.add(cg.mul(cg.add(row0, i), width), v * lanes)) }
        let cOffset = { (i: Int, v: Int) in cg.add(cg.add(cg.mul(cg.add(row0, i), d.n), n0), v * lanes) }
        // Padded rows (M not a multiple of R) read row 0 of the block (discarded) and are not stored.
        let padded = w.rows % r != 0
        if !d.transposed { prefetchRows(after: row0, n0: n0, vectors: vectors, last: last, buf) }
        let initial = cg.ifElse(first, { [Value](repeating: cg.splat(0), count: r * vectors) }, {
          (0..<(r * vectors)).map { iv in
            let (i, v) = (iv / vectors, iv % vectors)
            if d.transposed { return cg.load(vectorAt: partialAt(i, v)) }
            let outer = min(lanes, columns - v * lanes)
            guard padded, i > 0 else { return cg.load(vectorAt: cg.at(buf.c, cOffset(i, v)), lanes: outer) }
            let inside = cg.icmp(LLVMIntSLT, cg.add(row0, i), cg.int(w.rows))
            // Clamp the row so the load stays inside C; the value is discarded when outside.
            let safe = cg.select(inside, cOffset(i, v), cOffset(0, v))
            return cg.load(vectorAt: cg.at(buf.c, safe), lanes: outer)
          }
        })
        // A last vector of at most half a vector of columns (ResNet-50's 7x7: 49 = 3 x 16
        // + 1) accumulates in half-width vectors: Zen 4 issues a 512-bit FMA or load as
        // two 256-bit halves, so it costs half. The pack is zero-padded to whole vectors.
        let narrow = d.packs && columns - (vectors - 1) * lanes <= lanes / 2
        let isNarrow = { (iv: Int) in narrow && iv % vectors == vectors - 1 }
        var acc = initial.enumerated().map { isNarrow($0) ? lowHalf($1) : $1 }
        for part in t.parts {
          let start = part.starts.load(cg, at: entry)
          let end = part.starts.load(cg, at: cg.add(entry, 1))
          acc = accumulate(from: start, to: end, initial: acc, rowBase: rowBase, vectors: vectors, narrowLast: narrow,
                           valid: valid, part)
        }
        acc = acc.enumerated().map { isNarrow($0) ? widened($1) : $1 }
        if d.transposed {
          for i in 0..<r { for v in 0..<vectors { cg.store(vector: acc[i * vectors + v], at: partialAt(i, v)) } }
          return
        }
        let outer = { (v: Int) in min(lanes, columns - v * lanes) }
        acc = cg.ifElse(last, { epilogue(acc, row0: row0, vectors: vectors, n0: n0, residual: buf.residual, t, valid: outer) },
                        { acc })
        for i in 0..<r {
          let store = {
            for v in 0..<vectors { cg.store(vector: acc[i * vectors + v], at: cg.at(buf.c, cOffset(i, v)), lanes: outer(v)) }
          }
          if padded && i > 0 {
            cg.ifThen(cg.icmp(LLVMIntSLT, cg.add(row0, i), cg.int(w.rows)), store)
          } else {
            store()
          }
        }
      }
    }
    if d.transposed { storeTransposed(n0: n0, columns: columns, buf, t) }
  }

  /// Row blocks ahead of the kernel whose C (and residual) lines `prefetchRows` requests.
  static let prefetchDistance = 4

  /// Prefetches the panel's C lines (for writing) and, on the last K block, residual
  /// lines of the row block `prefetchDistance` ahead. Every row block touches a few lines
  /// of R rows a whole C row apart (N floats): hundreds of short streams, too many for
  /// the hardware prefetchers, so each C and residual line missed to L3 or DRAM.
  private func prefetchRows(after row0: Value, n0: Value, vectors: Int, last: Value, _ buf: Buffers) {
    let rows = (0..<r).map { i in cg.smin(cg.add(row0, Self.prefetchDistance * r + i), cg.int(d.weight.rows - 1)) }
    let offsets = rows.flatMap { row in (0..<vectors).map { v in cg.add(cg.add(cg.mul(row, d.n), n0), v * lanes) } }
    for offset in offsets { cg.prefetch(cg.at(buf.c, offset), write: true) }
    guard d.epilogue.steps.contains(.addResidual) else { return }
    cg.ifThen(last) { for offset in offsets { cg.prefetch(cg.at(buf.residual, offset)) } }
  }

  /// The entry loop of one row block: acc[i][v] += w * X row vectors.
  /// `narrowLast`: the last vector's accumulators are half-width (see `panel`).
  private func accumulate(from start: Value, to end: Value, initial: [Value], rowBase: Value, vectors: Int,
                          narrowLast: Bool, valid: @escaping (Int) -> Int, _ t: PartTables) -> [Value] {
    // Floats between X rows: the pack's rows are the panel's width (`width` when
    // transposed: the register transposes fill whole vectors), X's own rows N.
    let stride = !d.packs ? 1 : d.transposed ? width : vectors * lanes
    let perEntry = t.columnsPerEntry
    return cg.forLoop(start, end, carrying: initial) { j, acc in
      let xs: [[Value]] = (0..<perEntry).map { c in
        let index = cg.add(cg.mul(j, perEntry), c)
        let row = cg.at(rowBase, cg.mul(t.columns.load(cg, at: index), stride))
        return (0..<vectors).map { v in
          narrowLast && v == vectors - 1 ? loadHalf(cg.at(row, v * lanes))
            : cg.load(vectorAt: cg.at(row, v * lanes), lanes: valid(v))
        }
      }
      var out = acc
      let wj = cg.at(t.values, cg.mul(j, r))
      for i in 0..<r {
        let wv = cg.broadcast(cg.load(cg.at(wj, i)))
        let x = xs[perEntry == 1 ? 0 : i]
        for v in 0..<vectors {
          let w = narrowLast && v == vectors - 1 ? lowHalf(wv) : wv
          out[i * vectors + v] = cg.fma(w, x[v], acc[i * vectors + v])
        }
      }
      return out
    }
  }

  /// The low half of a vector's lanes.
  private func lowHalf(_ v: Value) -> Value { cg.shuffle(v, v, Array(0..<(lanes / 2))) }
  /// A half-width vector as the low lanes of a full one (the high lanes zero).
  private func widened(_ half: Value) -> Value { cg.shuffle(half, LLVMConstNull(LLVMTypeOf(half)), Array(0..<lanes)) }

  /// Half a vector loaded from `p` (4-byte aligned).
  private func loadHalf(_ p: Value) -> Value {
    let half = LLVMVectorType(cg.f32, UInt32(lanes / 2))!
    let v = LLVMBuildLoad2(cg.builder, half, LLVMBuildBitCast(cg.builder, p, LLVMPointerType(half, 0), ""), "")!
    LLVMSetAlignment(v, 4)
    return v
  }

  /// Bias, residual and activation on one row block's accumulators (weight left).
  private func epilogue(_ acc: [Value], row0: Value, vectors: Int, n0: Value, residual: Value, _ t: Tables,
                        valid: (Int) -> Int) -> [Value] {
    var out = acc
    for i in 0..<r {
      let rowIndex = cg.add(row0, i)
      // A padded row's index may pass the residual's end: clamp it (its value is dropped).
      let safeRow = d.weight.rows % r == 0 || i == 0 ? rowIndex
        : cg.select(cg.icmp(LLVMIntSLT, rowIndex, cg.int(d.weight.rows)), rowIndex, row0)
      for v in 0..<vectors {
        var value = out[i * vectors + v]
        if let bias = t.bias { value = cg.fadd(value, cg.broadcast(cg.load(cg.at(bias, rowIndex)))) }
        for step in d.epilogue.steps {
          switch step {
          case .addResidual:
            let offset = cg.add(cg.add(cg.mul(safeRow, d.n), n0), v * lanes)
            value = cg.fadd(value, cg.load(vectorAt: cg.at(residual, offset), lanes: valid(v)))
          case let .activation(a): value = cg.apply(a, value)
          }
        }
        out[i * vectors + v] = value
      }
    }
    return out
  }
}

/// Non-negative integers as a constant table of the narrowest unsigned width (8, 16, 32
/// or 64 bits) that holds them all, read back as i64.
struct IndexTable {
  let table: Value
  let element: LType
  /// Bytes per element.
  let width: Int

  init(_ cg: CodegenModule, name: String, _ values: [Int]) {
    precondition(values.allSatisfy { $0 >= 0 }, "negative index in \(name)")
    let largest = values.max() ?? 0
    width = largest <= Int(UInt8.max) ? 1 : largest <= Int(UInt16.max) ? 2 : largest <= Int(UInt32.max) ? 4 : 8
    element = LLVMIntTypeInContext(cg.context, UInt32(width * 8))!
    var bytes = [UInt8]()
    bytes.reserveCapacity(max(values.count, 1) * width)
    for v in values.isEmpty ? [0] : values {
      for i in 0..<width { bytes.append(UInt8(truncatingIfNeeded: UInt64(v) >> (8 * i))) }  // little-endian
    }
    table = cg.constantBytes(name, bytes, as: LLVMPointerType(element, 0)!)
  }

  /// Element `index` (i64) zero-extended to i64.
  func load(_ cg: CodegenModule, at index: Value) -> Value {
    let value = LLVMBuildLoad2(cg.builder, element, cg.gep(element, table, index), "")!
    return width == 8 ? value : LLVMBuildZExt(cg.builder, value, cg.i64, "")!
  }
}
