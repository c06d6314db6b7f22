"""Activation sparsity: correctness against onnxruntime and speed with vs without the pass.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/activation_masks.py \
        --sparrowc .build/release/sparrowc --models DIR/resnet18.mask{0,25,50,75}.onnx \
        [--check] [--bench] [--layers] [--backends llvm,interp] [--threads 1] [--iterations 10]

--check   runs every model through `sparrowc run` on seeded inputs for each backend and
          compares with onnxruntime (max abs error, relative to the output's max).
--bench   `sparrowc bench` each model with -O2 and with -O2 minus fold-activation-masks
          (the same pipeline without the pass); prints a Markdown table and the speedup.
--layers  one masked 3x3 conv (+BN+ReLU) per distinct ResNet-18 3x3 conv shape, at the
          ratio of --ratio, with and without the pass: per-layer speedup.
Models come from Tests/Models/sparrow_models.py and bench/mask_activations.py.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ort.set_default_logger_severity(3)

# -O2 (Passes/PassManager/Pipelines.swift) without fold-activation-masks.
O1 = "remove-identity,simplify-algebra,constant-fold,remove-identity,cse,dce"
O2_WITHOUT_MASKS = (O1 + ",fold-batch-norm,matmul-to-gemm,fold-transpose,fuse-epilogue,"
                    "fuse-horizontal,lower-conv," + O1)


def inputs_of(path):
    model = onnx.load(path, load_external_data=False)
    init = {i.name for i in model.graph.initializer}
    rng = np.random.default_rng(0)
    feeds = {}
    for v in model.graph.input:
        if v.name in init:
            continue
        dims = [d.dim_value or 1 for d in v.type.tensor_type.shape.dim]
        feeds[v.name] = rng.standard_normal(dims).astype(np.float32)
    return feeds


def check(sparrowc, path, backend):
    feeds = inputs_of(path)
    expected = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
    with tempfile.TemporaryDirectory() as d:
        args = [sparrowc, "run", path, "--backend", backend, "--output-dir", d]
        for name, value in feeds.items():
            np.save(os.path.join(d, name + ".in.npy"), value)
            args += ["--input", f"{name}={os.path.join(d, name + '.in.npy')}"]
        subprocess.run(args, check=True, capture_output=True)
        outs = sorted(f for f in os.listdir(d) if not f.endswith(".in.npy"))
        got = [np.load(os.path.join(d, f)) for f in outs]
    worst = 0.0
    for e, g in zip(expected, got):
        worst = max(worst, float(np.max(np.abs(e - g)) / max(1e-6, float(np.max(np.abs(e))))))
    return worst


def bench(sparrowc, path, backend, threads, iterations, passes=None):
    args = [sparrowc, "bench", path, "--backend", backend, "--threads", str(threads),
            "--iterations", str(iterations), "--json"]
    if passes:
        args += ["--passes", passes]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_ms"]


def paired(a, path, backend, iterations):
    """Best medians without and with the pass over alternating rounds (the machine is shared)."""
    off, on = [], []
    for _ in range(a.rounds):
        off.append(bench(a.sparrowc, path, backend, a.threads, iterations, O2_WITHOUT_MASKS))
        on.append(bench(a.sparrowc, path, backend, a.threads, iterations))
    return min(off), min(on)


# (channels, H=W) of ResNet-18's 3x3 stride-1 convs at 224x224, and the stride-2 ones.
RESNET18_3X3 = [(64, 56, 1), (128, 28, 1), (256, 14, 1), (512, 7, 1),
                (64, 56, 2), (128, 28, 2), (256, 14, 2)]


def layer_model(channels, size, stride, ratio, seed=0):
    """x [1, Cin, H, W] -> Conv 3x3 (stride) -> Mul(mask) -> BN -> Relu."""
    cin = channels // stride if stride == 2 else channels
    hin = size * stride
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((channels, cin, 3, 3)) * 0.05).astype(np.float32)
    mask = np.ones(size * size, np.float32)
    mask[rng.permutation(size * size)[: int(round(ratio * size * size))]] = 0
    inits = [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(mask.reshape(1, 1, size, size), "mask"),
             numpy_helper.from_array(np.ones(channels, np.float32), "s"),
             numpy_helper.from_array(np.full(channels, 0.1, np.float32), "t"),
             numpy_helper.from_array(np.zeros(channels, np.float32), "m"),
             numpy_helper.from_array(np.ones(channels, np.float32), "v")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                              strides=[stride, stride]),
             helper.make_node("Mul", ["c", "mask"], ["cm"]),
             helper.make_node("BatchNormalization", ["cm", "s", "t", "m", "v"], ["n"]),
             helper.make_node("Relu", ["n"], ["y"])]
    graph = helper.make_graph(nodes, "masked_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hin, hin])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, size, size])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sparrowc", required=True)
    p.add_argument("--models", nargs="*", default=[])
    p.add_argument("--backends", default="llvm,interp")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--ratio", type=float, default=0.5)
    p.add_argument("--rounds", type=int, default=3, help="alternating off/on runs; the best median counts")
    p.add_argument("--check", action="store_true")
    p.add_argument("--bench", action="store_true")
    p.add_argument("--layers", action="store_true")
    a = p.parse_args()
    if os.environ.get("OPENBLAS_CORETYPE") and (a.bench or a.layers):
        sys.exit("unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for benchmarks (env -u ...)")
    backends = a.backends.split(",")
    if a.check:
        print("| model | " + " | ".join(f"{b} max rel. error" for b in backends) + " |")
        print("|---|" + "---|" * len(backends))
        for m in a.models:
            print(f"| {os.path.basename(m)} | " + " | ".join(f"{check(a.sparrowc, m, b):.2e}" for b in backends) + " |",
                  flush=True)
    if a.bench:
        print("| model | backend | -O2 without the pass (ms) | -O2 (ms) | speedup |")
        print("|---|---|---|---|---|")
        for m in a.models:
            for b in backends:
                off, on = paired(a, m, b, a.iterations)
                print(f"| {os.path.basename(m)} | {b} | {off:.2f} | {on:.2f} | {off / on:.2f}x |", flush=True)
    if a.layers:
        print(f"| conv 3x3 (Cout, HxW out, stride) | backend | without (ms) | with (ms) | speedup at {a.ratio:.0%} |")
        print("|---|---|---|---|---|")
        with tempfile.TemporaryDirectory() as d:
            for c, s, st in RESNET18_3X3:
                path = os.path.join(d, f"conv{c}_{s}_{st}.onnx")
                onnx.save(layer_model(c, s, st, a.ratio), path)
                for b in backends:
                    off, on = paired(a, path, b, a.iterations * 5)
                    print(f"| {c}, {s}x{s}, {st} | {b} | {off:.3f} | {on:.3f} | {off / on:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
