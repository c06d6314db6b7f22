"""Checks pruned variants of models against onnxruntime on both Sparrow backends.

    python bench/check_pruned.py --sparrowc PATH MODEL.onnx... [--patterns 2:4,u80,...]
        [--backends interp,llvm] [--workdir DIR] [--sparse-initializers] [--all-formats]

For each model, writes the pruned variants of bench/prune.py (2:4, 1:4, 2:8 along K,
unstructured 80/90 %, 4x4 blocks 80/90 %) into the work folder, runs each on seeded inputs
through onnxruntime (1 thread; it densifies sparse initializers) and through
`sparrowc run --backend B --sparsity S` for S = auto and the format the pattern fits
(`nm` for N:M, `bsr` for blocks, `csr` for unstructured; `--all-formats` forces all
three on every variant), and compares within rtol 1e-3 / atol 1e-4
(Tests/Models/check_models.py). A mode whose per-layer formats (`inspect --json`) equal
an earlier mode's builds the same program and is skipped.

`--sparse-initializers` also checks every variant with its pruned weights stored as ONNX
sparse_initializers (COO: linearized indices for 2-D weights, index tuples otherwise).
Prints one Markdown row per (variant, backend, sparsity); exits 1 on any mismatch.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Models"))
import prune  # noqa: E402
from check_models import reference, seeded_inputs  # noqa: E402

PATTERNS = "2:4,1:4,2:8,u80,u90,b4x4-80,b4x4-90"
RTOL, ATOL = 1e-3, 1e-4


def forced_format(pattern):
    """The --sparsity format a pattern fits exactly."""
    kind = prune.parse_pattern(pattern)[0]
    return {"nm": "nm", "b": "bsr", "u": "csr"}[kind]


def to_sparse_initializers(model):
    """Moves every pruned GEMM weight (one with zeros) into graph.sparse_initializer."""
    moved = []
    for init, _ in list(prune.gemm_weights(model)):
        w = numpy_helper.to_array(init)
        nz = np.flatnonzero(w)
        if nz.size == w.size:
            continue
        values = numpy_helper.from_array(w.ravel()[nz].astype(w.dtype), init.name)
        if w.ndim == 2:
            indices = numpy_helper.from_array(nz.astype(np.int64), "")
        else:
            indices = numpy_helper.from_array(np.stack(np.unravel_index(nz, w.shape), axis=1).astype(np.int64), "")
        moved.append(onnx.helper.make_sparse_tensor(values, indices, list(w.shape)))
        model.graph.initializer.remove(init)
    model.graph.sparse_initializer.extend(moved)
    return len(moved)


def write_variants(model_path, workdir, patterns, sparse_initializers):
    """Writes the pruned variants; returns [(label, path, forced format)]."""
    stem = os.path.splitext(os.path.basename(model_path))[0]
    out = []
    for p in patterns:
        path = os.path.join(workdir, f"{stem}.{p.replace(':', 'of')}.onnx")
        if not os.path.exists(path):
            model = onnx.load(model_path)
            prune.prune_model(model, p)
            onnx.save(model, path)
        out.append((f"{stem} {p}", path, forced_format(p)))
        if sparse_initializers:
            spath = path.replace(".onnx", ".coo.onnx")
            if not os.path.exists(spath):
                model = onnx.load(path)
                to_sparse_initializers(model)
                onnx.save(model, spath)
            out.append((f"{stem} {p} (sparse_initializer)", spath, forced_format(p)))
    return out


def run_sparrow(sparrowc, path, feeds, backend, sparsity, workdir):
    """Runs `sparrowc run`; returns ({output: array}, seconds) or (error text, seconds)."""
    case_dir = tempfile.mkdtemp(dir=workdir)
    out_dir = os.path.join(case_dir, "out")
    args = [sparrowc, "run", path, "--output-dir", out_dir, "--backend", backend, "--sparsity", sparsity]
    for i, (k, v) in enumerate(feeds.items()):
        f = os.path.join(case_dir, f"input{i}.npy")
        np.save(f, v)
        args += ["--input", f"{k}={f}"]
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr.strip()[:300]}", seconds
    outs = {}
    for f in os.listdir(out_dir):
        if f.endswith(".npy"):
            outs[f[:-4]] = np.load(os.path.join(out_dir, f))
    return outs, seconds


def compare(got, expected):
    """None when every output matches, else what differs; also the max abs error."""
    worst = 0.0
    for name, want in expected.items():
        key = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)
        if key not in got:
            return f"output {name} missing", worst
        g = got[key]
        if g.shape != want.shape:
            return f"output {name}: shape {g.shape} != {want.shape}", worst
        err = float(np.max(np.abs(g.astype(np.float64) - want))) if want.size else 0.0
        worst = max(worst, err)
        if not np.allclose(g, want, rtol=RTOL, atol=ATOL):
            bad = np.abs(g.astype(np.float64) - want) > ATOL + RTOL * np.abs(want)
            return f"output {name}: {int(bad.sum())}/{want.size} outside tolerance, max abs error {err:.3g}", worst
    return None, worst


def chosen_formats(sparrowc, path, sparsity):
    """The per-layer weight formats `sparsify` picks (from `inspect --json`), or None."""
    proc = subprocess.run([sparrowc, "inspect", path, "--json", "--sparsity", sparsity], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return [layer.get("format") for layer in json.loads(proc.stdout)["layers"]]


def distinct_modes(sparrowc, path, modes):
    """`modes` without those whose formats equal an earlier mode's (the same program)."""
    seen, out = [], []
    for mode in modes:
        formats = chosen_formats(sparrowc, path, mode)
        if formats is not None and formats in seen:
            continue
        seen.append(formats)
        out.append(mode)
    return out


def check_variants(sparrowc, variants, backends, workdir, all_formats=False, log=print):
    """Checks each variant; returns the number of mismatches."""
    failures = 0
    log("| variant | backend | sparsity | result | max abs error | seconds |")
    log("| --- | --- | --- | --- | --- | --- |")
    for label, path, forced in variants:
        model = onnx.load(path, load_external_data=False)
        feeds = seeded_inputs(model)
        expected = reference(path, feeds)
        modes = ["auto", forced] + (["nm", "bsr", "csr"] if all_formats else [])
        modes = distinct_modes(sparrowc, path, list(dict.fromkeys(modes)))
        for backend in backends:
            for mode in modes:
                got, seconds = run_sparrow(sparrowc, path, feeds, backend, mode, workdir)
                if isinstance(got, str):
                    problem, err = got, float("nan")
                else:
                    problem, err = compare(got, expected)
                failures += problem is not None
                log(f"| {label} | {backend} | {mode} | {'ok' if problem is None else 'FAIL: ' + problem} "
                    f"| {err:.2e} | {seconds:.1f} |")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--patterns", default=PATTERNS)
    ap.add_argument("--backends", default="interp,llvm")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--sparse-initializers", action="store_true")
    ap.add_argument("--all-formats", action="store_true", help="also force nm, bsr and csr on every variant")
    a = ap.parse_args()
    workdir = a.workdir or tempfile.mkdtemp(prefix="sparrow-pruned-")
    os.makedirs(workdir, exist_ok=True)
    failures = 0
    for m in a.models:
        variants = write_variants(m, workdir, a.patterns.split(","), a.sparse_initializers)
        failures += check_variants(a.sparrowc, variants, a.backends.split(","), workdir, a.all_formats,
                                   log=lambda s: print(s, flush=True))
    print(f"\n{failures} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
