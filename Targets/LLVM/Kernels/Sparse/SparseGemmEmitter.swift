//===--- SparseGemmEmitter.swift - weight-specialized sparse GEMM in LLVM IR ---===//
//
// C[M, N] = epilogue(W[M, K] · X[K, N]) with W a compile-time sparse weight (the conv
// orientation: W [Cout, K] · im2col [K, P]) and X a run-time row-major argument. The
// generated function is `void name(float *c, const float *w, const float *x,
// const float *residual, float *scratch)` like the dense GEMM (w and scratch unused).
//
//   for each column panel of `vectors` x 16 columns of X (masked tail panel)
//     for each K block (its X rows of the panel stay in L1)
//       for each row block b of R rows (SparseRowBlocks)
//         acc[R][vectors] = 0 on the first K block, else C
//         for each active column k of block b in this K block   (constants)
//           x[v] = X[k, n0 + 16 v ...]                   one load serves R rows
//           acc[r][v] += broadcast(W[b R + r, k]) * x[v]
//         last K block: bias (per row), residual, activation; store
//
// Empty columns of a block cost nothing; non-zeros are embedded in the binary.

internal import CLLVM

/// What a generated sparse GEMM computes and its register tile.
public struct SparseGemmDescriptor: Sendable {
  public var weight: SparseRowBlocks
  public var n: Int
  public var epilogue: GemmEpilogue
  /// Column vectors per panel (16 floats each with AVX-512).
  public var vectors: Int

  public init(weight: SparseRowBlocks, n: Int, epilogue: GemmEpilogue = GemmEpilogue(steps: []), vectors: Int = 4) {
    if case .perColumn = epilogue.bias { preconditionFailure("the sparse GEMM takes per-row bias only") }
    self.weight = weight
    self.n = n
    self.epilogue = epilogue
    self.vectors = vectors
  }
}

struct SparseGemmEmitter {
  let cg: CodegenModule
  let d: SparseGemmDescriptor
  let name: String

  private var lanes: Int { cg.lanes }
  private var r: Int { d.weight.blockRows }

  @discardableResult
  func emit() -> Value {
    let saved = LLVMGetInsertBlock(cg.builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(cg.builder, saved) } }
    let p = cg.f32Ptr
    let f = cg.addFunction(name, params: [p, p, p, p, p])
    let w = d.weight
    let i64Ptr = LLVMPointerType(cg.i64, 0)!, i32Ptr = LLVMPointerType(cg.i32, 0)!
    let starts = cg.constantBytes("\(name).starts", w.blockStart.withUnsafeBytes { Array($0) }, as: i64Ptr)
    let columns = cg.constantBytes("\(name).columns", w.columns.isEmpty ? [0, 0, 0, 0] : w.columns.withUnsafeBytes { Array($0) },
                                   as: i32Ptr)
    let values = cg.constantFloats("\(name).values", w.values.isEmpty ? [0] : w.values)
    var bias: Value?
    if case let .perRow(b) = d.epilogue.bias {
      precondition(b.count == w.rows, "bias \(b.count) for \(w.rows) rows")
      bias = cg.constantFloats("\(name).bias", b + [Float](repeating: 0, count: w.blocks * r - w.rows))
    }
    cg.startBlock("entry", in: f)
    let c = cg.param(f, 0), x = cg.param(f, 2), residual = cg.param(f, 3)
    let width = d.vectors * lanes
    let full = d.n / width, tail = d.n % width
    let tables = Tables(starts: starts, columns: columns, values: values, bias: bias)
    if full > 0 {
      cg.forLoop(0, full * width, step: width) { n0 in
        panel(n0, columns: width, c: c, x: x, residual: residual, tables)
      }
    }
    if tail > 0 { panel(cg.int(full * width), columns: tail, c: c, x: x, residual: residual, tables) }
    cg.retVoid()
    return f
  }

  private struct Tables {
    let starts: Value, columns: Value, values: Value
    let bias: Value?
  }

  /// One column panel of `columns` (static) at `n0`, all row blocks.
  private func panel(_ n0: Value, columns: Int, c: Value, x: Value, residual: Value, _ t: Tables) {
    let vectors = (columns + lanes - 1) / lanes
    let valid = { (v: Int) in min(lanes, columns - v * lanes) }
    let w = d.weight
    let kBlocks = w.kBlocks
    cg.forLoop(0, kBlocks) { kb in
      let first = cg.icmp(LLVMIntEQ, kb, cg.int(0))
      let last = cg.icmp(LLVMIntEQ, kb, cg.int(kBlocks - 1))
      cg.forLoop(0, w.blocks) { b in
        let entry = cg.add(cg.mul(b, kBlocks), kb)
        let start = LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, t.starts, entry), "")!
        let end = LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, t.starts, cg.add(entry, 1)), "")!
        let row0 = cg.mul(b, r)
        let cOffset = { (i: Int, v: Int) in cg.add(cg.add(cg.mul(cg.add(row0, i), d.n), n0), v * lanes) }
        // Padded rows (M not a multiple of R) read row 0 of the block (discarded) and are not stored.
        let padded = w.rows % r != 0
        let initial = cg.ifElse(first, { [Value](repeating: cg.splat(0), count: r * vectors) }, {
          (0..<(r * vectors)).map { iv in
            let (i, v) = (iv / vectors, iv % vectors)
            guard padded, i > 0 else { return cg.load(vectorAt: cg.at(c, cOffset(i, v)), lanes: valid(v)) }
            let inside = cg.icmp(LLVMIntSLT, cg.add(row0, i), cg.int(w.rows))
            // Clamp the row so the load stays inside C; the value is discarded when outside.
            let safe = cg.select(inside, cOffset(i, v), cOffset(0, v))
            return cg.load(vectorAt: cg.at(c, safe), lanes: valid(v))
          }
        })
        var acc = cg.forLoop(start, end, carrying: initial) { j, acc in
          let k = LLVMBuildSExt(cg.builder, LLVMBuildLoad2(cg.builder, cg.i32, cg.gep(cg.i32, t.columns, j), ""),
                                cg.i64, "")!
          let row = cg.at(x, cg.add(cg.mul(k, d.n), n0))
          let xs = (0..<vectors).map { v in cg.load(vectorAt: cg.at(row, v * lanes), lanes: valid(v)) }
          var out = acc
          let wj = cg.at(t.values, cg.mul(j, r))
          for i in 0..<r {
            let wv = cg.broadcast(cg.load(cg.at(wj, i)))
            for v in 0..<vectors { out[i * vectors + v] = cg.fma(wv, xs[v], acc[i * vectors + v]) }
          }
          return out
        }
        acc = cg.ifElse(last, { epilogue(acc, row0: row0, vectors: vectors, n0: n0, residual: residual, t, valid: valid) },
                        { acc })
        for i in 0..<r {
          let store = {
            for v in 0..<vectors { cg.store(vector: acc[i * vectors + v], at: cg.at(c, cOffset(i, v)), lanes: valid(v)) }
          }
          if padded && i > 0 {
            cg.ifThen(cg.icmp(LLVMIntSLT, cg.add(row0, i), cg.int(w.rows)), store)
          } else {
            store()
          }
        }
      }
    }
  }

  /// Bias, residual and activation on one row block's accumulators.
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
