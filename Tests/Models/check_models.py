"""Runs the model zoo through `sparrowc run` and onnxruntime and compares outputs.

    python check_models.py --sparrowc PATH [--models a,b] [--level -O2] [--workdir DIR]

Exits 1 if any model fails; the last line is `N passed, N failed`.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

ort.set_default_logger_severity(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sparrow_models  # noqa: E402

# The models the tests check by default (bert and resnet50 are benchmark-sized).
DEFAULT = ["resnet18", "mobilenet", "yolo", "dbnet", "crnn", "svtr", "classifier"]
NP_TYPES = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.INT32: np.int32,
            onnx.TensorProto.INT64: np.int64}


def seeded_inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    feeds = {}
    inits = {i.name for i in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        t = inp.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in t.shape.dim]
        dtype = NP_TYPES[t.elem_type]
        if np.issubdtype(dtype, np.integer):
            feeds[inp.name] = rng.integers(0, 100, size=shape).astype(dtype)
        else:
            feeds[inp.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


def reference(path, feeds):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def check(name, sparrowc, workdir, level, rtol=1e-3, atol=1e-4):
    path = os.path.join(workdir, f"{name}.onnx")
    if not os.path.exists(path):
        onnx.save(sparrow_models.MODELS[name](), path)
    model = onnx.load(path, load_external_data=False)
    feeds = seeded_inputs(model)
    expected = reference(path, feeds)
    case_dir = tempfile.mkdtemp(dir=workdir)
    args = [sparrowc, "run", path, "--output-dir", case_dir, level]
    for k, v in feeds.items():
        f = os.path.join(case_dir, f"in_{len(args)}.npy")
        np.save(f, v)
        args += ["--input", f"{k}={f}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr.strip()[:500]}"
    for out, want in expected.items():
        got = np.load(os.path.join(case_dir, "".join(c if c.isalnum() or c in "_.-" else "_" for c in out) + ".npy"))
        if got.shape != want.shape:
            return f"output {out}: shape {got.shape} != {want.shape}"
        if not np.allclose(got, want, rtol=rtol, atol=atol):
            err = np.max(np.abs(got.astype(np.float64) - want))
            return f"output {out}: max abs error {err:.3g}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--models", default=",".join(DEFAULT))
    ap.add_argument("--level", default="-O2")
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    workdir = a.workdir or tempfile.mkdtemp(prefix="sparrow-models-")
    os.makedirs(workdir, exist_ok=True)
    passed = failed = 0
    for name in a.models.split(","):
        problem = check(name, a.sparrowc, workdir, a.level)
        print(f"{'PASS' if problem is None else 'FAIL'} {name}{'' if problem is None else ': ' + problem}")
        passed += problem is None
        failed += problem is not None
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
