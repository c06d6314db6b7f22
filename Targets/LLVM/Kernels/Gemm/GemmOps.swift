//===--- GemmOps.swift - gemm and matmul lowered onto the generated GEMM ---===//
//
// The constant operand (the weight) is transposed and scaled by alpha at compile time
// and handed to the GEMM generator, which packs it; a constant C becomes a per-row or
// per-column bias (scaled by beta), a full-size C the residual. Batched matmul with a
// 2-D constant weight folds the batch into M; two run-time operands loop over the batch.

import SparrowIR

extension OpContext {
  func lowerGemm() throws -> OpKernel {
    if let sparse = try lowerSparseRightGemm() { return sparse }
    let a = attributes
    let transA = a.bool("transA"), transB = a.bool("transB")
    let alpha = a.float("alpha"), beta = a.float("beta")
    let aShape = shape(operand: 0), bShape = shape(operand: 1)
    let (m, k) = transA ? (aShape[1], aShape[0]) : (aShape[0], aShape[1])
    let n = transB ? bShape[0] : bShape[1]
    var aOperand = GemmOperand.argument, bOperand = GemmOperand.argument
    var alphaApplied = alpha == 1
    var embedded: Set<Int> = []
    if var b = constant(operand: 1) {
      if transB { b = transposedMatrix(b, rows: n, columns: k) }
      if !alphaApplied { b = b.map { $0 * alpha }; alphaApplied = true }
      bOperand = .constant(b)
      embedded.insert(1)
    } else if transB {
      throw unsupported("a run-time transposed B operand")
    }
    if var av = constant(operand: 0) {
      if transA { av = transposedMatrix(av, rows: k, columns: m) }
      if !alphaApplied { av = av.map { $0 * alpha }; alphaApplied = true }
      aOperand = .constant(av)
      embedded.insert(0)
    } else if transA {
      throw unsupported("a run-time transposed A operand")
    }
    guard alphaApplied else { throw unsupported("alpha != 1 with two run-time operands") }
    let hasFusedResidual = op.attributes.values["epilogue"] != nil
    let fused = try fusedEpilogue(coreOperands: hasFusedResidual ? 3 : min(op.operands.count, 3))
    var epilogue = GemmEpilogue(steps: fused.steps)
    var residualOperand = fused.residual
    if op.operands.count >= 3 {
      let cShape = shape(operand: 2), count = cShape.reduce(1, *)
      // C is a scalar, a row vector ([N] or [1, N]: per column) or a column ([M, 1]: per row).
      let perColumn = count == n && cShape.last == n
      if let c = constant(operand: 2), count == 1 || perColumn || cShape == [m, 1] {
        let scaled = c.map { $0 * beta }
        if count == 1 {
          epilogue.bias = .perColumn(Array(repeating: scaled[0], count: n))
        } else if perColumn {
          epilogue.bias = .perColumn(scaled)
        } else {
          epilogue.bias = .perRow(scaled)
        }
        embedded.insert(2)
      } else if count == m * n && beta == 1 && residualOperand == nil {
        epilogue.steps.insert(.addResidual, at: 0)
        residualOperand = 2
      } else {
        throw unsupported("a C operand of shape \(cShape) with beta \(beta)")
      }
    }
    let descriptor = GemmDescriptor(m: m, n: n, k: k, a: aOperand, b: bOperand, epilogue: epilogue)
    let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
    let gemm = emitter.emit()
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      let residual = residualOperand.map { operands[$0] } ?? cg.nullFloatPointer()
      cg.call(function: gemm, [results[0], operands[0], operands[1], residual, scratch, threads])
    })
    return OpKernel(function: f, embeddedOperands: embedded, scratchBytes: emitter.scratchBytes)
  }

  func lowerMatMul() throws -> OpKernel {
    if let sparse = try lowerSparseRightGemm() { return sparse }
    let aShape = shape(operand: 0), bShape = shape(operand: 1), out = shape()
    guard aShape.count >= 2, bShape.count >= 2 else { throw unsupported("1-D matmul operands") }
    let k = aShape[aShape.count - 1], n = bShape[bShape.count - 1]
    let m = aShape[aShape.count - 2]
    if bShape.count == 2 {
      // [..., M, K] x [K, N]: the batch folds into M.
      let rows = aShape.dropLast().reduce(1, *)
      let bConst = constant(operand: 1), aConst = aShape.count == 2 ? constant(operand: 0) : nil
      let descriptor = GemmDescriptor(m: rows, n: n, k: k,
                                      a: aConst.map { .constant($0) } ?? .argument,
                                      b: bConst.map { .constant($0) } ?? .argument)
      let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
      let gemm = emitter.emit()
      let f = defineKernel(threaded: { results, operands, scratch, threads in
        cg.call(function: gemm, [results[0], operands[0], operands[1], cg.nullFloatPointer(), scratch, threads])
      })
      var embedded: Set<Int> = []
      if aConst != nil { embedded.insert(0) }
      if bConst != nil { embedded.insert(1) }
      return OpKernel(function: f, embeddedOperands: embedded, scratchBytes: emitter.scratchBytes)
    }
    // Batched: [B..., M, K] x [B..., K, N] with equal batch dimensions.
    let batch = Array(out.dropLast(2))
    guard Array(aShape.dropLast(2)) == batch, Array(bShape.dropLast(2)) == batch else {
      throw unsupported("matmul with broadcast batch dimensions \(aShape) x \(bShape)")
    }
    let descriptor = GemmDescriptor(m: m, n: n, k: k, a: .argument, b: .argument)
    let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
    let gemm = emitter.emit()
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      cg.forLoop(0, batch.reduce(1, *)) { i in
        cg.call(function: gemm, [cg.at(results[0], cg.mul(i, m * n)), cg.at(operands[0], cg.mul(i, m * k)),
                                 cg.at(operands[1], cg.mul(i, k * n)), cg.nullFloatPointer(), scratch, threads])
      }
    })
    return OpKernel(function: f, scratchBytes: emitter.scratchBytes)
  }
}
