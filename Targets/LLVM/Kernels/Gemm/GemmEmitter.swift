//===--- GemmEmitter.swift - blocked, register-tiled dense GEMM in LLVM IR ---===//
//
// The generated function is `void name(float *c, const float *a, const float *b,
// const float *residual, float *scratch, void *pool)`; constant operands ignore their
// argument. With a pool (Parallel.swift) C is split into a grid of pm x pn tiles, row
// panels along M and N blocks along N, one tile per thread, each with its own scratch;
// the grid for each thread count is chosen at compile time (GemmPartition.swift).
//
//   for each N block of nBlock columns            (B block: L2)
//     for each K block of kBlock                   (A panel slice: L1)
//       pack B[kBlock x nBlock] into scratch panels   (run-time B only)
//       for each row panel of `rows`
//         for each column panel of `vectors` vectors
//           microkernel: rows x vectors accumulators, broadcast A, FMA with B rows;
//             first K block starts from 0, later ones add to C; the last K block
//             applies the epilogue (bias, residual, activation) before the store.
//
// Shapes are static, so tails (row panels shorter than `rows`, column panels narrower
// than the panel) get their own specialized microkernels with masked edges.

internal import CLLVM

struct GemmEmitter {
  let cg: CodegenModule
  let d: GemmDescriptor
  let t: GemmTiling
  let name: String

  /// Bytes of scratch the generated function needs (one slice per possible thread).
  var scratchBytes: Int { threadScratchFloats * 4 * GemmEmitter.maxThreads }
  /// Floats of scratch one thread uses (a multiple of 16: 64-byte aligned slices).
  private var threadScratchFloats: Int { (d.scratchFloats(t, lanes: cg.lanes) + 15) / 16 * 16 }
  /// Threads one GEMM may use.
  static let maxThreads = 8

  private var lanes: Int { cg.lanes }
  private var width: Int { t.vectors * lanes }

  init(_ cg: CodegenModule, _ d: GemmDescriptor, name: String) {
    self.cg = cg
    self.d = d
    self.name = name
    self.t = d.tiling ?? GemmTiling.choose(m: d.m, n: d.n, k: d.k, lanes: cg.lanes)
    precondition(!d.transposedAC || (!d.a.isConstant && d.b.isConstant), "transposed A and C: A run-time, B constant")
    precondition(t.nBlock % (t.vectors * cg.lanes) == 0, "N block must hold whole panels")
  }

