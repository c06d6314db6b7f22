"""The fused attention op (fuse-attention in -O2) against the chain it replaces, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/attention_fusion.py \
        --sparrowc .build/release/sparrowc [--seq 128] [--rounds 5] [--iterations 10] [--threads 1]

Builds the BERT-like encoder of Tests/Models/sparrow_models.py (4 layers, d 768, 12 heads),
checks that fuse-attention fires on every layer (`dump-ir -O2`) and that the LLVM
target's outputs with and without the pass match onnxruntime, then times
`sparrowc bench --backend llvm` with -O2 and with -O2 minus fuse-attention in
interleaved rounds (with, without, with, ...) and prints the median of the per-round
medians and the per-round ratios.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Models"))
import sparrow_models  # noqa: E402


def o2_without_fusion(sparrowc):
    out = subprocess.run([sparrowc, "passes"], capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("-O2: "))
    entries = [e for e in line[len("-O2: "):].split(",") if e != "fuse-attention"]
    return ["--passes", ",".join(entries)]


def median_ms(sparrowc, model, pipeline, threads, iterations):
    out = subprocess.run([sparrowc, "bench", model, "--backend", "llvm", *pipeline, "--threads", str(threads),
                          "--iterations", str(iterations), "--warmup", "2", "--json"],
                         capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout)["median_ms"])


def check_outputs(sparrowc, model, pipeline, x, reference, tmp):
    np.save(os.path.join(tmp, "x.npy"), x)
    out_dir = os.path.join(tmp, "out")
    subprocess.run([sparrowc, "run", model, "--backend", "llvm", *pipeline, "--input", f"embeddings={tmp}/x.npy",
                    "--output-dir", out_dir], check=True, capture_output=True)
    (name,) = os.listdir(out_dir)  # the one output
    y = np.load(os.path.join(out_dir, name))
    return float(np.max(np.abs(y - reference)) / np.max(np.abs(reference)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    model = os.path.join(tmp, "bert.onnx")
    onnx.save(sparrow_models.bert(seq=a.seq), model)
    with_pass, without_pass = [], o2_without_fusion(a.sparrowc)

    ir = subprocess.run([a.sparrowc, "dump-ir", model, "-O2"], capture_output=True, text=True, check=True).stdout
    fused, softmaxes = len(re.findall(r"= attention ", ir)), len(re.findall(r"= softmax ", ir))
    print(f"-O2: {fused} attention ops, {softmaxes} softmax ops left")
    if fused != 4 or softmaxes != 0:
        raise SystemExit("fuse-attention did not fire on every layer")

    x = np.random.default_rng(0).standard_normal((1, a.seq, 768)).astype(np.float32)
    reference = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"embeddings": x})[0]
    for label, pipeline in (("with", with_pass), ("without", without_pass)):
        err = check_outputs(a.sparrowc, model, pipeline, x, reference, tmp)
        print(f"{label} fuse-attention: max |sparrow - onnxruntime| / max |onnxruntime| = {err:.2e}")
        if err > 1e-4:
            raise SystemExit(f"outputs {label} the pass differ from onnxruntime")

    times = {"with": [], "without": []}
    for _ in range(a.rounds):
        for label, pipeline in (("with", with_pass), ("without", without_pass)):
            times[label].append(median_ms(a.sparrowc, model, pipeline, a.threads, a.iterations))
    ratios = [wo / w for w, wo in zip(times["with"], times["without"])]
    print(f"| BERT-like seq {a.seq}, {a.threads} thread(s) | with fuse-attention | without | speedup |")
    print("|---|---|---|---|")
    print(f"| median of {a.rounds} rounds (ms) | {statistics.median(times['with']):.1f} | "
          f"{statistics.median(times['without']):.1f} | {statistics.median(ratios):.3f}x |")
    print("per-round speedups: " + ", ".join(f"{r:.3f}" for r in ratios))


if __name__ == "__main__":
    main()
