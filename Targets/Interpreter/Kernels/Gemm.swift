//===--- Gemm.swift - gemm, matmul and einsum ----------------------------===//
//
// f32 products go through OpenBLAS `sgemm`; other numeric types through `naiveGemm`
// (f16 is widened to f32 first).
// matmul broadcasts batch dimensions (numpy rules) and promotes rank-1 operands; einsum
// lives in Einsum.swift and ends in the same batched product.

import SparrowIR

func evaluateGemm(_ k: KernelArgs) throws -> [TensorRef] {
  // f16 operands are multiplied in f32 and the result rounded back once.
  try computingInFloat(k) { k in
    switch k.kind {
    case .gemm: return [try gemm(k)]
    case .matmul: return [try matmul(k)]
    case .einsum: return [try einsum(k.allocatingResults).ref]
    default: preconditionFailure("\(k.kind) is not a gemm op")
    }
  }
}

// MARK: - The row-major product every kernel here ends in

/// C[m x n] = alpha * op(A) * op(B) + beta * C for any numeric element type.
func gemm<T: KernelNumber>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
                           a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                           beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
  if T.self == Float.self && k > 0 {
    // (k == 0 takes the loop below: BLAS rejects a zero leading dimension.)
    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha as! Float,
          a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda: lda,
          b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb: ldb,
          beta: beta as! Float, c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self),
          ldc: ldc)
    return
  }
  naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// The plain triple loop (f64 and integers). `beta == 0` ignores C's old contents.
func naiveGemm<T: KernelNumber>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
                                a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
  for i in 0..<m {
    for j in 0..<n {
      var acc = T.zero
      for p in 0..<k {
        let av = transA ? a[p * lda + i] : a[i * lda + p]
        let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
        acc = T.multiplyAdd(acc, av, bv)
      }
      let old = c[i * ldc + j]
      let scaled = T.multiplyAdd(T.zero, alpha, acc)
      c[i * ldc + j] = beta == T.zero ? scaled : T.multiplyAdd(scaled, beta, old)
    }
  }
}

private func numberType(_ k: KernelArgs) throws -> any KernelNumber.Type {
  guard let t = kernelNumberType(k.inputs[0].element) else {
    throw k.unsupported("element type \(k.inputs[0].element)")
  }
  return t
}

// MARK: - gemm

private func gemm(_ k: KernelArgs) throws -> TensorRef {
  let t = try numberType(k)
  // f32 named statically so the kernel is specialized for it.
  return k.inputs[0].element == .f32 ? gemm(k, Float.self) : gemm(k, t)
}

private func gemm<T: KernelNumber>(_ k: KernelArgs, _: T.Type) -> TensorRef {
  let a = k.inputs[0], b = k.inputs[1]
  let transA = k.attributes.bool("transA"), transB = k.attributes.bool("transB")
  let alpha = T(converting: Double(k.attributes.float("alpha")))
  let betaValue = Double(k.attributes.float("beta"))
  let out = k.type()
  let (m, n) = (out.shape[0], out.shape[1])
  let kk = transA ? a.shape[0] : a.shape[1]
  return k.result(of: T.self, zeroed: true) { c in
    var beta = T.zero
    if k.inputs.count == 3 && betaValue != 0 {
      // C broadcast into the output, scaled by beta, then accumulated onto.
      let bc = k.inputs[2]
      let view = StridedView(shape: [m, n], strides: stridesBroadcasting(bc.shape, to: [m, n]))
      bc.withElementPointer(of: T.self) { copyStrided($0, view, to: c) }
      beta = T(converting: betaValue)
    }
    a.withElementPointer(of: T.self) { pa in
      b.withElementPointer(of: T.self) { pb in
        gemm(transA: transA, transB: transB, m: m, n: n, k: kk, alpha: alpha, a: pa,
             lda: a.shape[1], b: pb, ldb: b.shape[1], beta: beta, c: c, ldc: n)
      }
    }
  }
}

// MARK: - matmul

private func matmul(_ k: KernelArgs) throws -> TensorRef {
  let t = try numberType(k)
  let (a, b, p) = (k.inputs[0], k.inputs[1], k.destination(0))
  if a.element == .f32 { return matmul(a, b, as: k.type(), Float.self, into: p) }
  return matmul(a, b, as: k.type(), t, into: p)
}

/// numpy matmul: rank-1 operands are promoted (and the added axis dropped from the
/// result), batch dimensions broadcast. Written at `destination` when given.
func matmul<T: KernelNumber>(_ a: some TensorBytes, _ b: some TensorBytes, as out: TensorType, _: T.Type,
                             into destination: UnsafeMutableRawPointer? = nil) -> TensorRef {
  let sa = a.shape.count == 1 ? [1] + a.shape : a.shape
  let sb = b.shape.count == 1 ? b.shape + [1] : b.shape
  let m = sa[sa.count - 2], kk = sa[sa.count - 1], n = sb[sb.count - 1]
  let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
  if out.count == 0 { return resultRef(out, of: T.self, at: destination) { _ in } }
  guard let batch = try? broadcastShapes([batchA, batchB]) else {
    preconditionFailure("matmul batch dimensions were checked by the shape rule")
  }
  let batchCount = batch.reduce(1, *)
  return resultRef(out, of: T.self, at: destination, zeroed: true) { c in
    a.withElementPointer(of: T.self) { pa in
      b.withElementPointer(of: T.self) { pb in
        if batchB.reduce(1, *) == 1 && batchA.reduce(1, *) == batchCount {
          // B is shared by every batch and A holds all of them: one product with the
          // batches stacked as rows.
          gemm(transA: false, transB: false, m: batchCount * m, n: n, k: kk, alpha: T(converting: 1),
               a: pa, lda: kk, b: pb, ldb: n, beta: T.zero, c: c, ldc: n)
          return
        }
        let strideA = stridesBroadcasting(batchA, to: batch), strideB = stridesBroadcasting(batchB, to: batch)
        var index = [Int](repeating: 0, count: batch.count)
        for i in 0..<batchCount {
          var offA = 0, offB = 0
          for (axis, x) in index.enumerated() { offA += x * strideA[axis]; offB += x * strideB[axis] }
          gemm(transA: false, transB: false, m: m, n: n, k: kk, alpha: T(converting: 1),
               a: pa + offA * m * kk, lda: kk, b: pb + offB * kk * n, ldb: n, beta: T.zero,
               c: c + i * m * n, ldc: n)
          advance(&index, within: batch)
        }
      }
    }
  }
}
