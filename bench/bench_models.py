"""Latency of sparrowc vs onnxruntime on the model zoo, as ratios, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      python bench/bench_models.py --sparrowc .build/release/sparrowc [--models resnet50,bert] \
        [--threads 1] [--iterations 10] [--backends interp]

OPENBLAS_CORETYPE=Haswell (set in this environment) halves OpenBLAS speed; the script
refuses to run with it set unless --allow-coretype is given. Prints a Markdown table
for bench/RESULTS.md: median ms per engine and the ratio sparrowc / onnxruntime.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Models"))
import sparrow_models  # noqa: E402
from check_models import seeded_inputs  # noqa: E402

ort.set_default_logger_severity(3)


def ort_median(path, model, threads, iterations, warmup=2):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    feeds = seeded_inputs(model)
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def sparrow_median(sparrowc, path, backend, threads, iterations):
    out = subprocess.run([sparrowc, "bench", path, "--backend", backend, "--threads", str(threads),
                          "--iterations", str(iterations), "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--models", default="resnet50,mobilenet,yolo,bert")
    ap.add_argument("--backends", default="interp")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--workdir", default="build/bench-models")
    ap.add_argument("--allow-coretype", action="store_true")
    a = ap.parse_args()
    if os.environ.get("OPENBLAS_CORETYPE") and not a.allow_coretype:
        sys.exit("unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (env -u ...): they halve OpenBLAS speed")
    os.makedirs(a.workdir, exist_ok=True)
    print(f"| model | onnxruntime ms | " + " | ".join(f"sparrowc {b} ms | {b} / ort" for b in a.backends.split(",")) + " |")
    print("|---|---|" + "---|---|" * len(a.backends.split(",")))
    for name in a.models.split(","):
        path = os.path.join(a.workdir, f"{name}.onnx")
        if not os.path.exists(path):
            import onnx
            onnx.save(sparrow_models.MODELS[name](), path)
        import onnx
        model = onnx.load(path)
        base = ort_median(path, model, a.threads, a.iterations)
        cells = [f"{base:.2f}"]
        for backend in a.backends.split(","):
            r = sparrow_median(a.sparrowc, path, backend, a.threads, a.iterations)
            cells += [f"{r['median_ms']:.2f}", f"{r['median_ms'] / base:.2f}x"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
