"""Differential tester: small random valid ONNX graphs through every Sparrow configuration.

    python random_graphs.py --sparrowc PATH [--count 1000] [--start 0] [--seed 0] [--jobs 2]
                            [--threads 1] [--no-llvm] [--timeout 60]

`--start S --count N` runs graphs S ..< S+N (split a long run over processes).

Graph i (seeded by (seed, i)) is a chain of 2-7 ops on an NCHW or [M, K] input, drawn
from: Conv (random kernel, stride, pads, dilation, group), MaxPool/AveragePool,
BatchNormalization, Relu/Sigmoid/Tanh/LeakyRelu/Clip, Add/Mul/Sub with broadcast
constants, Flatten + Gemm (random transB, alpha, beta), MatMul, Reshape, Transpose,
Softmax, Concat. A third of the graphs have their GEMM and conv weights pruned with
bench/prune.py (2:4, 1:4, unstructured 70/90%, 4x4/4x1/1x4 blocks). Each graph runs
through `sparrowc run` with `--backend interp` and `--backend llvm` at -O0, -O1 and -O2
(sparsity auto), and, when pruned, at -O2 with each `--sparsity off|nm|bsr|csr`
(a diagnostic that an op is not supported by the LLVM target counts as a skip), and
through onnxruntime. Results must agree with onnxruntime (rtol 1e-3, atol 1e-4); any
disagreement, crash, or unexpected error saves the graph, its input and a README
under Tests/Differential/failures/<case>/ (git-ignored) and fails the run. The last
line printed is `N passed, N failed` (plus skip counts).
"""
import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import prune  # noqa: E402

FAILURES = os.path.join(HERE, "failures")
# Known open bugs: a failure whose every problem contains one of these is counted as an
# expected failure (regressions.py holds the minimized reproducer of each).
KNOWN = {}
UNSUPPORTED = ("not supported", "unsupported", "does not support")


class Graph:
    """Builds a chain; `shape` is the current value's static shape."""

    def __init__(self, rng, shape):
        self.rng, self.nodes, self.inits, self.n = rng, [], [], 0
        self.cur, self.shape = "x", list(shape)

    def name(self, base):
        self.n += 1
        return f"{base}{self.n}"

    def const(self, array):
        n = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def weight(self, shape, scale=0.5):
        return self.const((self.rng.standard_normal(shape) * scale).astype(np.float32))

    def op(self, op_type, inputs, shape, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, [self.cur] + inputs, [out], name=out, **attrs))
        self.cur, self.shape = out, list(shape)


def pick(rng, items):
    return items[int(rng.integers(len(items)))]


