"""NHWC vs NCHW convs (choose-conv-layout) on the LLVM target, end to end and per layer.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/conv_layout.py \
        --sparrowc .build/release/sparrowc /tmp/sm/resnet50.onnx /tmp/sm/mobilenet.onnx ... \
        [--rounds 3] [--iterations 10] [--layouts "nchw,nhwc,nchw --winograd off,nhwc --winograd off"]

For each model, `sparrowc bench --backend llvm --threads 1 --profile --json --conv-layout L`
runs in interleaved rounds (nchw, nhwc, nchw, nhwc ...); the best median of each layout
counts (the machine is shared: only ratios from one run mean anything). A variant is a
layout optionally followed by more sparrowc flags (e.g. "nhwc --winograd off"). Prints the
end-to-end ratio nhwc/nchw and, per op family (conv 1x1/s1, conv 3x3/s1, transpose ...),
the summed kernel time of each layout and their ratio.
"""
import argparse
import json
import os
import subprocess
from collections import defaultdict


def bench(sparrowc, model, variant, iterations):
    layout, *extra = variant.split()
    cmd = [sparrowc, "bench", model, "--backend", "llvm", "--threads", "1", "--iterations", str(iterations),
           "--profile", "--json", "--conv-layout", layout] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def families(profile):
    sums = defaultdict(float)
    for k in profile:
        sums[k["family"]] += k["ms"]
    return sums


def main():
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="+")
    p.add_argument("--sparrowc", default=".build/release/sparrowc")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--layouts", default="nchw,nhwc")
    a = p.parse_args()
    layouts = a.layouts.split(",")
    for model in a.models:
        best = {}
        for _ in range(a.rounds):
            for layout in layouts:
                r = bench(a.sparrowc, model, layout, a.iterations)
                if layout not in best or r["median_ms"] < best[layout]["median_ms"]:
                    best[layout] = r
        base = best[layouts[0]]
        name = os.path.basename(model)
        print(f"## {name}")
        for layout in layouts[1:]:
            print(f"end to end {layout}/{layouts[0]}: {best[layout]['median_ms'] / base['median_ms']:.3f}")
        fams = [families(best[l]["profile"]) for l in layouts]
        total0 = sum(fams[0].values())
        keys = sorted(set().union(*fams), key=lambda k: -max(f.get(k, 0) for f in fams))
        print("| family | share (" + layouts[0] + ") | " + " | ".join(f"{l}/{layouts[0]}" for l in layouts[1:]) + " |")
        print("| --- | --- | " + " | ".join("---" for _ in layouts[1:]) + " |")
        for k in keys:
            v0 = fams[0].get(k, 0)
            ratios = []
            for f in fams[1:]:
                v = f.get(k, 0)
                ratios.append(f"{v / v0:.2f}" if v0 > 0 else f"+{v / total0 * 100:.1f}% of total")
            print(f"| {k} | {v0 / total0 * 100:.1f}% | " + " | ".join(ratios) + " |")
        print()


if __name__ == "__main__":
    main()
