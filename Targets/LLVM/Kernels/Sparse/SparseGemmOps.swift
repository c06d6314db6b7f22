//===--- SparseGemmOps.swift - gemm/matmul/conv with a sparse constant weight ---===//
//
// A weight whose type carries a sparse layout (set by `sparsify`) runs the
// weight-specialized sparse GEMM (one thread):
//   conv            W [Cout, K] · im2col [K, P]                       (weight left)
//   gemm, matmul    Y [T, N] = A [T, K] · W^T with W [N, K]            (weight right,
//                   `transposed`: computed as Y^T = W · A^T in panels of T)
// The kernel configuration per layout (row-block size and arrangement) is
// `SparseGemmDescriptor(layout:...)`, measured in bench/RESULTS.md ("Weight sparsity").

import SparrowIR

extension SparseGemmDescriptor {
  /// The kernel for a weight W [rows, k] with `layout`: #bsr<R,C> blocks share each X
  /// load over R rows; N:M and CSR rows run in hybrid blocks (columns all rows of the
  /// block use shared, the rest in lockstep: no zero computed for N:M).
  /// `taps` is a conv's kh * kw: its K order is (Cin, kh, kw) while N:M groups run along
  /// Cin at each tap, so an N:M K block spans whole groups of M channels x taps and every
  /// row then has the same count in it (lockstep without padding).
  /// X is packed per panel and K block except for #bsr weights on the left that read X
  /// itself: their few shared entries per X row do not repay the copy (4x4 blocks at
  /// 90 %: 64x3136x576 3.9x packed, 9.6x in place; equal or better in place on every conv
  /// shape of ResNet-50, while N:M and CSR lose 10-40 % in place; RESULTS.md).
  /// `columns`: a conv's im2col columns, gathered while packing.
  public init(layout: SparseLayout, weight: [Float], rows: Int, k: Int, n: Int, epilogue: GemmEpilogue,
              transposed: Bool = false, taps: Int = 1, columns: ConvolutionColumns? = nil) {
    let blocks: SparseRowBlocks
    switch layout {
    case let .bsr(r, _):
      blocks = SparseRowBlocks(weight: weight, rows: rows, k: k, blockRows: min(max(r, 1), 8))
    case let .nm(_, m):
      let group = max(m * taps, 1)
      let kBlock = group <= Self.nmKBlock ? Self.nmKBlock / group * group : Self.nmKBlock
      blocks = SparseRowBlocks(weight: weight, rows: rows, k: k, blockRows: Self.hybridBlockRows, kBlock: kBlock,
                               arrangement: .hybrid)
    case .csr:
      blocks = SparseRowBlocks(weight: weight, rows: rows, k: k, blockRows: Self.hybridBlockRows, arrangement: .hybrid)
    }
    var packs = true
    if case .bsr = layout { packs = columns != nil }
    // R x (vectors + 1) accumulators must stay in registers (32 with AVX-512).
    self.init(weight: blocks, n: n, epilogue: epilogue, vectors: blocks.blockRows > 4 ? 2 : 4, transposed: transposed,
              packs: packs)
    self.columns = columns
  }

  /// Rows per hybrid block: 2 rows share a quarter of their 2:4 columns (0.75 X loads
  /// per FMA instead of ~1) and halve the index and weight loads per FMA. Measured
  /// against 4 on every shape of bench/sparse_gemm.sh, both orientations, for 2:4, 1:4,
  /// 2:8 and u80: 2 is within 2 % or up to 16 % faster (bench/RESULTS.md, 2026-12-04
  /// third session; 4 had won on convs under 512 positions while the tables were read
  /// strided).
  static let hybridBlockRows = 2

  /// K block of N:M weights, rounded down to whole groups of M x taps: 96 (72 for 3x3
  /// taps) ran 2:4 256x196x2304 in 1.21-1.24 ms against 1.27-1.29 with 128, and
  /// 3072x128x768 (transposed) 2.96-3.05 against 3.05-3.33 (bench-sparse-gemm --k-block,
  /// interleaved, 2026-12-04): a smaller pack leaves more of L1 to the tables and C.
  static let nmKBlock = 96
}

extension OpContext {
  /// gemm (transA = false) or matmul (2-D weight) whose constant right operand has a
  /// sparse layout, as the transposed sparse GEMM; nil when the op does not qualify (the
  /// dense kernel then runs it: the layout's data is the dense weight).
  func lowerSparseRightGemm() throws -> OpKernel? {
    guard op.operands.count >= 2, let layout = type(op.operands[1]).layout,
          constant(operand: 0) == nil, var b = constant(operand: 1) else { return nil }
    let aShape = shape(operand: 0), bShape = shape(operand: 1)
    guard aShape.count >= 2, bShape.count == 2 else { return nil }
    let tokens: Int, k: Int, n: Int
    var epilogue: GemmEpilogue
    var residualOperand: Int?
    var embedded: Set<Int> = [1]
    switch op.kind {
    case .gemm:
      let a = attributes
      guard !a.bool("transA"), aShape.count == 2 else { return nil }
      (tokens, k) = (aShape[0], aShape[1])
      n = a.bool("transB") ? bShape[0] : bShape[1]
      if !a.bool("transB") { b = transposedMatrix(b, rows: k, columns: n) }
      let alpha = a.float("alpha"), beta = a.float("beta")
      if alpha != 1 { b = b.map { $0 * alpha } }
      let hasFusedResidual = op.attributes.values["epilogue"] != nil
      let fused = try fusedEpilogue(coreOperands: hasFusedResidual ? 3 : min(op.operands.count, 3))
      epilogue = GemmEpilogue(steps: fused.steps)
      residualOperand = fused.residual
      if op.operands.count >= 3 {
        let cShape = shape(operand: 2), count = cShape.reduce(1, *)
        if let c = constant(operand: 2), count == 1 || (count == n && cShape.last == n) {
          let scaled = c.map { $0 * beta }
          epilogue.bias = .perRow(count == 1 ? Array(repeating: scaled[0], count: n) : scaled)
          embedded.insert(2)
        } else if count == tokens * n && beta == 1 && residualOperand == nil && cShape.last == n {
          epilogue.steps.insert(.addResidual, at: 0)
          residualOperand = 2
        } else {
          return nil
        }
      }
    case .matmul:
      guard op.operands.count == 2 else { return nil }
      (tokens, k, n) = (aShape.dropLast().reduce(1, *), aShape[aShape.count - 1], bShape[1])
      b = transposedMatrix(b, rows: k, columns: n)
      epilogue = GemmEpilogue(steps: [])
    default:
      return nil
    }
    let descriptor = SparseGemmDescriptor(layout: layout, weight: b, rows: n, k: k, n: tokens, epilogue: epilogue,
                                          transposed: true)
    let gemm = SparseGemmEmitter(cg: cg, d: descriptor, name: symbol + ".sparse_gemm").emit()
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      let residual = residualOperand.map { operands[$0] } ?? cg.nullFloatPointer()
      cg.call(function: gemm, [results[0], cg.nullFloatPointer(), operands[0], residual, scratch, threads])
    })
    return OpKernel(function: f, embeddedOperands: embedded,
                    scratchBytes: descriptor.scratchBytes(lanes: cg.lanes))
  }
}
