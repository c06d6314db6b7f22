#!/bin/sh
# Sparse GEMM vs Sparrow's dense generated GEMM, 1 thread, same process, interleaved.
# Conv-like shapes with the weight on the left (W [M, K] · X [K, N]); the transformer
# shapes (N = 128 tokens) with the weight on the right as gemm layers run them
# (Y [N, M] = X [N, K] · W^T, `--transposed`). N:M and unstructured weights use hybrid
# row blocks (R = 2; the sweep shows 4 as well) with N:M K blocks of 96, 4x4 blocks the
# shared (union) arrangement reading X in place (--no-packs; the weight-right form always
# packs): what `sparsify` emits.
# Usage: bench/sparse_gemm.sh [path/to/sparrowc]
S=${1:-.build/release/sparrowc}
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$S" bench-sparse-gemm "$@" --repetitions 5; }
for shape in "64 3136 576" "256 196 2304" "512 49 4608" "768 128 768 --transposed" "3072 128 768 --transposed"; do
  for p in 2:4 1:4 2:8; do
    run $shape --pattern $p --block-rows 2,4 --arrangements hybrid --k-block 96
  done
  run $shape --pattern u80 --block-rows 2,4 --arrangements hybrid
  run $shape --pattern b4x4-90 --block-rows 4 --arrangements shared --no-packs
done
