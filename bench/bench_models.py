"""Latency of sparrowc vs onnxruntime on the model zoo, as ratios, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      python bench/bench_models.py --sparrowc .build/release/sparrowc [--models resnet50,bert] \
        [--threads 1] [--iterations 10] [--backends interp] [--statistic median|min] [--profile]

--profile prints, per model, onnxruntime's own profile (SessionOptions.enable_profiling)
summed per op type next to `sparrowc bench --profile` summed per kernel kind, so the two
engines' time can be compared op family by op family.

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


def ort_time(path, model, threads, iterations, statistic, warmup=2):
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
    return float(np.min(times) if statistic == "min" else np.median(times))


def kind_of(op_type, args):
    """The op type, with convolutions split by window as `sparrowc bench --profile` does
    (read from the node's input and output shapes: ORT renames the nodes it fuses)."""
    if op_type not in ("Conv", "FusedConv"):
        return op_type
    try:
        shapes = [list(d.values())[0] for d in args["input_type_shape"]]
        out = list(args["output_type_shape"][0].values())[0]
        x, w = shapes[0], shapes[1]
        window = f"{w[2]}x{w[3]}"
        if x[1] != w[1]:
            return f"conv depthwise {window}" if w[1] == 1 else f"conv grouped {window}"
        return f"conv {window}/s{round(x[2] / out[2])}"
    except (KeyError, IndexError, ZeroDivisionError):
        return op_type


def ort_profile(path, model, threads, iterations):
    """Mean ms per run of each onnxruntime op type, from its JSON profile."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_profiling = True
    opts.profile_file_prefix = os.path.join(os.path.dirname(path), "ort_profile")
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    feeds = seeded_inputs(model)
    for _ in range(iterations):
        sess.run(None, feeds)
    trace = sess.end_profiling()
    with open(trace) as f:
        events = json.load(f)
    os.remove(trace)
    by_type = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            t = kind_of(e["args"]["op_name"], e["args"])
            by_type[t] = by_type.get(t, 0.0) + e["dur"] / 1e3 / iterations
    return sorted(by_type.items(), key=lambda kv: -kv[1])


def print_profiles(sparrowc, path, model, threads, iterations):
    ort_types = ort_profile(path, model, threads, iterations)
    out = subprocess.run([sparrowc, "bench", path, "--backend", "llvm", "--threads", str(threads),
                          "--iterations", str(iterations), "--profile", "--json"],
                         capture_output=True, text=True, check=True)
    kernels = json.loads(out.stdout)["profile"]
    by_kind = {}
    for k in kernels:
        kind = k["family"]
        by_kind[kind] = by_kind.get(kind, 0.0) + k["ms"]
    ort_total, sp_total = sum(v for _, v in ort_types), sum(by_kind.values())
    print(f"\n{os.path.basename(path)}: onnxruntime {ort_total:.2f} ms in kernels, sparrowc llvm {sp_total:.2f} ms")
    print("| onnxruntime op | ms | share | sparrowc kind | ms | share |")
    print("|---|---|---|---|---|---|")
    sp = sorted(by_kind.items(), key=lambda kv: -kv[1])
    for i in range(max(len(ort_types), len(sp))):
        a = ort_types[i] if i < len(ort_types) else ("", None)
        b = sp[i] if i < len(sp) else ("", None)
        cell = lambda kv, total: (f"{kv[0]} | {kv[1]:.2f} | {100 * kv[1] / total:.1f}%" if kv[1] is not None
                                  else " | | ")
        print(f"| {cell(a, ort_total)} | {cell(b, sp_total)} |")


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
    ap.add_argument("--statistic", choices=["median", "min"], default="median",
                    help="min is steadier than the median on a loaded machine")
    ap.add_argument("--profile", action="store_true",
                    help="also print per-op-type profiles of onnxruntime and sparrowc llvm")
    a = ap.parse_args()
    if os.environ.get("OPENBLAS_CORETYPE") and not a.allow_coretype:
        sys.exit("unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (env -u ...): they halve OpenBLAS speed")
    os.makedirs(a.workdir, exist_ok=True)
    print(f"| model ({a.statistic}) | onnxruntime ms | " + " | ".join(f"sparrowc {b} ms | {b} / ort" for b in a.backends.split(",")) + " |")
    print("|---|---|" + "---|---|" * len(a.backends.split(",")))
    for name in a.models.split(","):
        path = os.path.join(a.workdir, f"{name}.onnx")
        if not os.path.exists(path):
            import onnx
            onnx.save(sparrow_models.MODELS[name](), path)
        import onnx
        model = onnx.load(path)
        base = ort_time(path, model, a.threads, a.iterations, a.statistic)
        cells = [f"{base:.2f}"]
        for backend in a.backends.split(","):
            r = sparrow_median(a.sparrowc, path, backend, a.threads, a.iterations)
            ms = r["min_ms"] if a.statistic == "min" else r["median_ms"]
            cells += [f"{ms:.2f}", f"{ms / base:.2f}x"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
        if a.profile:
            print_profiles(a.sparrowc, path, model, a.threads, a.iterations)


if __name__ == "__main__":
    main()
