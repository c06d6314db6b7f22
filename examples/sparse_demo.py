#!/usr/bin/env python3
"""The sparsity part of `make demo`: a transformer feed-forward stack of realistic layer
sizes, pruned two ways, inspected, checked against onnxruntime and timed against the
same model with sparsity off.

    python examples/sparse_demo.py --sparrowc SPARROWC OUT_DIR

Model: x [128, 768] -> 2 x (MatMul 768x3072 + bias -> Relu -> MatMul 3072x768 + bias +
residual): 1.2 GFLOP per run, the shapes of a BERT-base FFN. bench/prune.py writes the
2:4 and 4x4-block 90 % variants (nothing generated is committed); `sparrowc inspect`
shows the format the cost model picks per layer; `sparrowc bench` times `--sparsity
auto` against `--sparsity off` on the LLVM target, one thread, rounds interleaved.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SEQ, HIDDEN, FFN, BLOCKS = 128, 768, 3072, 2


def build(path):
    rng = np.random.default_rng(0)
    inits, nodes, x = [], [], "x"
    for b in range(BLOCKS):
        for name, shape in [(f"ffn{b}.w1", (HIDDEN, FFN)), (f"ffn{b}.w2", (FFN, HIDDEN))]:
            inits.append(numpy_helper.from_array((rng.standard_normal(shape) * 0.03).astype(np.float32), name))
        for name, n in [(f"ffn{b}.b1", FFN), (f"ffn{b}.b2", HIDDEN)]:
            inits.append(numpy_helper.from_array((rng.standard_normal(n) * 0.1).astype(np.float32), name))
        nodes += [
            helper.make_node("MatMul", [x, f"ffn{b}.w1"], [f"h{b}"], name=f"ffn{b}.up"),
            helper.make_node("Add", [f"h{b}", f"ffn{b}.b1"], [f"hb{b}"], name=f"ffn{b}.up_bias"),
            helper.make_node("Relu", [f"hb{b}"], [f"a{b}"], name=f"ffn{b}.act"),
            helper.make_node("MatMul", [f"a{b}", f"ffn{b}.w2"], [f"d{b}"], name=f"ffn{b}.down"),
            helper.make_node("Add", [f"d{b}", f"ffn{b}.b2"], [f"db{b}"], name=f"ffn{b}.down_bias"),
            helper.make_node("Add", [f"db{b}", x], [f"y{b}"], name=f"ffn{b}.residual"),
        ]
        x = f"y{b}"
    graph = helper.make_graph(nodes, "ffn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [SEQ, HIDDEN])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [SEQ, HIDDEN])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def sparrowc(args, *rest, capture=True):
    return subprocess.run([args.sparrowc, *rest], check=True, text=True,
                          stdout=subprocess.PIPE if capture else None).stdout


def median_ms(args, model, sparsity):
    out = sparrowc(args, "bench", model, "--backend", "llvm", "--threads", "1", "--sparsity", sparsity,
                   "--iterations", "15", "--warmup", "3", "--json")
    return json.loads(out)["median_ms"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sparrowc", required=True)
    p.add_argument("out")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dense = os.path.join(args.out, "ffn.onnx")
    build(dense)
    subprocess.run([sys.executable, os.path.join(HERE, "..", "bench", "prune.py"), dense, args.out,
                    "--patterns", "2:4,b4x4-90"], check=True)
    variants = [("2:4", os.path.join(args.out, "ffn.2of4.onnx")),
                ("4x4 blocks, 90 %", os.path.join(args.out, "ffn.b4x4-90.onnx"))]
    x = np.random.default_rng(1).standard_normal((SEQ, HIDDEN)).astype(np.float32)
    np.save(os.path.join(args.out, "ffn_x.npy"), x)
    print(f"== inspect: the format chosen per layer ({variants[0][0]})", flush=True)
    sparrowc(args, "inspect", variants[0][1], capture=False)
    failures = 0
    for label, model in variants:
        want = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        outdir = os.path.join(args.out, "ffn_out")
        sparrowc(args, "run", model, "--backend", "llvm", "--input", f"x={os.path.join(args.out, 'ffn_x.npy')}",
                 "--output-dir", outdir)
        got = np.load(os.path.join(outdir, "y1.npy"))
        err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        ok = err <= 1e-4
        failures += not ok
        # Two interleaved rounds; the best median of each mode.
        auto, off = [], []
        for _ in range(2):
            auto.append(median_ms(args, model, "auto"))
            off.append(median_ms(args, model, "off"))
        print(f"== {label}: sparse {min(auto):.2f} ms, dense {min(off):.2f} ms -> {min(off) / min(auto):.2f}x faster; "
              f"matches onnxruntime: {'yes' if ok else 'NO'} (max error {err:.1e} of the output's scale)", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
