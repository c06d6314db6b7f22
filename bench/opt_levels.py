"""Interpreter at -O2 vs -O0, and the arena the memory plan gives at each level.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/opt_levels.py \
        --sparrowc .build/release/sparrowc [--models /tmp/bm/resnet50.onnx,/tmp/bm/bert.onnx] \
        [--rounds 3] [--iterations 3] [--threads 1] [--baseline OLD_SPARROWC]

Times `sparrowc bench --backend interp` at -O0 and -O2 in interleaved rounds (O0, O2,
O0, O2, ...) so both see the same machine load, and reports the median of the per-round
medians and the speedup. Arena sizes come from `--stats` of the plan-memory pass
(`dump-ir --passes plan-memory` for -O0, `dump-ir -O2` whose pipeline ends with it).
With --baseline (a release sparrowc built before the interpreter ran from the memory
plan), the same rounds also time it at both levels: the arena's effect on the interpreter.
Models: Tests/Models/sparrow_models.py OUT resnet50 bert (or /tmp/bm copies).
"""
import argparse
import json
import re
import statistics
import subprocess

NOTE = re.compile(r"plan-memory: @\w+: arena ([\d.]+ \w?i?B) for ([\d.]+ \w?i?B) of intermediates "
                  r"\(([\d.]+)% saved\), (\d+) ops in place")


def arena(sparrowc, model, level_args):
    out = subprocess.run([sparrowc, "dump-ir", model, *level_args, "--stats"],
                         capture_output=True, text=True, check=True)
    m = NOTE.search(out.stderr)
    if not m:
        raise SystemExit(f"no plan-memory line in --stats of {model} {level_args}:\n{out.stderr[-2000:]}")
    return {"arena": m.group(1), "intermediates": m.group(2), "saved": m.group(3), "in_place": int(m.group(4))}


def median_ms(sparrowc, model, level, threads, iterations):
    out = subprocess.run([sparrowc, "bench", model, "--backend", "interp", level, "--threads", str(threads),
                          "--iterations", str(iterations), "--warmup", "1", "--json"],
                         capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout)["median_ms"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--models", default="/tmp/bm/resnet50.onnx,/tmp/bm/bert.onnx")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--baseline", help="an older sparrowc to time alongside (same rounds)")
    a = ap.parse_args()
    binaries = [("new", a.sparrowc)] + ([("old", a.baseline)] if a.baseline else [])
    rows = []
    for model in a.models.split(","):
        o0 = arena(a.sparrowc, model, ["--passes", "plan-memory"])
        o2 = arena(a.sparrowc, model, ["-O2"])
        times = {(b, level): [] for b, _ in binaries for level in ("-O0", "-O2")}
        for _ in range(a.rounds):
            for level in ("-O0", "-O2"):
                for b, path in binaries:
                    times[(b, level)].append(median_ms(path, model, level, a.threads, a.iterations))
        med = {key: statistics.median(v) for key, v in times.items()}
        rows.append((model.split("/")[-1], med, o0, o2))
    print("| model | interp -O0 (ms) | interp -O2 (ms) | -O2 speedup | arena -O0 / intermediates | "
          "arena -O2 / intermediates | in place -O0 / -O2 |")
    print("| --- | ---: | ---: | ---: | --- | --- | ---: |")
    for name, med, o0, o2 in rows:
        t0, t2 = med[("new", "-O0")], med[("new", "-O2")]
        print(f"| {name} | {t0:.1f} | {t2:.1f} | {t0 / t2:.2f}x | {o0['arena']} / {o0['intermediates']} "
              f"({o0['saved']}% saved) | {o2['arena']} / {o2['intermediates']} ({o2['saved']}% saved) | "
              f"{o0['in_place']} / {o2['in_place']} |")
    if a.baseline:
        print()
        print("| model | level | old interp (ms) | arena interp (ms) | old / arena |")
        print("| --- | --- | ---: | ---: | ---: |")
        for name, med, _, _ in rows:
            for level in ("-O0", "-O2"):
                old, new = med[("old", level)], med[("new", level)]
                print(f"| {name} | {level} | {old:.1f} | {new:.1f} | {old / new:.2f}x |")


if __name__ == "__main__":
    main()
