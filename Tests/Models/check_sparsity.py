"""Weight sparsity end to end on a small CNN + MLP, checked independently of Sparrow's code.

    python Tests/Models/check_sparsity.py --sparrowc PATH [--workdir DIR] [--skip-size]
    python Tests/Models/check_sparsity.py --sparrowc PATH --inspect MODEL.onnx...

1. `inspect`: for every pruned variant (bench/prune.py's seven patterns, stored as plain
   and as sparse initializers, plus a conv pruned 2:4 along the plain (Cin, kh, kw)
   order), numpy computes each conv/gemm weight's density,
   the sparsest exact N:M pattern in both conv K orders and which order holds it, the
   4x1/4x4/8x1/16x1 block densities and the groups violating the nearest N:M pattern;
   `sparrowc inspect --passes matmul-to-gemm --json` must report the same. `--inspect`
   does this for any model (with that one pass the layers are the ONNX nodes, the weights
   the initializers).
2. Correctness: every variant, and every variant with its weights stored as ONNX
   sparse_initializers, matches onnxruntime on the interpreter and the LLVM target with
   --sparsity auto and the format the pattern fits (bench/check_pruned.py); malformed
   sparse initializers end in exit 1 with a diagnostic naming the file and tensor.
3. Size: the `.so` of the 2:4 variant with --sparsity nm is at most 0.65x the dense one
   (issue 6, item 7).
Exits 1 on any failure; the last line says how many checks failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import check_pruned  # noqa: E402
import prune  # noqa: E402

GROUP_SIZES = [4, 8, 16]
BLOCKS = [(4, 1), (4, 4), (8, 1), (16, 1)]
SIZE_LIMIT = 0.65
# Was a known failure until the sparse GEMM stored 1-byte column indices relative to the
# K block (2:4 now 0.57x here, ResNet-50 0.61x, BERT 0.62x). Kept as a switch: the check
# fails when a listed known failure starts passing, so such a note cannot go stale.
SIZE_KNOWN_FAILURE = False


# --- The independent analysis --------------------------------------------------------------

def gemm_rows(w, kind, channels_innermost=True):
    """A conv/gemm weight as its [rows, K] non-zero matrix in the chosen K order."""
    if kind == "conv":
        o = w.shape[0]
        return (w.transpose(0, 2, 3, 1) if channels_innermost else w).reshape(o, -1) != 0
    if kind == "gemm_nt":
        return w != 0
    return w.T != 0


def sparsest_nm(nz):
    """The smallest N/M (ties: smaller M) such that every M-group along K has <= N non-zeros."""
    best = None
    for m in GROUP_SIZES:
        if nz.shape[1] % m:
            continue
        most = int(nz.reshape(nz.shape[0], -1, m).sum(axis=2).max()) if nz.size else 0
        if 2 * most > m:
            continue
        n = max(most, 1)
        if best is None or n / m < best[0] / best[1]:
            best = (n, m)
    return None if best is None else f"{best[0]}:{best[1]}"


def nearest_nm(nz):
    """(pattern, violating groups) for N = round(density * M), the fewest violating fraction."""
    density = nz.mean() if nz.size else 1.0
    best = None
    for m in GROUP_SIZES:
        n = max(1, int(np.floor(density * m + 0.5)))
        if n >= m or nz.shape[1] % m:
            continue
        bad = int((nz.reshape(nz.shape[0], -1, m).sum(axis=2) > n).sum())
        fraction = bad / max(1, nz.size // m)
        if best is None or fraction < best[2]:
            best = (f"{n}:{m}", bad, fraction)
    return (None, None) if best is None else best[:2]


def block_density(nz, r, c):
    rows, k = nz.shape
    br, bc = -(-rows // r), -(-k // c)
    padded = np.zeros((br * r, bc * c), bool)
    padded[:rows, :k] = nz
    return float(padded.reshape(br, r, bc, c).any(axis=(1, 3)).mean())


def expected_report(w, kind):
    nz = gemm_rows(w, kind)
    nm = sparsest_nm(nz)
    report = {"density": float(np.count_nonzero(w)) / w.size, "gemm_shape": list(nz.shape), "nm": nm,
              "block_density": {f"{r}x{c}": block_density(nz, r, c) for r, c in BLOCKS}}
    report["nearest_nm"], report["nearest_nm_violations"] = nearest_nm(nz)
    if kind == "conv":
        outer = sparsest_nm(gemm_rows(w, kind, channels_innermost=False))
        report["nm_cin_kh_kw"] = outer
        if w.shape[2] * w.shape[3] == 1:
            report["nm_order"] = "cin" if nm else "none"
        else:
            report["nm_order"] = {(True, True): "both", (True, False): "kh,kw,cin",
                                  (False, True): "cin,kh,kw", (False, False): "none"}[(nm is not None, outer is not None)]
    else:
        report["nm_order"] = "k" if nm else "none"
    return report


def densify(sparse):
    """A SparseTensorProto as a dense array (linearized or tuple indices)."""
    values, indices = numpy_helper.to_array(sparse.values), numpy_helper.to_array(sparse.indices)
    dense = np.zeros(int(np.prod(sparse.dims)), values.dtype)
    dense[indices if indices.ndim == 1 else np.ravel_multi_index(indices.T, tuple(sparse.dims))] = values
    return dense.reshape(tuple(sparse.dims))


def check_inspect(sparrowc, path):
    """(problems, layers checked) comparing `inspect --json` with numpy on the initializers."""
    model = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    inits.update({s.values.name: densify(s) for s in model.graph.sparse_initializer})
    # Only matmul-to-gemm: the layers stay the ONNX nodes (a MatMul on 3-D activations
    # becomes a gemm named `<output>.2d`) and the weights stay the initializers.
    out = subprocess.run([sparrowc, "inspect", path, "--passes", "matmul-to-gemm", "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return [f"inspect exit {out.returncode}: {out.stderr.strip()[:300]}"], 0
    layers = {l["name"]: l for l in json.loads(out.stdout)["layers"]}
    problems, checked = [], 0
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv" and node.input[1] in inits and attrs.get("group", 1) == 1:
            kind = "conv"
        elif node.op_type == "Gemm" and node.input[1] in inits:
            kind = "gemm_nt" if attrs.get("transB", 0) else "kn"
        elif node.op_type == "MatMul" and node.input[1] in inits and inits[node.input[1]].ndim == 2:
            kind = "kn"
        else:
            continue
        got = layers.get(node.output[0]) or layers.get(node.output[0] + ".2d")
        if got is None:
            problems.append(f"{node.output[0]}: not in the inspect report")
            continue
        want = expected_report(inits[node.input[1]].astype(np.float32), kind)
        checked += 1
        for key, value in want.items():
            have = got.get(key)
            if key == "block_density":
                bad = {b: (have.get(b), v) for b, v in value.items() if abs(have.get(b, -1) - v) > 1e-6}
                if bad:
                    problems.append(f"{node.output[0]}: block densities (inspect, numpy) {bad}")
            elif isinstance(value, float):
                if abs(have - value) > 1e-6:
                    problems.append(f"{node.output[0]}: {key} {have} != numpy {value}")
            elif have != value:
                problems.append(f"{node.output[0]}: {key} {have!r} != numpy {value!r}")
    if checked == 0:
        problems.append("no conv/gemm layer with a constant weight to check")
    return problems, checked


# --- The small model ---------------------------------------------------------------------

def small_model(seed=0):
    """Conv 3x3 (32 -> 64) + ReLU, conv 1x1 (64 -> 128) + ReLU, pool, Gemm (transB) + Gemm.

    About 0.9 MB of weights, so that they, not code, make most of a `.so`."""
    rng = np.random.default_rng(seed)

    def weight(name, shape):
        return numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32), name)

    inits = [weight("c1.w", [64, 32, 3, 3]), weight("c1.b", [64]), weight("c2.w", [128, 64, 1, 1]),
             weight("fc1.w", [512, 128]), weight("fc1.b", [512]), weight("fc2.w", [512, 256]), weight("fc2.b", [256])]
    nodes = [helper.make_node("Conv", ["x", "c1.w", "c1.b"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "c2.w"], ["c2"]),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "fc1.w", "fc1.b"], ["fc1"], transB=1),
             helper.make_node("Relu", ["fc1"], ["h"]),
             helper.make_node("Gemm", ["h", "fc2.w", "fc2.b"], ["logits"])]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 256])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def cin_order_variant(path, out):
    """The 3x3 conv pruned 2:4 along the plain flattening (Cin, kh, kw), not (kh, kw, Cin)."""
    model = onnx.load(path)
    for init in model.graph.initializer:
        if init.name == "c1.w":
            w = numpy_helper.to_array(init)
            rows = prune.prune_nm(w.reshape(w.shape[0], -1), 2, 4)
            init.CopyFrom(numpy_helper.from_array(rows.reshape(w.shape).astype(np.float32), init.name))
    onnx.save(model, out)
    return out


def malformed_sparse_initializers(path, workdir):
    """(name, path, expected message) for sparse initializers breaking onnx.proto's rules."""
    model = onnx.load(path)
    check_pruned.to_sparse_initializers(model)
    cases = []
    for label, edit, message in [
        ("unsorted", lambda ind: ind[::-1].copy(), "ascending"),
        ("duplicate", lambda ind: np.concatenate([ind[:1], ind[:-1]]) if ind.ndim == 1 else np.concatenate([ind[:1], ind[:-1]], axis=0), "repeats"),
        ("out of range", lambda ind: ind + 10**6, "outside"),
    ]:
        broken = onnx.ModelProto()
        broken.CopyFrom(model)
        s = broken.graph.sparse_initializer[0]
        ind = numpy_helper.to_array(s.indices)
        s.indices.CopyFrom(numpy_helper.from_array(edit(ind).astype(np.int64), ""))
        out = os.path.join(workdir, f"bad_sparse_{label.replace(' ', '_')}.onnx")
        onnx.save(broken, out)
        cases.append((label, out, message))
    return cases


