"""`--max-memory`: models over the limit are refused with a message before running.

    python memory_limit.py --sparrowc PATH

Checks, on a model with a 4 MiB weight and a 1x1024 input:
  * `run --max-memory 1M` exits 1 naming the model and the estimate (>= 4 MiB);
  * `run --max-memory 64M` runs and matches numpy;
  * `compile` and `bench` refuse too;
  * binding an absurd input shape (`--input-shape x=1048576x1024`: 4 GiB of input) is
    refused under the default limit's check with `--max-memory 1G` instead of allocating;
  * bad sizes (`0`, `abc`) are usage errors (exit 2).
The last line printed is `N passed, N failed`.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(folder):
    rng = np.random.default_rng(0)
    w = rng.standard_normal([1024, 1024]).astype(np.float32) * 0.03
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
         helper.make_node("Relu", ["m"], ["y"], name="relu")],
        "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1024])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1024])],
        [numpy_helper.from_array(w, "w")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = os.path.join(folder, "big.onnx")
    onnx.save(m, path)
    x = rng.standard_normal([1, 1024]).astype(np.float32)
    np.save(os.path.join(folder, "x.npy"), x)
    return path, np.maximum(x @ w, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", required=True)
    sparrowc = os.path.abspath(ap.parse_args().sparrowc)
    work = tempfile.mkdtemp(prefix="sparrow-maxmem-")
    results = []
    try:
        model, expected = build(work)
        x, out = os.path.join(work, "x.npy"), os.path.join(work, "out")

        def run(*args):
            return subprocess.run([sparrowc, *args], capture_output=True, text=True, timeout=120)

        def check(name, p, code, needles=()):
            ok = p.returncode == code and all(n in p.stderr for n in needles)
            results.append((name, ok, f"exit {p.returncode}: {p.stderr.strip()[-300:]}"))

        shape = ["--input-shape", "x=1x1024"]
        check("run refused at 1M", run("run", model, *shape, "--input", f"x={x}", "--output-dir", out,
                                       "--max-memory", "1M"), 1, ["big.onnx", "--max-memory", "MiB"])
        p = run("run", model, *shape, "--input", f"x={x}", "--output-dir", out, "--max-memory", "64M")
        check("run allowed at 64M", p, 0)
        if p.returncode == 0:
            got = np.load(os.path.join(out, "y.npy"))
            results.append(("result matches numpy", np.allclose(got, expected, rtol=1e-4, atol=1e-5), ""))
        check("compile refused", run("compile", model, *shape, "-o", os.path.join(work, "big.o"),
                                     "--max-memory", "1M"), 1, ["big.onnx"])
        results.append(("no partial output", not os.path.exists(os.path.join(work, "big.o")), ""))
        check("bench refused", run("bench", model, *shape, "--max-memory", "1M"), 1, ["big.onnx"])
        check("absurd input shape refused", run("run", model, "--input-shape", "x=1048576x1024",
                                                "--input", f"x={x}", "--output-dir", out,
                                                "--max-memory", "1G"), 1, ["big.onnx", "GiB"])
        check("size 0 is a usage error", run("run", model, "--max-memory", "0"), 2, ["--max-memory"])
        check("size abc is a usage error", run("run", model, "--max-memory", "abc"), 2, ["--max-memory"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = [r for r in results if not r[1]]
    for name, _, detail in failed:
        print(f"FAIL {name}: {detail}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
