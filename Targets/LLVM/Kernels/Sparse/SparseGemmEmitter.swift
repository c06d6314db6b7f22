//===--- SparseGemmEmitter.swift - weight-specialized sparse GEMM in LLVM IR ---===//
//
// C[M, N] = epilogue(W[M, K] · X[K, N]) with W a compile-time sparse weight (the conv
// orientation: W [Cout, K] · im2col [K, P]) and X a run-time row-major argument. The
// generated function is `void name(float *c, const float *w, const float *x,
// const float *residual, float *scratch)` like the dense GEMM (w and scratch unused).
//
//   for each column panel of `vectors` x 16 columns of X (masked tail panel)
//     for each row block b of R rows (SparseRowBlocks)
//       acc[R][vectors] = 0
//       for each active column k of block b          (indices and values: constants)
//         x[v] = X[k, n0 + 16 v ...]                   one load serves R rows
//         acc[r][v] += broadcast(W[b R + r, k]) * x[v]
//       bias (per row), residual, activation; store
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
    cg.forLoop(0, w.blocks) { b in
      let start = LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, t.starts, b), "")!
      let end = LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, t.starts, cg.add(b, 1)), "")!
      let zero = cg.splat(0)
      var acc = cg.forLoop(start, end, carrying: [Value](repeating: zero, count: r * vectors)) { j, acc in
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
      let row0 = cg.mul(b, r)
      for i in 0..<r {
        let rowIndex = cg.add(row0, i)
        // Padded rows (M not a multiple of R) are computed but not stored.
        let inside = i == 0 || w.rows % r == 0 ? nil : cg.icmp(LLVMIntSLT, rowIndex, cg.int(w.rows))
        let store = {
          for v in 0..<vectors {
            var value = acc[i * vectors + v]
            if let bias = t.bias { value = cg.fadd(value, cg.broadcast(cg.load(cg.at(bias, rowIndex)))) }
            let offset = cg.add(cg.add(cg.mul(rowIndex, d.n), n0), v * lanes)
            for step in d.epilogue.steps {
              switch step {
              case .addResidual: value = cg.fadd(value, cg.load(vectorAt: cg.at(residual, offset), lanes: valid(v)))
              case let .activation(a): value = cg.apply(a, value)
              }
            }
            cg.store(vector: value, at: cg.at(c, offset), lanes: valid(v))
          }
        }
        if let inside { cg.ifThen(inside, store) } else { store() }
      }
      acc = []
    }
  }
}
