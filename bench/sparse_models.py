"""End-to-end weight sparsity: pruned models with `--sparsity auto` vs `off` vs onnxruntime.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/sparse_models.py \
        --sparrowc .build/release/sparrowc [--models resnet50,bert] [--patterns 2:4,1:4,...] \
        [--backend llvm] [--rounds 3] [--iterations 10] [--workdir DIR]

Models are Tests/Models/sparrow_models.py names (written into the work folder) or .onnx
paths; each is pruned with bench/prune.py in every layer where the pattern fits. For every
variant the three engines run on the same file in interleaved rounds (off, auto,
onnxruntime, off, auto, ...; 1 thread), and the best median of each counts: the machine is
shared, so only ratios from one run mean anything. Prints a Markdown table with the
speedup of `auto` over `off` next to the issue's floor, and onnxruntime / auto.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Models"))
import prune  # noqa: E402
import sparrow_models  # noqa: E402
from check_models import seeded_inputs  # noqa: E402

ort.set_default_logger_severity(3)

PATTERNS = "2:4,1:4,2:8,u80,u90,b4x4-80,b4x4-90"
# Issue 6's end-to-end floors (auto over off, same model).
FLOORS = {"2:4": 1.2, "1:4": 1.8, "2:8": 1.8, "u80": 1.8, "b4x4-90": 3.5}


def sparrow_median(sparrowc, path, backend, sparsity, threads, iterations):
    """(median ms, compile s) from `sparrowc bench --json`."""
    out = subprocess.run([sparrowc, "bench", path, "--backend", backend, "--sparsity", sparsity,
                          "--threads", str(threads), "--iterations", str(iterations), "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"sparrowc bench {path} --sparsity {sparsity} failed: {out.stderr.strip()[:400]}")
    r = json.loads(out.stdout)
    return r["median_ms"], r.get("compile_ms", float("nan")) / 1e3


class OrtSession:
    def __init__(self, path, threads):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        self.feeds = seeded_inputs(onnx.load(path, load_external_data=False))

    def median(self, iterations, warmup=2):
        for _ in range(warmup):
            self.sess.run(None, self.feeds)
        times = []
        for _ in range(iterations):
            t0 = time.perf_counter()
            self.sess.run(None, self.feeds)
            times.append((time.perf_counter() - t0) * 1e3)
        return float(np.median(times))


def model_path(name, workdir):
    if name.endswith(".onnx"):
        return name
    path = os.path.join(workdir, f"{name}.onnx")
    if not os.path.exists(path):
        onnx.save(sparrow_models.MODELS[name](), path)
    return path


def variant(path, pattern, workdir):
    stem = os.path.splitext(os.path.basename(path))[0]
    out = os.path.join(workdir, f"{stem}.{pattern.replace(':', 'of')}.onnx")
    if not os.path.exists(out):
        model = onnx.load(path)
        prune.prune_model(model, pattern)
        onnx.save(model, out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--models", default="resnet50,bert")
    ap.add_argument("--patterns", default=PATTERNS)
    ap.add_argument("--backend", default="llvm")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--workdir", default="build/sparse-models")
    ap.add_argument("--allow-coretype", action="store_true")
    a = ap.parse_args()
    if (os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE")) and not a.allow_coretype:
        sys.exit("unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (env -u ...): they halve OpenBLAS speed")
    os.makedirs(a.workdir, exist_ok=True)
    print(f"{a.backend} backend, {a.threads} thread(s), best median of {a.rounds} interleaved rounds "
          f"x {a.iterations} iterations\n")
    print("| model | variant | off ms | auto ms | onnxruntime ms | auto vs off | floor | ort / auto | compile off / auto s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in a.models.split(","):
        base = model_path(name, a.workdir)
        stem = os.path.splitext(os.path.basename(base))[0]
        for pattern in a.patterns.split(","):
            path = variant(base, pattern, a.workdir)
            session = OrtSession(path, a.threads)
            off, auto, ref, compile_off, compile_auto = [], [], [], 0.0, 0.0
            for _ in range(a.rounds):
                ms, compile_off = sparrow_median(a.sparrowc, path, a.backend, "off", a.threads, a.iterations)
                off.append(ms)
                ms, compile_auto = sparrow_median(a.sparrowc, path, a.backend, "auto", a.threads, a.iterations)
                auto.append(ms)
                ref.append(session.median(a.iterations))
            o, s, r = min(off), min(auto), min(ref)
            floor = FLOORS.get(pattern)
            print(f"| {stem} | {pattern} | {o:.2f} | {s:.2f} | {r:.2f} | {o / s:.2f}x | "
                  f"{'-' if floor is None else f'{floor}x'} | {r / s:.2f}x | {compile_off:.1f} / {compile_auto:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
