//===--- DirectGemm.swift - gemm and matmul forms the generated GEMM does not take ---===//
//
//   gemm:   y[i][j] = epilogue(alpha * Σ_k A'[i][k] B'[k][j] + beta * C[broadcast i, j])
//           (A' = A or Aᵀ, B' = B or Bᵀ; any operand may be a run-time value)
//   matmul: y[b...][i][j] = Σ_k A[b...][i][k] B[b...][k][j], numpy broadcasting over the
//           batch dimensions, 1-D operands promoted as numpy does
//
// GemmOps.swift maps the common forms (a constant weight, a bias-like C) onto the packed
// GEMM generator; what it rejects (run-time transposed operands, alpha with two run-time
// operands, a run-time or 2-D broadcast C, broadcast batches) comes here: one
// accumulator per output element, plain loops.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// The packed GEMM when it takes this gemm, else the direct loops.
  func lowerGemmOrDirect() throws -> OpKernel {
    do { return try lowerGemm() } catch is Diagnostic { return try lowerDirectGemm() }
  }

  /// The packed GEMM when it takes this matmul, else the direct loops.
  func lowerMatMulOrDirect() throws -> OpKernel {
    do { return try lowerMatMul() } catch is Diagnostic { return try lowerDirectMatMul() }
  }

  private func lowerDirectGemm() throws -> OpKernel {
    let a = attributes
    let transA = a.bool("transA"), transB = a.bool("transB")
    let alpha = a.float("alpha"), beta = a.float("beta")
    let aShape = shape(operand: 0), bShape = shape(operand: 1)
    let (m, k) = transA ? (aShape[1], aShape[0]) : (aShape[0], aShape[1])
    let n = transB ? bShape[0] : bShape[1]
    let adds = a.epilogue.filter { $0 == .add }.count
    let core = op.operands.count - adds
    let fused = try fusedEpilogue(coreOperands: core)
    // A[i][k] at i*sa0 + k*sa1; B[k][j] at k*sb0 + j*sb1; C broadcast to [M, N].
    let (sa0, sa1) = transA ? (1, m) : (k, 1)
    let (sb0, sb1) = transB ? (1, k) : (n, 1)
    let cStrides = core >= 3 ? broadcastStrides(shape(operand: 2), to: [m, n]) : nil
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([m, n]) { idx in
        let (i, j) = (idx[0], idx[1])
        let sum = cg.forLoop(cg.int(0), cg.int(k), carrying: [cg.float(0)]) { kk, acc in
          let av = cg.load(cg.at(operands[0], cg.add(cg.mul(i, sa0), cg.mul(kk, sa1))))
          let bv = cg.load(cg.at(operands[1], cg.add(cg.mul(kk, sb0), cg.mul(j, sb1))))
          return [cg.fma(av, bv, acc[0])]
        }[0]
        var value = cg.fmul(cg.float(alpha), sum)
        if let cStrides {
          let c = cg.load(cg.at(operands[2], cg.linearOffset(idx, cStrides)))
          value = cg.fadd(value, cg.fmul(cg.float(beta), c))
        }
        let at = cg.add(cg.mul(i, n), j)
        for step in fused.steps {
          switch step {
          case .addResidual: value = cg.fadd(value, cg.load(cg.at(operands[fused.residual!], at)))
          case let .activation(act): value = cg.apply(act, value)
          }
        }
        cg.store(value, cg.at(results[0], at))
      }
    }
    return OpKernel(function: f)
  }

  private func lowerDirectMatMul() throws -> OpKernel {
    var aShape = shape(operand: 0), bShape = shape(operand: 1)
    let out = shape()
    guard !aShape.isEmpty, !bShape.isEmpty else { throw unsupported("scalar matmul operands") }
    // numpy: a 1-D A is [1, K], a 1-D B is [K, 1]; the result drops those axes again.
    if aShape.count == 1 { aShape = [1] + aShape }
    if bShape.count == 1 { bShape = bShape + [1] }
    let (m, k, n) = (aShape[aShape.count - 2], aShape[aShape.count - 1], bShape[bShape.count - 1])
    let batch = Array(broadcastShape(Array(aShape.dropLast(2)), Array(bShape.dropLast(2))))
    guard batch.reduce(1, *) * m * n == out.reduce(1, *) else {
      throw unsupported("matmul of \(shape(operand: 0)) x \(shape(operand: 1))")
    }
    // Batch strides of each operand (0 along broadcast dimensions), in matrix units.
    let aBatch = broadcastStrides(Array(aShape.dropLast(2)), to: batch).map { $0 * m * k }
    let bBatch = broadcastStrides(Array(bShape.dropLast(2)), to: batch).map { $0 * k * n }
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex(batch + [m, n]) { idx in
        let b = Array(idx.prefix(batch.count))
        let (i, j) = (idx[batch.count], idx[batch.count + 1])
        let aRow = cg.add(cg.linearOffset(b, aBatch), cg.mul(i, k))
        let bColumn = cg.add(cg.linearOffset(b, bBatch), j)
        let sum = cg.forLoop(cg.int(0), cg.int(k), carrying: [cg.float(0)]) { kk, acc in
          let av = cg.load(cg.at(operands[0], cg.add(aRow, kk)))
          let bv = cg.load(cg.at(operands[1], cg.add(bColumn, cg.mul(kk, n))))
          return [cg.fma(av, bv, acc[0])]
        }[0]
        cg.store(sum, cg.at(results[0], cg.linearOffset(idx, contiguousStrides(batch + [m, n]))))
      }
    }
    return OpKernel(function: f)
  }

  /// numpy's broadcast of two shapes (the verifier already checked they broadcast).
  private func broadcastShape(_ x: [Int], _ y: [Int]) -> [Int] {
    let rank = max(x.count, y.count)
    let px = Array(repeating: 1, count: rank - x.count) + x, py = Array(repeating: 1, count: rank - y.count) + y
    return zip(px, py).map { $0 == 1 ? $1 : $0 }
  }
}
