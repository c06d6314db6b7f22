"""Minimized reproducers of bugs the differential tester and fuzzers found.

    python regressions.py --sparrowc PATH

Each case is a tiny model built here, run through `sparrowc run` on the listed backends
and compared with onnxruntime. A case marked `xfail` is a known open bug (the reason says
where); it is reported as XFAIL while it fails and as XPASS (a failure of this script,
so the mark gets removed) once it is fixed. The last line printed is
`N passed, N failed`.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def gemm_column_bias_n1():
    """Gemm with N = 1 and a [M, 1] bias: the LLVM target takes the bias for a per-column
    one of M values and traps (GemmEmitter.swift:58 precondition v.count == d.n)."""
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "b", "c"], ["y"], transB=1)], "gemm_n1",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 1])],
        [numpy_helper.from_array(np.array([[1.0, -2.0, 0.5]], np.float32), "b"),
         numpy_helper.from_array(np.arange(4, dtype=np.float32).reshape(4, 1), "c")])
    return g, {"x": np.arange(12, dtype=np.float32).reshape(4, 3) / 7}


# name, builder, backends, xfail reason (None: must pass)
CASES = [
    ("gemm-column-bias-n1", gemm_column_bias_n1, ["interp"], None),
    ("gemm-column-bias-n1-llvm", gemm_column_bias_n1, ["llvm"], None),
]


def run(sparrowc, name, builder, backends):
    graph, inputs = builder()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    expected = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, inputs)
    work = tempfile.mkdtemp(prefix="sparrow-regression-")
    try:
        path = os.path.join(work, f"{name}.onnx")
        onnx.save(model, path)
        argv = [sparrowc, "run", path, "--output-dir", os.path.join(work, "out")]
        for k, v in inputs.items():
            np.save(os.path.join(work, f"{k}.npy"), v)
            argv += ["--input", f"{k}={os.path.join(work, k + '.npy')}"]
        problems = []
        for b in backends:
            p = subprocess.run(argv + ["--backend", b], capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                problems.append(f"{b}: exit {p.returncode}: {p.stderr.strip()[-200:]}")
                continue
            for out, want in zip(graph.output, expected):
                got = np.load(os.path.join(work, "out", out.name + ".npy"))
                if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
                    problems.append(f"{b}: output {out.name} differs from onnxruntime")
        return problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", required=True)
    sparrowc = os.path.abspath(ap.parse_args().sparrowc)
    passed = failed = 0
    for name, builder, backends, xfail in CASES:
        problems = run(sparrowc, name, builder, backends)
        if xfail and problems:
            print(f"XFAIL {name}: {xfail}")
            passed += 1
        elif xfail:
            print(f"XPASS {name}: fixed? remove the xfail mark ({xfail})")
            failed += 1
        elif problems:
            print(f"FAIL {name}: " + "; ".join(problems))
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