  /// Emits the GEMM function; returns it.
  @discardableResult
  func emit() -> Value {
    let saved = LLVMGetInsertBlock(cg.builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(cg.builder, saved) } }
    let body = emitBody()
    let p = cg.f32Ptr
    let f = cg.addFunction(name, params: [p, p, p, p, p, cg.i8Ptr])
    cg.startBlock("entry", in: f)
    let args = (0..<5).map { cg.param(f, $0) }
    let grid = GemmPartition(d, t, maximum: GemmEmitter.maxThreads)
    let tables = grid.tables(cg, symbol: name)
    cg.emitParallel(pool: cg.param(f, 5), maximum: grid.maximum, symbol: name, captures: args) { thread, count, args in
      // Thread i of n takes tile (i / pn, i % pn) of the pm x pn grid for n threads;
      // row units [R*r/pm, R*(r+1)/pm), N blocks [B*c/pn, B*(c+1)/pn).
      let pm = LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, tables.rows, count), "")!
      let pn = LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, tables.columns, count), "")!
      cg.ifThen(cg.icmp(LLVMIntSLT, thread, cg.mul(pm, pn))) {
        let r = cg.udiv(thread, pn), c = cg.urem(thread, pn)
        func range(_ part: Value, _ parts: Value, _ units: Int) -> (Value, Value) {
          (cg.udiv(cg.mul(part, units), parts), cg.udiv(cg.mul(cg.add(part, 1), units), parts))
        }
        let (r0, r1) = range(r, pm, grid.rowUnits)
        let (b0, b1) = range(c, pn, grid.blocks)
        let scratch = cg.at(args[4], cg.mul(thread, threadScratchFloats))
        cg.call(function: body, Array(args[0..<4]) + [scratch, r0, r1, b0, b1])
      }
    }
    cg.retVoid()
    return f
  }

  /// `body(c, a, b, residual, scratch, rowBegin, rowEnd, blockBegin, blockEnd)`: row
  /// units [rowBegin, rowEnd) (full row panels, then the partial one) of N blocks
  /// [blockBegin, blockEnd) (full blocks, then the partial one).
  private func emitBody() -> Value {
    let p = cg.f32Ptr
    let f = cg.addFunction(name + ".body", params: [p, p, p, p, p, cg.i64, cg.i64, cg.i64, cg.i64], local: true)
    cg.addEnumAttribute("nounwind", to: f)
    // The constant operands, packed.
    var aConst: Value?, bConst: Value?, biasConst: Value?
    if case let .constant(a) = d.a {
      aConst = cg.constantFloats("\(name).a", packRowPanels(a, m: d.m, k: d.k, rows: t.rows, kBlock: t.kBlock))
    }
    if case let .constant(b) = d.b {
      bConst = cg.constantFloats("\(name).b", packColumnPanels(b, k: d.k, n: d.n, width: width, kBlock: t.kBlock))
    }
    switch d.epilogue.bias {
    case .none: break
    case let .perRow(v): precondition(v.count == d.m); biasConst = cg.constantFloats("\(name).bias", v)
    case let .perColumn(v): precondition(v.count == d.n); biasConst = cg.constantFloats("\(name).bias", v)
    }
    cg.startBlock("entry", in: f)
    let c = cg.param(f, 0), residual = cg.param(f, 3), scratch = cg.param(f, 4)
    let a = aConst ?? cg.param(f, 1), b = bConst ?? cg.param(f, 2)
    // A range of units: its full ones [begin, min(end, full)), and whether it holds the
    // partial last one (index `full`).
    func split(_ begin: Value, _ end: Value, full: Int) -> (Value, Value, Value) {
      let holdsPartial = LLVMBuildAnd(cg.builder, cg.icmp(LLVMIntSLE, begin, cg.int(full)),
                                      cg.icmp(LLVMIntSGT, end, cg.int(full)), "")!
      return (cg.smin(begin, cg.int(full)), cg.smin(end, cg.int(full)), LLVMBuildZExt(cg.builder, holdsPartial, cg.i64, "")!)
    }
    let (panelBegin, panelEnd, tail) = split(cg.param(f, 5), cg.param(f, 6), full: d.m / t.rows)
    let ctx = Pointers(a: a, b: b, c: c, bias: biasConst, residual: residual, scratch: scratch,
                       panelBegin: panelBegin, panelEnd: panelEnd, tail: tail)

    let fullBlocks = d.n / t.nBlock
    let lastColumns = d.n % t.nBlock
    let (blockBegin, blockEnd, lastBlock) = split(cg.param(f, 7), cg.param(f, 8), full: fullBlocks)
    if fullBlocks > 0 {
      cg.forLoop(cg.mul(blockBegin, t.nBlock), cg.mul(blockEnd, t.nBlock), step: t.nBlock) { n0 in
        emitNBlock(n0, columns: t.nBlock, ctx)
      }
    }
    if lastColumns > 0 {
      cg.ifThen(cg.icmp(LLVMIntNE, lastBlock, cg.int(0))) {
        emitNBlock(cg.int(fullBlocks * t.nBlock), columns: lastColumns, ctx)
      }
    }
    cg.retVoid()
    return f
  }

  private struct Pointers {
    let a: Value, b: Value, c: Value
    let bias: Value?
    let residual: Value, scratch: Value
    let panelBegin: Value, panelEnd: Value, tail: Value
  }

  /// One N block of `columns` (static) starting at column `n0`.
  private func emitNBlock(_ n0: Value, columns: Int, _ p: Pointers) {
    cg.forLoop(0, d.k, step: t.kBlock) { k0 in
      let kc = cg.smin(cg.int(t.kBlock), cg.sub(cg.int(d.k), k0))
      let accumulate = cg.icmp(LLVMIntSGT, k0, cg.int(0))
      let last = cg.icmp(LLVMIntSGE, cg.add(k0, t.kBlock), cg.int(d.k))
      let mode = cg.add(LLVMBuildZExt(cg.builder, accumulate, cg.i64, ""),
                        cg.mul(LLVMBuildZExt(cg.builder, last, cg.i64, ""), 2))
      // B panels for this block: packed constant, or packed now into scratch.
      let bBlock: (Value) -> Value   // panel index within block -> pointer at k0
      if d.b.isPrepacked {
        // Packed [K block][panel][kc][width] (GemmPacking.swift).
        let firstPanel = cg.udiv(n0, width)
        let block = cg.at(p.b, cg.mul(k0, (d.n + width - 1) / width * width))
        bBlock = { panel in cg.at(block, cg.mul(cg.mul(cg.add(firstPanel, panel), kc), width)) }
      } else {
        if case let .convolutionColumns(g) = d.b {
          emitPackColumns(g, planes: p.b, into: p.scratch, n0: n0, k0: k0, kc: kc, columns: columns)
        } else {
          emitPackB(p.b, into: p.scratch, n0: n0, k0: k0, kc: kc, columns: columns)
        }
        bBlock = { panel in cg.at(p.scratch, cg.mul(panel, t.kBlock * width)) }
      }
      let fullRowPanels = d.m / t.rows
      let tailRows = d.m % t.rows
      func rowPanel(_ m0: Value, rows: Int) {
        let fullPanels = columns / width
        let tailColumns = columns % width
        if fullPanels > 0 {
          let kernel = microkernel(rows: rows, columns: width)
          cg.forLoop(0, fullPanels) { panel in
            callMicrokernel(kernel, m0: m0, n0: cg.add(n0, cg.mul(panel, width)), k0: k0, kc: kc,
                            mode: mode, b: bBlock(panel), p)
          }
        }
        if tailColumns > 0 {
          let kernel = microkernel(rows: rows, columns: tailColumns)
          callMicrokernel(kernel, m0: m0, n0: cg.add(n0, fullPanels * width), k0: k0, kc: kc,
                          mode: mode, b: bBlock(cg.int(fullPanels)), p)
        }
      }
      if fullRowPanels > 0 {
        cg.forLoop(cg.mul(p.panelBegin, t.rows), cg.mul(p.panelEnd, t.rows), step: t.rows) { m0 in
          rowPanel(m0, rows: t.rows)
        }
      }
      if tailRows > 0 {
        cg.ifThen(cg.icmp(LLVMIntNE, p.tail, cg.int(0))) {
          rowPanel(cg.int(fullRowPanels * t.rows), rows: tailRows)
        }
      }
    }
  }

  private func callMicrokernel(_ kernel: Value, m0: Value, n0: Value, k0: Value, kc: Value,
                               mode: Value, b: Value, _ p: Pointers) {
    let a: Value
    if d.a.isConstant {
      // Packed [K block][panel][kc][rows] (GemmPacking.swift): block k0, panel m0/rows.
      let panels = (d.m + t.rows - 1) / t.rows
      a = cg.at(p.a, cg.add(cg.mul(k0, panels * t.rows), cg.mul(cg.udiv(m0, t.rows), cg.mul(kc, t.rows))))
    } else if d.transposedAC {
      a = cg.at(p.a, cg.add(cg.mul(k0, d.m), m0))
    } else {
      a = cg.at(p.a, cg.add(cg.mul(m0, d.k), k0))
    }
    let cOffset = d.transposedAC ? cg.add(cg.mul(n0, d.m), m0) : cg.add(cg.mul(m0, d.n), n0)
    var bias = cg.nullFloatPointer()
    if let biasBase = p.bias {
      if case .perRow = d.epilogue.bias { bias = cg.at(biasBase, m0) } else { bias = cg.at(biasBase, n0) }
    }
    let residual = d.epilogue.residual ? cg.at(p.residual, cOffset) : cg.nullFloatPointer()
    let (ldc, lda) = d.transposedAC ? (d.m, d.m) : (d.n, d.k)
    cg.call(function: kernel, [a, b, cg.at(p.c, cOffset), kc, mode, bias, residual, cg.int(ldc), cg.int(lda)])
  }

  /// Copies B[k0 ..< k0+kc, n0 ..< n0+columns] into panels [panel][kBlock][width],
  /// zero-padding the last panel. Full panels share one loop (code size stays flat in
  /// the number of panels); a partial last panel gets its own masked copy.
  private func emitPackB(_ b: Value, into scratch: Value, n0: Value, k0: Value, kc: Value,
                         columns: Int) {
    func packPanel(_ panel: Value, cols: Int) {
      cg.forLoop(cg.int(0), kc) { kk in
        let src = cg.at(b, cg.add(cg.mul(cg.add(k0, kk), d.n), cg.add(n0, cg.mul(panel, width))))
        let dst = cg.at(scratch, cg.add(cg.mul(kk, width), cg.mul(panel, t.kBlock * width)))
        for v in 0..<t.vectors {
          let valid = cols - v * lanes
          let x = valid <= 0 ? cg.splat(0) : cg.load(vectorAt: cg.at(src, v * lanes), lanes: valid)
          cg.store(vector: x, at: cg.at(dst, v * lanes))
        }
      }
    }
    let fullPanels = columns / width
    if fullPanels > 0 { cg.forLoop(0, fullPanels) { panel in packPanel(panel, cols: width) } }
    if columns % width > 0 { packPanel(cg.int(fullPanels), cols: columns % width) }
  }

  /// `void mk(a, b, c, kc, mode, bias, residual, ldc, lda)`: a rows x columns tile of C
  /// (row stride ldc; lda is A's row stride when A is a run-time argument). Transposed
  /// A and C: ldc and lda are their column strides; C's tile is transposed on load and store.
  /// mode bit 0: add to C; bit 1: apply the epilogue.
  ///
  /// Nothing in it depends on M, N or K, so GEMMs of one module that share the register
  /// tile, panel layout and epilogue share the function (compile time: ResNet-50's 53
  /// convolutions need a dozen microkernels, not 150).
  private func microkernel(rows: Int, columns: Int) -> Value {
    let aLayout = d.a.isConstant ? "packed\(t.rows)" : d.transposedAC ? "columns.T" : "rows"
    let biasKind: String
    switch d.epilogue.bias {
    case .none: biasKind = "nobias"
    case .perRow: biasKind = "rowbias"
    case .perColumn: biasKind = "columnbias"
    }
    let steps = d.epilogue.steps.map(\.symbolKey).joined(separator: ".")
    let kernelName = "sparrow.gemm.mk\(rows)x\(columns).w\(width).\(aLayout).\(biasKind)" + (steps.isEmpty ? "" : "." + steps)
    if let f = LLVMGetNamedFunction(cg.ref, kernelName) { return f }
    let saved = LLVMGetInsertBlock(cg.builder)!
    defer { LLVMPositionBuilderAtEnd(cg.builder, saved) }
    let p = cg.f32Ptr
    let f = cg.addFunction(kernelName, params: [p, p, p, cg.i64, cg.i64, p, p, cg.i64, cg.i64], local: true)
    cg.addEnumAttribute("noinline", to: f)
    cg.addEnumAttribute("nounwind", to: f)
    cg.startBlock("entry", in: f)
    let a = cg.param(f, 0), b = cg.param(f, 1), c = cg.param(f, 2), kc = cg.param(f, 3)
    let mode = cg.param(f, 4), bias = cg.param(f, 5), residual = cg.param(f, 6)
    let ldc = cg.param(f, 7), lda = cg.param(f, 8)
    let vectors = (columns + lanes - 1) / lanes
    let aStep = d.a.isConstant ? cg.int(t.rows) : d.transposedAC ? lda : cg.int(1)
    func lanesValid(_ v: Int) -> Int { min(lanes, columns - v * lanes) }

    let zeros = [Value](repeating: cg.splat(0), count: rows * vectors)
    var acc = cg.forLoop(cg.int(0), kc, carrying: zeros) { kk, acc in
      let bRow = cg.at(b, cg.mul(kk, width))
      let bv = (0..<vectors).map { cg.load(vectorAt: cg.at(bRow, $0 * lanes)) }
      let aCol = cg.at(a, cg.mul(kk, aStep))
      var next = acc
      for r in 0..<rows {
        let rowOffset = d.a.isConstant || d.transposedAC ? cg.int(r) : cg.mul(lda, r)
        let ar = cg.broadcast(cg.load(cg.at(aCol, rowOffset)))
        for v in 0..<vectors { next[r * vectors + v] = cg.fma(ar, bv[v], acc[r * vectors + v]) }
      }
      return next
    }
    // Row r of column vector v of the tile, C[r][v * lanes ..]; transposed C is loaded a
    // whole column vector (all rows) at a time.
    func loadRow(_ base: Value, _ r: Int, _ v: Int) -> Value {
      cg.load(vectorAt: cg.at(base, cg.add(cg.mul(ldc, r), v * lanes)), lanes: lanesValid(v))
    }
    func loader(_ base: Value) -> (Int, Int) -> Value {
      guard d.transposedAC else { return { r, v in loadRow(base, r, v) } }
      let tiles = (0..<vectors).map {
        cg.loadTransposed(base, stride: ldc, firstColumn: $0 * lanes, columns: lanesValid($0), rows: rows)
      }
      return { r, v in tiles[v][r] }
    }
    let bit = { (i: Int) in cg.icmp(LLVMIntNE, LLVMBuildAnd(cg.builder, mode, cg.int(i), ""), cg.int(0)) }
    acc = cg.ifElse(bit(1), {
      let old = loader(c)
      return (0..<rows * vectors).map { i in cg.fadd(acc[i], old(i / vectors, i % vectors)) }
    }, { acc })
    acc = cg.ifElse(bit(2), {
      let residualPart = d.epilogue.residual ? loader(residual) : { _, _ in cg.splat(0) }
      return epilogue(acc, rows: rows, vectors: vectors, bias: bias, residual: residualPart, lanesValid: lanesValid)
    }, { acc })
    for v in 0..<vectors {
      let tile = (0..<rows).map { acc[$0 * vectors + v] }
      if d.transposedAC {
        cg.storeTransposed(tile, c, stride: ldc, firstColumn: v * lanes, columns: lanesValid(v))
      } else {
        for r in 0..<rows { cg.store(vector: tile[r], at: cg.at(c, cg.add(cg.mul(ldc, r), v * lanes)), lanes: lanesValid(v)) }
      }
    }
    cg.retVoid()
    return f
  }

  /// `residual(r, v)` is the residual's part of the tile.
  private func epilogue(_ acc: [Value], rows: Int, vectors: Int, bias: Value,
                        residual: (_ row: Int, _ vector: Int) -> Value, lanesValid: (Int) -> Int) -> [Value] {
    var out = acc
    for r in 0..<rows {
      for v in 0..<vectors {
        var x = out[r * vectors + v]
        switch d.epilogue.bias {
        case .none: break
        case .perRow: x = cg.fadd(x, cg.broadcast(cg.load(cg.at(bias, r))))
        case .perColumn: x = cg.fadd(x, cg.load(vectorAt: cg.at(bias, v * lanes), lanes: lanesValid(v)))
        }
        for step in d.epilogue.steps {
          switch step {
          case .addResidual:
            x = cg.fadd(x, residual(r, v))
          case let .activation(activation):
            x = cg.apply(activation, x)
          }
        }
        out[r * vectors + v] = x
      }
    }
    return out
  }
}

extension GemmEpilogueStep {
  /// A short, deterministic name for symbols (`add`, `relu`, `clip_0.0_6.0` ...).
  var symbolKey: String {
    switch self {
    case .addResidual: return "add"
    case let .activation(a):
      switch a {
      case .none: return "none"
      case .relu: return "relu"
      case let .clip(lo, hi): return "clip_\(lo)_\(hi)"
      case let .leakyRelu(alpha): return "leaky_\(alpha)"
      case .sigmoid: return "sigmoid"
      case .tanh: return "tanh"
      case .hardSwish: return "hardswish"
      case .silu: return "silu"
      case let .gelu(tanhApproximation): return tanhApproximation ? "gelu_tanh" : "gelu"
      }
    }
  }
}
