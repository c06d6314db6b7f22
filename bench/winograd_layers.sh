#!/bin/sh
# Winograd vs im2col per 3x3 layer (conv + bias + relu, pad 1, batch 1), 1 thread: each
# layer compiled to a .so three times (--winograd off|f2|f4), timed by a small C driver
# (best of 100 runs), the three variants interleaved, and the error of each vs a float64
# numpy convolution (max |y - ref| / max |ref|).
# Usage: bench/winograd_layers.sh [path/to/sparrowc] [python] [channels_side ...]
S=$(realpath ${1:-.build/release/sparrowc})
PY=${2:-/work/main/.venv/bin/python}
shift 2 2>/dev/null
LAYERS=${*:-"64_56 128_28 256_14 512_7 16_56 32_56 32_28 16_112 64_7 512_4"}
W=$(mktemp -d)
cd $W
cat > layer.py <<'PY'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
c, s = map(int, sys.argv[1].split("_"))
rng = np.random.default_rng(c * 1000 + s)
w = (rng.standard_normal((c, c, 3, 3)) * np.sqrt(2.0 / (9 * c))).astype(np.float32)
b = (rng.standard_normal(c) * 0.1).astype(np.float32)
x = rng.standard_normal((1, c, s, s)).astype(np.float32)
nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["y"])]
v = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, c, s, s])
g = helper.make_graph(nodes, "conv", [v("x")], [v("y")], [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]); m.ir_version = 8
onnx.save(m, "layer.onnx"); np.save("x.npy", x)
xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
ref = sum(np.einsum("oc,nchw->nohw", w[:, :, i, j].astype(np.float64), xp[:, :, i:i + s, j:j + s])
          for i in range(3) for j in range(3))
np.save("ref.npy", np.maximum(ref + b[None, :, None, None], 0))
PY
cat > error.py <<'PY'
import sys, numpy as np
y, ref = np.load(sys.argv[1]).astype(np.float64), np.load("ref.npy")
print(f"{np.abs(y - ref).max() / np.abs(ref).max():.1e}")
PY
cat > time.c <<'PY'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "net.h"
int main(void) {
  size_t n = 1;
  for (int i = 0; i < net_input_info(0)->rank; i++) n *= net_input_info(0)->shape[i];
  float *x = aligned_alloc(64, (n * 4 + 63) / 64 * 64), *y = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
  for (size_t i = 0; i < n; i++) x[i] = (float)(i % 1000) / 1000.0f - 0.5f;
  void *ws = aligned_alloc(64, (net_workspace_size() + 63) / 64 * 64 + 64);
  const void *in[1] = {x}; void *out[1] = {y};
  double best = 1e9;
  for (int i = 0; i < 100; i++) {
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    net_run(in, out, ws, 1);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    if (ms < best) best = ms;
  }
  printf("%.3f", best);
  return 0;
}
PY
echo "| Cin=Cout @ HxW | im2col ms | F(2x2) ms | F(4x4) ms | F(2x2) speedup | F(4x4) speedup | err im2col | err F(2x2) | err F(4x4) | auto |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for layer in $LAYERS; do
  $PY layer.py $layer
  for mode in off f2 f4; do
    $S compile layer.onnx --winograd $mode -o $W/l_$mode.so --header net.h >/dev/null
    cc -O2 time.c -o t_$mode $W/l_$mode.so -Wl,-rpath,$W
    $S run layer.onnx --backend llvm --winograd $mode --input x=x.npy --output-dir o_$mode >/dev/null
  done
  best_off=999; best_f2=999; best_f4=999
  for round in 1 2 3; do
    for mode in off f2 f4; do
      t=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./t_$mode)
      eval "b=\$best_$mode"
      eval "best_$mode=$(echo "$t $b" | awk '{print ($1 < $2) ? $1 : $2}')"
    done
  done
  auto=$($S compile layer.onnx --emit llvm-ir -o /dev/null --print-ir-after lower-conv 2>&1 | grep -o 'algorithm = "[a-z0-9]*"' | head -1 | cut -d'"' -f2)
  c=${layer%_*}; s=${layer#*_}
  echo "| $c @ ${s}x$s | $best_off | $best_f2 | $best_f4 | $(echo "$best_off $best_f2" | awk '{printf "%.2fx", $1 / $2}') | $(echo "$best_off $best_f4" | awk '{printf "%.2fx", $1 / $2}') | $($PY error.py o_off/y.npy) | $($PY error.py o_f2/y.npy) | $($PY error.py o_f4/y.npy) | $auto |"
done
rm -rf $W
