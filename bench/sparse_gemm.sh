#!/bin/sh
# Sparse GEMM vs Sparrow's dense generated GEMM (weight left), 1 thread, same process.
# Usage: bench/sparse_gemm.sh [path/to/sparrowc]
S=${1:-.build/release/sparrowc}
for shape in "64 3136 576" "256 196 2304" "512 49 4608" "768 128 768" "3072 128 768"; do
  for p in 2:4 1:4 2:8 b4x4-90 u80; do
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $S bench-sparse-gemm $shape --pattern $p --block-rows 1,2,4 --repetitions 5
  done
done
