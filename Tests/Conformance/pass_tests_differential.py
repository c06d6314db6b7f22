"""Every golden pass test's IR, run through both backends on seeded inputs.

    python pass_tests_differential.py [--sparrowc PATH] [--filter SUBSTR] [-v]

For each case of each `.sir` file in Tests/IRFiles (split at `// -----`; cases that expect
errors are skipped) with its `// RUN:` pipeline P:

  before  = sparrowc run CASE -O0 --backend interp           (the IR as written)
  after   = sparrowc opt CASE --passes P, then run -O0 on interp and on llvm,
            and run -O2 on llvm (the full pipeline on top)

All four must agree within 1e-4 of each output's largest magnitude, plus atol 1e-5
(the project's bar for reordered sums, e.g. Winograd or folded BatchNorm; integers exactly). So a pass that changes
results and an LLVM kernel that disagrees with the interpreter both fail here. Inputs are
seeded: f32 standard normal, integers in [0, 3), random bools. Cases the LLVM target
cannot compile are failures unless listed in KNOWN_LLVM_GAPS (with the reason); a listed
case that compiles is reported so the entry gets removed. Exit status non-zero on any
failure; the last line printed is `N passed, N failed`.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
IR_FILES = os.path.join(ROOT, "Tests", "IRFiles")

# file:module -> why the LLVM target cannot compile it (none since it handles every
# element type).
KNOWN_LLVM_GAPS: dict = {}

DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64, "i64": np.int64, "i32": np.int32,
          "i16": np.int16, "i8": np.int8, "u8": np.uint8, "i1": np.bool_, "bool": np.bool_}


def cases(path):
    """(module name, text, pipeline) for every case of a golden file without expected errors."""
    text = open(path).read()
    run = re.search(r"^// RUN:\s*(.+)$", text, re.M)
    pipeline = run.group(1).strip() if run else "verify"
    for chunk in re.split(r"^// -----.*$", text, flags=re.M):
        if "expected-error" in chunk or "module @" not in chunk:
            continue
        name = re.search(r"module @([\w.$-]+)", chunk).group(1)
        yield name, chunk, pipeline


def arguments(text):
    """[(name, shape, dtype)] of `func @main(...)`'s arguments."""
    sig = re.search(r"func @main\((.*?)\)\s*->", text, re.S)
    args = []
    for name, dims in re.findall(r'%("[^"]*"|[\w.$-]+)\s*:\s*tensor<([^>]*)>', sig.group(1) if sig else ""):
        name = name.strip('"')
        parts = dims.split("x")
        element = parts[-1].split(",")[0].strip()
        shape = [int(p) for p in parts[:-1]]
        args.append((name, shape, element))
    return args


def seeded_inputs(args, directory, seed=1234):
    rng = np.random.default_rng(seed)
    flags = []
    for name, shape, element in args:
        dtype = DTYPES.get(element)
        if dtype is None:
            raise ValueError(f"no input generator for element type {element}")
        if dtype == np.bool_:
            value = rng.integers(0, 2, shape).astype(np.bool_)
        elif np.issubdtype(dtype, np.integer):
            value = rng.integers(0, 3, shape).astype(dtype)
        else:
            value = rng.standard_normal(shape).astype(dtype)
        path = os.path.join(directory, f"in_{len(flags)}.npy")
        np.save(path, value)
        flags += ["--input", f"{name}={path}"]
    return flags


def run(sparrowc, model, flags, out_dir):
    p = subprocess.run([sparrowc, "run", model, "--output-dir", out_dir] + flags,
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return None, (p.stderr.strip().splitlines() or ["(no message)"])[-1]
    outputs = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^(.*): tensor<.*> -> (.*)$", line)
        if m:
            outputs[m.group(1)] = np.load(m.group(2))
    return outputs, None


def differ(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"{a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}"
    if a.dtype.kind in "biu":
        return None if np.array_equal(a, b) else f"{int((a != b).sum())} of {a.size} differ"
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    finite = np.abs(b64[np.isfinite(b64)])
    scale = finite.max() if finite.size else 0.0
    bad = ~np.isclose(a64, b64, rtol=0, atol=1e-5 + 1e-4 * scale, equal_nan=True)
    if bad.any():
        return f"{int(bad.sum())} of {a.size} differ, max abs err {np.nanmax(np.abs(a64 - b64)[bad]):.3g}"
    return None


def check_case(sparrowc, name, text, pipeline, work):
    """(status, message): status is 'pass', 'fail', 'known' (listed gap) or 'fixed'."""
    case = os.path.join(work, "case.sir")
    with open(case, "w") as f:
        f.write(text)
    inputs = seeded_inputs(arguments(text), work)
    after = os.path.join(work, "after.sir")
    passes = [] if pipeline == "verify" else ["--passes", pipeline]
    p = subprocess.run([sparrowc, "opt", case, "-o", after] + (passes or ["-O0"]),
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return "fail", f"opt: {p.stderr.strip()[-300:]}"
    runs = [("before/interp", case, ["-O0", "--backend", "interp"]),
            ("after/interp", after, ["-O0", "--backend", "interp"]),
            ("after/llvm", after, ["-O0", "--backend", "llvm"]),
            ("after/llvm -O2", after, ["-O2", "--backend", "llvm"])]
    results = {}
    for label, model, flags in runs:
        outputs, error = run(sparrowc, model, flags + inputs, os.path.join(work, label.replace("/", "_").replace(" ", "")))
        if error:
            if "llvm" in label and name in KNOWN_LLVM_GAPS:
                return "known", f"{label}: {error}"
            return "fail", f"{label}: {error}"
        results[label] = outputs
    if name in KNOWN_LLVM_GAPS:
        return "fixed", "compiles on the llvm target now; remove it from KNOWN_LLVM_GAPS"
    reference = results["before/interp"]
    for label, outputs in results.items():
        if set(outputs) != set(reference):
            return "fail", f"{label}: outputs {sorted(outputs)} vs {sorted(reference)}"
        for out, value in outputs.items():
            problem = differ(value, reference[out])
            if problem:
                return "fail", f"{label} vs before/interp, output '{out}': {problem}"
    return "pass", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sparrowc", default=os.path.join(ROOT, ".build", "release", "sparrowc"))
    ap.add_argument("--filter", default="")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    counts = {"pass": 0, "fail": 0, "known": 0, "fixed": 0}
    for path in sorted(glob.glob(os.path.join(IR_FILES, "*.sir"))):
        for name, text, pipeline in cases(path):
            key = f"{os.path.basename(path)}:{name}"
            if args.filter not in key:
                continue
            work = tempfile.mkdtemp(prefix="sparrow-passdiff-")
            try:
                status, message = check_case(args.sparrowc, key, text, pipeline, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            counts[status] += 1
            if status != "pass" or args.verbose:
                print(f"{status.upper():5} {key} [{pipeline}] {message}")
    print(f"{counts['known']} known LLVM gaps, {counts['fixed']} listed gaps that compile now")
    print(f"{counts['pass']} passed, {counts['fail'] + counts['fixed']} failed")
    return 1 if counts["fail"] or counts["fixed"] else 0


if __name__ == "__main__":
    sys.exit(main())
