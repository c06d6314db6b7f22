"""int8 inference: Sparrow int8 vs Sparrow fp32 vs onnxruntime int8 vs OpenVINO int8.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/int8_models.py \
        --sparrowc .build/release/sparrowc [--models resnet50,bert,yolo] [--rounds 3] \
        [--iterations 10] [--workdir DIR]

Each model (Tests/Models/sparrow_models.py) is written in fp32 and quantized with
onnxruntime's quantize_static (QDQ, per-channel int8 weights, uint8 activations; seeded
calibration inputs, as Tests/Models/check_int8.py does). 1 thread. The engines run in
interleaved rounds on the same files (Sparrow int8, Sparrow fp32, onnxruntime int8,
OpenVINO int8, then again), and the best median of each counts: the machine is shared,
so only ratios from one run mean anything. Sparrow runs -O2 (fold-qdq turns the QDQ
chains into qconv/qmatmul). Prints the CPU and a Markdown table with the ratios.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Models"))
import check_int8  # noqa: E402
import sparrow_models  # noqa: E402
from check_models import seeded_inputs  # noqa: E402

ort.set_default_logger_severity(3)

MODELS = {
    "resnet50": lambda: sparrow_models.resnet(50),
    "resnet18": lambda: sparrow_models.resnet(18),
    "bert": sparrow_models.bert,
    "yolo": lambda: sparrow_models.yolo(image=320),
}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
                    isa = "avx512vnni" if "avx512_vnni" in flags else "avx512" if "avx512f" in flags else "avx2"
                    return f"{name} ({isa})"
    except OSError:
        pass
    return platform.processor()


def sparrow_median(sparrowc, path, iterations):
    out = subprocess.run([sparrowc, "bench", path, "--backend", "llvm", "--threads", "1",
                          "--iterations", str(iterations), "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"sparrowc bench {path} failed: {out.stderr.strip()[:400]}")
    return json.loads(out.stdout)["median_ms"]


def timed(run, iterations, warmup=2):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def ort_runner(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    feeds = seeded_inputs(onnx.load(path, load_external_data=False))
    return lambda: sess.run(None, feeds)


def openvino_runner(path):
    try:
        import openvino as ov
    except ImportError:
        return None
    core = ov.Core()
    compiled = core.compile_model(path, "CPU", {"INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1})
    request = compiled.create_infer_request()
    feeds = seeded_inputs(onnx.load(path, load_external_data=False))
    return lambda: request.infer(feeds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--models", default="resnet50,bert,yolo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--workdir", default="build/int8-models")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    print(f"CPU: {cpu_name()}, 1 thread, best median of {a.rounds} interleaved rounds (ms)\n")
    rows = []
    for name in a.models.split(","):
        int8 = check_int8.quantized_model(name, MODELS[name], a.workdir)
        fp32 = os.path.join(a.workdir, f"{name}.onnx")
        ort_run, ov_run = ort_runner(int8), openvino_runner(int8)
        best = {}
        for _ in range(a.rounds):
            for engine, measure in [("sparrow int8", lambda: sparrow_median(a.sparrowc, int8, a.iterations)),
                                    ("sparrow fp32", lambda: sparrow_median(a.sparrowc, fp32, a.iterations)),
                                    ("onnxruntime int8", lambda: timed(ort_run, a.iterations)),
                                    ("openvino int8", lambda: timed(ov_run, a.iterations) if ov_run else float("nan"))]:
                best[engine] = min(best.get(engine, float("inf")), measure())
        rows.append((name, best))
        print(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in best.items()), flush=True)
    print("\n| model | Sparrow int8 | Sparrow fp32 | onnxruntime int8 | OpenVINO int8 | fp32 / int8 | "
          "ORT / Sparrow int8 | OpenVINO / Sparrow int8 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, b in rows:
        s = b["sparrow int8"]
        print(f"| {name} | {s:.2f} | {b['sparrow fp32']:.2f} | {b['onnxruntime int8']:.2f} | {b['openvino int8']:.2f} | "
              f"{b['sparrow fp32'] / s:.2f}x | {b['onnxruntime int8'] / s:.2f}x | {b['openvino int8'] / s:.2f}x |")


if __name__ == "__main__":
    main()
