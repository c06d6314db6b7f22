//===--- BLAS.swift - the OpenBLAS entry points the kernels use ----------===//

import COpenBLAS

func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(max(n, 1))) }

/// C[m x n] = alpha * op(A) * op(B) + beta * C, row-major, with leading dimensions.
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
  if m == 0 || n == 0 { return }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
              blasint(ldc))
}