def so_size(sparrowc, path, sparsity, workdir):
    out = os.path.join(workdir, f"{os.path.basename(path)}.{sparsity}.so")
    proc = subprocess.run([sparrowc, "compile", path, "-o", out, "--sparsity", sparsity], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"compile --sparsity {sparsity}: {proc.stderr.strip()[:300]}")
    return os.path.getsize(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--inspect", nargs="*", help="only check inspect on these models")
    ap.add_argument("--skip-size", action="store_true")
    a = ap.parse_args()
    workdir = a.workdir or tempfile.mkdtemp(prefix="sparrow-sparsity-")
    os.makedirs(workdir, exist_ok=True)
    failures = 0

    def report(what, problems):
        nonlocal failures
        failures += bool(problems)
        print(f"{'PASS' if not problems else 'FAIL'} {what}" + "".join(f"\n  {p}" for p in problems[:10]), flush=True)

    if a.inspect:
        for path in a.inspect:
            problems, checked = check_inspect(a.sparrowc, path)
            report(f"inspect {os.path.basename(path)} ({checked} layers)", problems)
        print(f"{failures} failed")
        sys.exit(1 if failures else 0)

    base = os.path.join(workdir, "small.onnx")
    onnx.save(small_model(), base)
    patterns = check_pruned.PATTERNS.split(",")
    variants = check_pruned.write_variants(base, workdir, patterns, sparse_initializers=True)
    plain = [path for _, path, _ in variants if not path.endswith(".coo.onnx")]
    # The sparse-initializer variants too: the analysis must see the same zeros.
    for path in [base] + [p for _, p, _ in variants] + [cin_order_variant(base, os.path.join(workdir, "small.2of4_cin.onnx"))]:
        problems, checked = check_inspect(a.sparrowc, path)
        report(f"inspect {os.path.basename(path)} ({checked} layers)", problems)

    lines = []
    mismatches = check_pruned.check_variants(a.sparrowc, variants, ["interp", "llvm"], workdir, log=lines.append)
    report(f"{len(variants)} pruned variants vs onnxruntime (interp, llvm; auto and forced formats)",
           [l for l in lines if "FAIL" in l])

    for label, path, message in malformed_sparse_initializers(plain[0], workdir):
        proc = subprocess.run([a.sparrowc, "run", path], capture_output=True, text=True)
        ok = proc.returncode == 1 and path in proc.stderr and "sparse initializer" in proc.stderr and message in proc.stderr
        report(f"sparse initializer {label} is rejected", [] if ok else [f"exit {proc.returncode}: {proc.stderr.strip()[:300]}"])

    if not a.skip_size:
        two_four = os.path.join(workdir, "small.2of4.onnx")
        dense, sparse = so_size(a.sparrowc, two_four, "off", workdir), so_size(a.sparrowc, two_four, "nm", workdir)
        ratio = sparse / dense
        print(f"  .so sizes: dense {dense} bytes, 2:4 {sparse} bytes ({ratio:.2f}x)")
        what = f".so of the 2:4 variant <= {SIZE_LIMIT}x the dense one"
        if SIZE_KNOWN_FAILURE and ratio > SIZE_LIMIT:
            print(f"KNOWN FAIL {what}: {ratio:.2f}x (SIZE_KNOWN_FAILURE)")
        elif SIZE_KNOWN_FAILURE:
            report(what, [f"passes ({ratio:.2f}x): set SIZE_KNOWN_FAILURE = False"])
        else:
            report(what, [] if ratio <= SIZE_LIMIT else [f"{ratio:.2f}x"])

    print(f"{failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