def conv(g):
    n, c, h, w = g.shape
    group = pick(g.rng, [d for d in [1, 2, c] if c % d == 0])
    out_c = group * int(g.rng.integers(1, 4))
    k = int(g.rng.integers(1, 4))
    stride, dil = int(g.rng.integers(1, 3)), int(g.rng.integers(1, 3))
    pad = int(g.rng.integers(0, k))
    oh = (h + 2 * pad - dil * (k - 1) - 1) // stride + 1
    ow = (w + 2 * pad - dil * (k - 1) - 1) // stride + 1
    if oh < 1 or ow < 1:
        return False
    inputs = [g.weight([out_c, c // group, k, k])]
    if g.rng.random() < 0.7:
        inputs.append(g.weight([out_c]))
    g.op("Conv", inputs, [n, out_c, oh, ow], kernel_shape=[k, k], strides=[stride, stride],
         pads=[pad] * 4, dilations=[dil, dil], group=group)
    return True


def pool(g):
    n, c, h, w = g.shape
    k, s = int(g.rng.integers(1, 4)), int(g.rng.integers(1, 3))
    if h < k or w < k:
        return False
    kind = pick(g.rng, ["MaxPool", "AveragePool"])
    g.op(kind, [], [n, c, (h - k) // s + 1, (w - k) // s + 1], kernel_shape=[k, k], strides=[s, s])
    return True


def batchnorm(g):
    c = g.shape[1]
    ins = [g.weight([c]), g.weight([c]), g.weight([c]),
           g.const((g.rng.random(c) + 0.5).astype(np.float32))]
    g.op("BatchNormalization", ins, g.shape, epsilon=1e-5)
    return True


def unary(g):
    kind = pick(g.rng, ["Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "Neg", "Abs"])
    if kind == "Clip":
        g.op("Clip", [g.const(np.float32(-0.5)), g.const(np.float32(0.7))], g.shape)
    elif kind == "LeakyRelu":
        g.op("LeakyRelu", [], g.shape, alpha=float(g.rng.random()))
    else:
        g.op(kind, [], g.shape)
    return True


def binary(g):
    kind = pick(g.rng, ["Add", "Mul", "Sub"])
    # Broadcast over a random subset of trailing axes.
    shape = [d if g.rng.random() < 0.5 else 1 for d in g.shape]
    shape = shape[int(g.rng.integers(0, len(shape) + 1)):]
    g.op(kind, [g.weight(shape)], g.shape)
    return True


def flatten_gemm(g):
    if len(g.shape) != 2:
        g.op("Flatten", [], [g.shape[0], int(np.prod(g.shape[1:]))], axis=1)
    m, k = g.shape
    n = int(g.rng.integers(1, 9))
    trans_b = int(g.rng.integers(0, 2))
    ins = [g.weight([n, k] if trans_b else [k, n])]
    if g.rng.random() < 0.7:
        ins.append(g.weight(pick(g.rng, [[n], [1, n], [m, n]])))
    g.op("Gemm", ins, [m, n], transB=trans_b, alpha=float(pick(g.rng, [1.0, 0.5])),
         beta=float(pick(g.rng, [1.0, 2.0])))
    return True


def matmul(g):
    k = g.shape[-1]
    n = int(g.rng.integers(1, 9))
    g.op("MatMul", [g.weight([k, n])], g.shape[:-1] + [n])
    return True


def reshape(g):
    total = int(np.prod(g.shape))
    first = g.shape[0]
    rest = total // first
    divisors = [d for d in range(1, rest + 1) if rest % d == 0]
    d = pick(g.rng, divisors)
    new = [first, d, rest // d] if g.rng.random() < 0.5 else [first, -1]
    out = [first, d, rest // d] if len(new) == 3 else [first, rest]
    g.op("Reshape", [g.const(np.array(new, np.int64))], out)
    return True


def transpose(g):
    perm = [0] + list(1 + g.rng.permutation(len(g.shape) - 1))
    g.op("Transpose", [], [g.shape[p] for p in perm], perm=[int(p) for p in perm])
    return True


def softmax(g):
    axis = int(g.rng.integers(-len(g.shape), len(g.shape)))
    g.op("Softmax", [], g.shape, axis=axis)
    return True


def concat(g):
    axis = int(g.rng.integers(0, len(g.shape)))
    other = list(g.shape)
    other[axis] = int(g.rng.integers(1, 4))
    out = list(g.shape)
    out[axis] += other[axis]
    g.op("Concat", [g.weight(other)], out, axis=axis)
    return True


SPATIAL = [conv, conv, pool, batchnorm, unary, binary, flatten_gemm, softmax, concat]
FLAT = [unary, binary, flatten_gemm, matmul, reshape, transpose, softmax, concat]


def random_graph(seed, index):
    """(ModelProto, input array, description) for graph `index`."""
    rng = np.random.default_rng([seed, index])
    if rng.random() < 0.6:
        shape = [int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.integers(3, 9)), int(rng.integers(3, 9))]
    else:
        shape = [int(rng.integers(1, 5)), int(rng.integers(1, 17))]
    g = Graph(rng, shape)
    for _ in range(int(rng.integers(2, 8))):
        choices = SPATIAL if len(g.shape) == 4 else FLAT
        for _ in range(5):
            if pick(rng, choices)(g):
                break
    graph = helper.make_graph(g.nodes, f"random{index}",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(g.cur, TensorProto.FLOAT, g.shape)], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    description = " -> ".join(n.op_type for n in g.nodes)
    pruned = 0
    if rng.random() < 1 / 3:
        pattern = pick(rng, PRUNE_PATTERNS)
        pruned, _ = prune.prune_model(model, pattern)
        if pruned:
            description += f" (pruned {pattern})"
    onnx.checker.check_model(model)
    x = rng.standard_normal(shape).astype(np.float32)
    return model, x, description, pruned > 0


# Weight patterns of the pruned third: each fits at least one forced sparsity mode.
PRUNE_PATTERNS = ["2:4", "1:4", "u70", "u90", "b4x4-70", "b4x1-80", "b1x4-80"]
LEVELS = ("-O0", "-O1", "-O2")
SPARSE_MODES = ("off", "nm", "bsr", "csr")


def configurations(use_llvm, threads, pruned):
    """(backend, label, flags): every -O level on both backends (sparsity auto at -O2)
    and, for graphs with pruned weights, -O2 with each forced sparsity mode."""
    backends = ["interp", "llvm"] if use_llvm else ["interp"]
    configs = [(b, lvl, [lvl]) for b in backends for lvl in LEVELS]
    if pruned:
        configs += [(b, f"-O2/{m}", ["-O2", "--sparsity", m]) for b in backends for m in SPARSE_MODES]
    return [(b, label, ["--backend", b, *flags, "--threads", str(threads)]) for b, label, flags in configs]


def run_case(index, args):
    model, x, description, pruned = random_graph(args.seed, index)
    work = tempfile.mkdtemp(prefix="sparrow-diff-")
    model_file, x_file = os.path.join(work, "model.onnx"), os.path.join(work, "x.npy")
    onnx.save(model, model_file)
    np.save(x_file, x)
    out_name = model.graph.output[0].name
    problems, skips, runs = [], 0, 0
    try:
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        expected = ort.InferenceSession(model.SerializeToString(), so,
                                        providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    except Exception as e:  # the generator made something onnxruntime rejects: a skip
        shutil.rmtree(work, ignore_errors=True)
        return index, description, [], 0, 0, f"onnxruntime: {e}"
    for backend, level, flags in configurations(args.llvm, args.threads, pruned):
        out = os.path.join(work, f"out-{backend}{level.replace('/', '-')}")
        runs += 1
        argv = [args.sparrowc, "run", model_file, "--input", f"x={x_file}", "--output-dir", out, *flags]
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"{backend} {level}: timeout")
            continue
        if p.returncode != 0:
            if backend == "llvm" and p.returncode == 1 and any(u in p.stderr for u in UNSUPPORTED):
                skips += 1
                continue
            problems.append(f"{backend} {level}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
            continue
        got = np.load(os.path.join(out, out_name + ".npy"))
        if got.shape != expected.shape:
            problems.append(f"{backend} {level}: shape {got.shape}, onnxruntime {expected.shape}")
        elif not np.allclose(got, expected, rtol=1e-3, atol=1e-4, equal_nan=True):
            err = float(np.max(np.abs(got.astype(np.float64) - expected)))
            problems.append(f"{backend} {level}: max abs error {err:.3g}")
    if problems and args.keep:
        dest = os.path.join(FAILURES, f"{index:05d}")
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        shutil.copy(model_file, dest)
        shutil.copy(x_file, dest)
        np.save(os.path.join(dest, "expected.npy"), expected)
        with open(os.path.join(dest, "README.txt"), "w") as f:
            f.write(f"graph {index} (seed {args.seed}): {description}\n" + "\n".join(problems) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return index, description, problems, skips, runs, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", default=os.path.join(ROOT, ".build", "debug", "sparrowc"))
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--no-llvm", dest="llvm", action="store_false")
    ap.add_argument("--no-keep", dest="keep", action="store_false")
    args = ap.parse_args()
    args.sparrowc = os.path.abspath(args.sparrowc)
    if not os.access(args.sparrowc, os.X_OK):
        sys.exit(f"random_graphs.py: no sparrowc at {args.sparrowc}")
    passed = failed = xfailed = llvm_skips = ort_skips = runs = 0
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_case, i, args) for i in range(args.start, args.start + args.count)]
        for done, fut in enumerate(concurrent.futures.as_completed(futures), 1):
            if done % 50 == 0:
                print(f"... {done} graphs, {time.time() - start:.0f} s", flush=True)
            index, description, problems, skips, case_runs, ort_error = fut.result()
            llvm_skips += skips
            runs += case_runs
            if ort_error:
                ort_skips += 1
            elif problems and all(any(k in p for k in KNOWN) for p in problems):
                xfailed += 1
            elif problems:
                failed += 1
                print(f"FAIL graph {index} ({description}):\n  " + "\n  ".join(problems), flush=True)
            else:
                passed += 1
    print(f"skipped: {ort_skips} graphs onnxruntime rejected, {llvm_skips} llvm runs with unsupported ops")
    if xfailed:
        print(f"{xfailed} expected failures (known bugs: {'; '.join(KNOWN.values())})")
    print(f"{args.count} graphs (from {args.start}), {runs} sparrowc runs in {time.time() - start:.0f} s")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
