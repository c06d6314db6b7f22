"""What the `sparrow` Python package costs over the compiled library (issue: python).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/python_overhead.py \
        [--sparrowc .build/release/sparrowc] [--rounds 5] [--skip-resnet]

1. Per-call overhead on a one-op model (Relu over 1x64 floats): `session.run(None, feeds)`
   against a bare ctypes call of NAME_run (NAME_run_context when exported) on
   preallocated buffers and pointer arrays, and onnxruntime's `session.run` on the same
   model for scale. Interleaved rounds; the median per-call time of each round, then
   the best round. Goal: session - bare <= 30 us.
2. A second session on ResNet-50 (the model zoo's, random weights) from the cache: a
   fresh Python process constructs `InferenceSession(path)` and runs once; the time
   from before the constructor to the first outputs (import time reported apart).
   Goal: <= 1 s. The first session (compiling, filling the cache) is timed too.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "python"))
sys.path.insert(0, str(REPOSITORY / "Tests" / "Models"))

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import sparrow  # noqa: E402

ort.set_default_logger_severity(3)


def one_op_model(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)


def per_call_us(fn, calls):
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls / 1e3


def overhead(workdir, rounds, calls):
    path = os.path.join(workdir, "relu.onnx")
    one_op_model(path)
    session = sparrow.InferenceSession(path, threads=1)
    x = np.random.default_rng(0).standard_normal((1, 64)).astype(np.float32)
    feeds = {"x": x}

    # The bare call: the same library, buffers and pointer arrays prepared once.
    library = session._specializations[((1, 64),)].library
    lib = ctypes.CDLL(library.path)
    y = np.empty((1, 64), np.float32)
    ins = (ctypes.c_void_p * 1)(x.ctypes.data)
    outs = (ctypes.c_void_p * 1)(y.ctypes.data)
    raw = np.empty(lib.sparrow_model_workspace_size() + 64, np.uint8)
    workspace = ctypes.c_void_p(raw.ctypes.data + (-raw.ctypes.data) % 64)
    if library.uses_context:
        context = ctypes.c_void_p(library.context)
        bare = lambda: lib.sparrow_model_run_context(context, ins, outs, workspace)  # noqa: E731
        kind = "sparrow_model_run_context"
    else:
        threads = ctypes.c_int32(1)
        bare = lambda: lib.sparrow_model_run(ins, outs, workspace, threads)  # noqa: E731
        kind = "sparrow_model_run"
    assert bare() == 0
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(session.run(None, feeds)[0], np.maximum(x, 0))

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    reference = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    candidates = {"bare": bare, "session": lambda: session.run(None, feeds),
                  "onnxruntime": lambda: reference.run(None, feeds)}
    best = {k: float("inf") for k in candidates}
    for r in range(rounds):
        measured = {}
        for name, fn in candidates.items():
            for _ in range(calls // 10):
                fn()  # warm
            measured[name] = statistics.median(per_call_us(fn, calls // 10) for _ in range(10))
            best[name] = min(best[name], measured[name])
        print(f"  round {r + 1}: bare {measured['bare']:.2f} us, session.run {measured['session']:.2f} us "
              f"(+{measured['session'] - measured['bare']:.2f}), onnxruntime {measured['onnxruntime']:.2f} us")
    print(f"one-op model (Relu 1x64, 1 thread), best round: bare ctypes {kind} {best['bare']:.2f} us, "
          f"session.run {best['session']:.2f} us, overhead {best['session'] - best['bare']:.2f} us "
          f"(goal <= 30 us); onnxruntime session.run {best['onnxruntime']:.2f} us "
          f"(sparrow/onnxruntime {best['session'] / best['onnxruntime']:.2f}x)")
    return best


CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import numpy as np
sys.path.insert(0, sys.argv[2])
import sparrow
t1 = time.perf_counter()
session = sparrow.InferenceSession(sys.argv[1], threads=int(sys.argv[3]))
t2 = time.perf_counter()
x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
(logits,) = session.run(None, {session.get_inputs()[0].name: x})
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "session": t2 - t1, "first_run": t3 - t2,
                  "shape": list(logits.shape)}))
"""


def second_session(workdir, threads, rounds):
    import sparrow_models
    path = os.path.join(workdir, "resnet50.onnx")
    onnx.save(sparrow_models.resnet(50), path)
    size = os.path.getsize(path) / 1e6
    compiles = sparrow._compiler.compile_count
    start = time.perf_counter()
    first = sparrow.InferenceSession(path, threads=threads)
    first.run(None, {"input": np.zeros((1, 3, 224, 224), np.float32)})
    took = time.perf_counter() - start
    state = "compiled" if sparrow._compiler.compile_count > compiles else "already cached"
    print(f"ResNet-50 ({size:.0f} MB), first session + run: {took:.2f} s ({state})")
    results = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", CHILD, path, str(REPOSITORY / "python"), str(threads)],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        print(f"  fresh process: import {r['import'] * 1e3:.0f} ms, InferenceSession {r['session'] * 1e3:.0f} ms, "
              f"first run {r['first_run'] * 1e3:.0f} ms, session + first run "
              f"{(r['session'] + r['first_run']) * 1e3:.0f} ms")
    best = min(results, key=lambda r: r["session"] + r["first_run"])
    total = best["session"] + best["first_run"]
    print(f"ResNet-50 second session from the cache, best of {rounds}: {total * 1e3:.0f} ms "
          f"(constructor {best['session'] * 1e3:.0f} ms + first run {best['first_run'] * 1e3:.0f} ms, "
          f"threads={threads or 'all'}; goal <= 1000 ms; import numpy+sparrow {best['import'] * 1e3:.0f} ms apart)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", help="the compiler (default: $SPARROWC, PATH, .build/release)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=1, help="threads for the ResNet-50 run (0: all)")
    ap.add_argument("--skip-resnet", action="store_true")
    a = ap.parse_args()
    if a.sparrowc:
        os.environ["SPARROWC"] = os.path.abspath(a.sparrowc)
    print(f"cache: {sparrow._cache.cache_dir()}; compiler: {sparrow.find_compiler()}")
    with tempfile.TemporaryDirectory() as workdir:
        overhead(workdir, a.rounds, a.calls)
        if not a.skip_resnet:
            second_session(workdir, a.threads, a.rounds)


if __name__ == "__main__":
    main()
