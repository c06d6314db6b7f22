"""Activation sparsity: correctness against onnxruntime and speed with vs without the pass.

One command (writes the models into --workdir when missing, checks, times, prints ratios):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/activation_masks.py \
        --sparrowc .build/release/sparrowc [--workdir /tmp/actmask] [--rounds 3]

--models   .onnx files instead (default: WORKDIR/resnet18.mask{0,25,50,75}.onnx, from
           Tests/Models/sparrow_models.py and bench/mask_activations.py)
--check    only the check: every model through `sparrowc run` on seeded inputs for each
           backend (--backends, default llvm,interp) against onnxruntime (max abs error
           relative to the output's max); fails when above 1e-4
--bench    only the timing, in interleaved rounds on the same file (1 thread): -O2
           without fold-activation-masks (the mask stays a mul: the honest baseline;
           `--sparsity off` does NOT disable the pass, it only sets the weight formats),
           -O2, and onnxruntime; the best median of each; prints the speedup of the pass
           and onnxruntime's time over -O2's
--layers   one masked 3x3 conv (+BN+ReLU) per distinct ResNet-18 3x3 conv shape, at the
           ratio of --ratio, with and without the pass: per-layer speedup
With none of --check/--bench/--layers: --check (llvm) then --bench.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sparse_models import OrtSession  # noqa: E402

ort.set_default_logger_severity(3)


def o2_without_masks(sparrowc):
    """-O2 as `sparrowc passes` lists it, without fold-activation-masks."""
    out = subprocess.run([sparrowc, "passes"], check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("-O2: "))
    return ",".join(p for p in line[len("-O2: "):].split(",") if p != "fold-activation-masks")


def make_models(workdir, ratios=(0, 25, 50, 75)):
    """WORKDIR/resnet18.mask<r>.onnx, written when missing."""
    os.makedirs(workdir, exist_ok=True)
    paths = [os.path.join(workdir, f"resnet18.mask{r}.onnx") for r in ratios]
    if not all(os.path.exists(p) for p in paths):
        base = os.path.join(workdir, "resnet18.onnx")
        root = os.path.join(HERE, "..")
        subprocess.run([sys.executable, os.path.join(root, "Tests", "Models", "sparrow_models.py"), workdir, "resnet18"],
                       check=True, capture_output=True)
        subprocess.run([sys.executable, os.path.join(HERE, "mask_activations.py"), base, workdir,
                        "--ratios", ",".join(str(r) for r in ratios if r)], check=True, capture_output=True)
    return paths


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


def paired(a, path, backend, iterations, reference=False):
    """Best medians without and with the pass (and onnxruntime's) over alternating rounds
    (the machine is shared), and every round's speedup."""
    off, on, ref = [], [], []
    session = OrtSession(path, a.threads) if reference else None
    for _ in range(a.rounds):
        off.append(bench(a.sparrowc, path, backend, a.threads, iterations, a.without))
        on.append(bench(a.sparrowc, path, backend, a.threads, iterations))
        if session:
            ref.append(session.median(iterations))
    return min(off), min(on), min(ref) if ref else float("nan"), [x / y for x, y in zip(off, on)]


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
    p.add_argument("--workdir", default="/tmp/actmask")
    p.add_argument("--backends", default=None, help="default: llvm (llvm,interp with --check)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--ratio", type=float, default=0.5)
    p.add_argument("--rounds", type=int, default=3, help="alternating off/on runs; the best median counts")
    p.add_argument("--check", action="store_true")
    p.add_argument("--bench", action="store_true")
    p.add_argument("--layers", action="store_true")
    a = p.parse_args()
    if not (a.check or a.bench or a.layers):
        a.check = a.bench = True
        a.backends = a.backends or "llvm"
    if os.environ.get("OPENBLAS_CORETYPE") and (a.bench or a.layers):
        sys.exit("unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for benchmarks (env -u ...)")
    backends = (a.backends or ("llvm,interp" if a.check else "llvm")).split(",")
    models = a.models or make_models(a.workdir)
    a.without = o2_without_masks(a.sparrowc)
    failed = False
    if a.check:
        print("| model | " + " | ".join(f"{b} max rel. error vs onnxruntime" for b in backends) + " |")
        print("|---|" + "---|" * len(backends))
        for m in models:
            errors = [check(a.sparrowc, m, b) for b in backends]
            failed |= any(e > 1e-4 for e in errors)
            print(f"| {os.path.basename(m)} | " + " | ".join(f"{e:.2e}" for e in errors) + " |", flush=True)
    if a.bench:
        print(f"\n{a.threads} thread(s), best median of {a.rounds} interleaved rounds of {a.iterations} runs; "
              "without = -O2 minus fold-activation-masks (the mask stays a mul)")
        print("| model | backend | without (ms) | -O2 (ms) | onnxruntime (ms) | speedup (rounds) | onnxruntime / -O2 |")
        print("|---|---|---|---|---|---|---|")
        for m in models:
            for b in backends:
                off, on, ref, rounds = paired(a, m, b, a.iterations, reference=True)
                spread = ", ".join(f"{r:.2f}" for r in rounds)
                print(f"| {os.path.basename(m)} | {b} | {off:.2f} | {on:.2f} | {ref:.2f} | {off / on:.2f}x ({spread}) "
                      f"| {ref / on:.2f}x |", flush=True)
    if a.layers:
        print(f"| conv 3x3 (Cout, HxW out, stride) | backend | without (ms) | with (ms) | speedup at {a.ratio:.0%} |")
        print("|---|---|---|---|---|")
        with tempfile.TemporaryDirectory() as d:
            for c, s, st in RESNET18_3X3:
                path = os.path.join(d, f"conv{c}_{s}_{st}.onnx")
                onnx.save(layer_model(c, s, st, a.ratio), path)
                for b in backends:
                    off, on, _, _ = paired(a, path, b, a.iterations * 5)
                    print(f"| {c}, {s}x{s}, {st} | {b} | {off:.3f} | {on:.3f} | {off / on:.2f}x |", flush=True)
    if failed:
        sys.exit("a model differs from onnxruntime by more than 1e-4 (relative to the output's max)")


if __name__ == "__main__":
    main()
