#!/bin/sh
# Generated GEMM vs OpenBLAS cblas_sgemm, 1 thread, min of N runs each, same process.
# Usage: bench/gemm_vs_openblas.sh [path/to/sparrowc]   (a debug build is fine: the timed
# code is JIT-compiled LLVM output and OpenBLAS, not Swift).
SPARROWC=${1:-.build/debug/sparrowc}
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$SPARROWC" bench-gemm "$@"; }
for shape in "64 3136 576" "256 196 2304" "512 49 4608" "768 128 768" "3072 128 768"; do
  run $shape --weight left
done
for shape in "128 768 768" "128 3072 768" "49 512 4608"; do
  run $shape --weight right
done
