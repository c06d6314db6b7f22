"""`sparrowc quantize` end to end: fp32 model -> QDQ int8 file -> onnxruntime and Sparrow.

    python check_quantize.py --sparrowc PATH [--backend interp|llvm] [--workdir DIR]

Two models built here with onnx.helper (random weights, seeded): a small CNN (convs with
bias, ReLU, max-pool, a residual add, a 2:4-pruned 1x1 conv, global average pool, Gemm)
and a transformer block (QKV/output/FFN MatMuls with bias Adds, attention with softmax,
residual adds, LayerNormalization). Each is quantized with `--calibrate-random 8` (and the
CNN again with `--calibration percentile` and with a `--calibrate DIR` of .npy samples;
both again stored with external data),
then checked:
- the file passes onnx.checker, has opset >= 13, int8 per-channel weights, int32 biases,
  and the 2:4 pruned weight is still 2:4 (every pruned zero still zero);
- onnxruntime runs it, and its outputs are close to the fp32 model's on inputs it was not
  calibrated on (seeded uniform [-1, 1), as the calibration): the largest difference, as
  a share of the fp32 output's largest magnitude, must be below FP32_TOLERANCE;
- `sparrowc run` of the quantized file (fold-qdq first, as check_int8.py runs int8 files)
  agrees with onnxruntime running the same file as written (graph optimizations off: the
  float QDQ semantics) within one output quantization step nearly everywhere: at most 2
  steps anywhere and at most 5 % of elements more than one step off; and every Conv, Gemm
  and constant-weight MatMul ran as an integer op (qconv/qmatmul in the IR);
- calibration diagnostics: a missing folder, a missing input file and a shape mismatch
  each exit 1 naming the path; no calibration flag exits 2.
An output that no DequantizeLinear writes (the transformer's, after a float bias add and
LayerNorm) is measured in steps of (max - min) / 255 of the reference output.
Exits 1 on a failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ort.set_default_logger_severity(3)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_int8  # noqa: E402
PIPELINE = "fold-qdq,remove-identity,constant-fold,cse,dce"
# Largest |int8 - fp32| as a share of max |fp32| (measured: CNN 3.7-4.2 %, transformer 10.6 %;
# onnxruntime's own quantize_static on the same models: 3.3 % and 18 %).
FP32_TOLERANCE = {"cnn": 0.06, "transformer": 0.15}


def init(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def cnn():
    rng = np.random.default_rng(1)
    w = lambda *s: rng.normal(0, (2.0 / np.prod(s[1:])) ** 0.5, s).astype(np.float32)
    pruned = w(32, 16, 1, 1)
    groups = pruned.reshape(32, 4, 4)  # 2:4 along the input channels
    for o in range(32):
        for g in range(4):
            groups[o, g, rng.permutation(4)[:2]] = 0
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="conv3", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c3", "p1"], ["s3"], name="residual"),
        helper.make_node("Relu", ["s3"], ["r3"], name="relu3"),
        helper.make_node("Conv", ["r3", "w4", "b4"], ["c4"], name="conv_pruned"),
        helper.make_node("Relu", ["c4"], ["r4"], name="relu4"),
        helper.make_node("GlobalAveragePool", ["r4"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wfc", "bfc"], ["logits"], name="fc", transB=1),
    ]
    inits = [init("w1", w(16, 3, 3, 3)), init("b1", rng.normal(0, 0.1, 16)),
             init("w2", w(16, 16, 3, 3)), init("b2", rng.normal(0, 0.1, 16)),
             init("w3", w(16, 16, 3, 3)), init("b3", rng.normal(0, 0.1, 16)),
             init("w4", pruned), init("b4", rng.normal(0, 0.1, 32)),
             init("wfc", w(10, 32)), init("bfc", rng.normal(0, 0.1, 10))]
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def transformer():
    rng = np.random.default_rng(2)
    d, heads, seq, ff = 32, 2, 16, 64
    w = lambda *s: rng.normal(0, s[0] ** -0.5, s).astype(np.float32)
    nodes, inits = [], []

    def linear(x, name, k, n, out):
        inits.extend([init(f"{name}.weight", w(k, n)), init(f"{name}.bias", rng.normal(0, 0.05, n))])
        nodes.append(helper.make_node("MatMul", [x, f"{name}.weight"], [f"{name}_mm"], name=f"{name}/MatMul"))
        nodes.append(helper.make_node("Add", [f"{name}_mm", f"{name}.bias"], [out], name=f"{name}/Add"))

    inits.append(numpy_helper.from_array(np.array([1, seq, heads, d // heads], np.int64), "heads_shape"))
    inits.append(numpy_helper.from_array(np.array([1, seq, d], np.int64), "model_shape"))
    inits.append(init("inv_sqrt", np.array(1 / np.sqrt(d // heads))))
    for proj in ("q", "k", "v"):
        linear("x", proj, d, d, f"{proj}_flat")
        nodes.append(helper.make_node("Reshape", [f"{proj}_flat", "heads_shape"], [f"{proj}_split"], name=f"{proj}/Reshape"))
        perm = [0, 2, 3, 1] if proj == "k" else [0, 2, 1, 3]
        nodes.append(helper.make_node("Transpose", [f"{proj}_split"], [f"{proj}_heads"], name=f"{proj}/Transpose", perm=perm))
    nodes += [
        helper.make_node("MatMul", ["q_heads", "k_heads"], ["scores_raw"], name="attn/QK"),
        helper.make_node("Mul", ["scores_raw", "inv_sqrt"], ["scores"], name="attn/Scale"),
        helper.make_node("Softmax", ["scores"], ["probs"], name="attn/Softmax", axis=-1),
        helper.make_node("MatMul", ["probs", "v_heads"], ["context_heads"], name="attn/PV"),
        helper.make_node("Transpose", ["context_heads"], ["context_split"], name="attn/Transpose", perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["context_split", "model_shape"], ["context"], name="attn/Reshape"),
    ]
    linear("context", "o", d, d, "attn_out")
    nodes.append(helper.make_node("Add", ["attn_out", "x"], ["res1"], name="res1/Add"))
    inits += [init("ln.gamma", np.ones(d)), init("ln.beta", np.zeros(d))]
    nodes.append(helper.make_node("LayerNormalization", ["res1", "ln.gamma", "ln.beta"], ["h"], name="ln", axis=-1))
    linear("h", "ff1", d, ff, "ff1_out")
    nodes.append(helper.make_node("Relu", ["ff1_out"], ["ff1_act"], name="ff1/Relu"))
    linear("ff1_act", "ff2", ff, d, "ff2_out")
    nodes.append(helper.make_node("Add", ["ff2_out", "h"], ["y"], name="res2/Add"))
    graph = helper.make_graph(nodes, "block", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, d])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, d])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


MODELS = {"cnn": cnn, "transformer": transformer}


def feeds_for(model, seed):
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in model.graph.input:
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return feeds


def ort_run(path, feeds, optimized=True):
    """onnxruntime's outputs, in graph order (optimized=False: every Q/DQ op as written)."""
    return list(check_int8.reference(path, feeds, optimized).values())


def sparrow_run(sparrowc, path, feeds, backend, workdir):
    case = tempfile.mkdtemp(dir=workdir)
    args = [sparrowc, "run", path, "--output-dir", case, "--passes", PIPELINE, "--backend", backend]
    for k, v in feeds.items():
        f = os.path.join(case, f"in_{k}.npy")
        np.save(f, v)
        args += ["--input", f"{k}={f}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"sparrowc run exit {proc.returncode}: {proc.stderr.strip()[:400]}")
    return case


def quantize(sparrowc, src, dst, *extra):
    return subprocess.run([sparrowc, "quantize", src, "-o", dst, *extra], capture_output=True, text=True, timeout=600)


def structure_problems(path, name, fp32):
    """What is wrong with the QDQ file's structure (empty when nothing)."""
    q = onnx.load(path)
    onnx.checker.check_model(q)
    problems = []
    opset = max(o.version for o in q.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        problems.append(f"opset {opset}")
    inits = {i.name: numpy_helper.to_array(i) for i in q.graph.initializer}
    float_weights = [n.input[1] for n in fp32.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")
                     and n.input[1] in {i.name for i in fp32.graph.initializer}]
    for wname in float_weights:
        qw = inits.get(f"{wname}_quantized")
        if qw is None or qw.dtype != np.int8:
            problems.append(f"{wname}: no int8 weight")
        elif inits[f"{wname}_scale"].size < 2:
            problems.append(f"{wname}: not per channel")
    for b in ("b1", "b4", "bfc") if name == "cnn" else ():
        if inits.get(f"{b}_quantized", np.zeros(0, np.float32)).dtype != np.int32:
            problems.append(f"{b}: no int32 bias")
    if name == "cnn":
        original = {i.name: numpy_helper.to_array(i) for i in fp32.graph.initializer}["w4"]
        quantized = inits["w4_quantized"]
        if np.any(quantized[original == 0] != 0) or np.count_nonzero(quantized.reshape(32, 4, 4), axis=2).max() > 2:
            problems.append("w4 is no longer 2:4")
    return problems


def integer_op_count(sparrowc, path):
    ir = subprocess.run([sparrowc, "dump-ir", path, "--passes", PIPELINE], capture_output=True, text=True)
    ops = [line.split("=")[1].split()[0] for line in ir.stdout.splitlines() if " = " in line]
    return sum(op in ("qconv", "qmatmul") for op in ops)


def compare(name, sparrowc, workdir, backend, qpath, fp32_path, fp32, expected_integer_ops):
    report, failed = [], False
    problems = structure_problems(qpath, name, fp32)
    if problems:
        return True, "structure: " + "; ".join(problems)
    integer_ops = integer_op_count(sparrowc, qpath)
    report.append(f"{integer_ops}/{expected_integer_ops} integer ops")
    failed |= integer_ops != expected_integer_ops
    q = onnx.load(qpath)
    producers = {o: n for n in q.graph.node for o in n.output}
    scales = {i.name: numpy_helper.to_array(i) for i in q.graph.initializer}
    worst_fp32, worst_l2, worst_steps, over = 0.0, 0.0, 0.0, 0.0
    for seed in (1000, 1001, 1002):
        feeds = feeds_for(fp32, seed)
        want32 = ort_run(fp32_path, feeds)[0]
        got_ort = ort_run(qpath, feeds)[0]
        worst_fp32 = max(worst_fp32, float(np.abs(got_ort - want32).max() / np.abs(want32).max()))
        worst_l2 = max(worst_l2, float(np.linalg.norm(got_ort - want32) / np.linalg.norm(want32)))
        reference = ort_run(qpath, feeds, optimized=False)[0]
        case = sparrow_run(sparrowc, qpath, feeds, backend, workdir)
        out = q.graph.output[0].name
        got = np.load(os.path.join(case, f"{out}.npy"))
        dq = producers.get(out)
        step = float(scales[dq.input[1]]) if dq is not None and dq.op_type == "DequantizeLinear" else \
            float(reference.max() - reference.min()) / 255
        steps = np.rint(np.abs(got.astype(np.float64) - reference) / step)
        worst_steps = max(worst_steps, float(steps.max()))
        over = max(over, float(np.mean(steps > 1)))
    report.append(f"onnxruntime int8 vs fp32: max {worst_fp32 * 100:.2f} % of the output's magnitude, "
                  f"relative L2 {worst_l2 * 100:.2f} %")
    report.append(f"sparrowc vs onnxruntime (same file): max {worst_steps:.0f} steps, {over * 100:.2f} % more than one")
    failed |= worst_fp32 > FP32_TOLERANCE[name] or worst_steps > 2 or over > 0.05
    return failed, "; ".join(report)


def check_diagnostics(sparrowc, workdir, fp32_path):
    """Exit codes and located messages of bad calibration input; '' when all hold."""
    problems = []
    out = os.path.join(workdir, "diag.onnx")
    cases = []
    missing = os.path.join(workdir, "no-such-folder")
    cases.append(("missing folder", quantize(sparrowc, fp32_path, out, "--calibrate", missing), 1, missing))
    empty_sample = os.path.join(workdir, "calib-missing", "000")
    os.makedirs(empty_sample, exist_ok=True)
    np.save(os.path.join(empty_sample, "other.npy"), np.zeros(3, np.float32))
    cases.append(("stray file", quantize(sparrowc, fp32_path, out, "--calibrate", os.path.dirname(empty_sample)), 1, empty_sample))
    os.remove(os.path.join(empty_sample, "other.npy"))
    cases.append(("missing input", quantize(sparrowc, fp32_path, out, "--calibrate", os.path.dirname(empty_sample)), 1, empty_sample))
    bad = os.path.join(workdir, "calib-shape", "000")
    os.makedirs(bad, exist_ok=True)
    np.save(os.path.join(bad, "image.npy"), np.zeros((1, 3, 16, 16), np.float32))
    cases.append(("shape mismatch", quantize(sparrowc, fp32_path, out, "--calibrate", os.path.dirname(bad)), 1,
                  os.path.join(bad, "image.npy")))
    cases.append(("no calibration flag", subprocess.run([sparrowc, "quantize", fp32_path, "-o", out],
                                                        capture_output=True, text=True), 2, "--calibrate"))
    for what, proc, code, needle in cases:
        if proc.returncode != code or needle not in proc.stderr:
            problems.append(f"{what}: exit {proc.returncode}, stderr {proc.stderr.strip()[:200]!r}")
    if os.path.exists(out):
        problems.append("a failed quantize left its output file")
    return "; ".join(problems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparrowc", required=True)
    ap.add_argument("--backend", default="interp", choices=["interp", "llvm"])
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    workdir = a.workdir or tempfile.mkdtemp(prefix="sparrow-quantize-")
    os.makedirs(workdir, exist_ok=True)
    results = []
    for name, make in MODELS.items():
        fp32 = make()
        fp32_path = os.path.join(workdir, f"{name}.onnx")
        onnx.save(fp32, fp32_path)
        consts = {i.name for i in fp32.graph.initializer}
        expected = sum(n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in consts for n in fp32.graph.node)
        variants = [("random", fp32_path, ["--calibrate-random", "8"])]
        if name == "cnn":
            variants.append(("percentile", fp32_path, ["--calibrate-random", "8", "--seed", "3", "--calibration", "percentile:99.9"]))
            calib = os.path.join(workdir, "calib")
            for i in range(4):
                os.makedirs(os.path.join(calib, f"{i:03d}"), exist_ok=True)
                np.save(os.path.join(calib, f"{i:03d}", "image.npy"), feeds_for(fp32, 500 + i)["image"])
            variants.append(("dir", fp32_path, ["--calibrate", calib]))
        # Initializers over 200 bytes in an external data file next to the model; the output
        # goes elsewhere (the transformer's float ff1.bias stays, inlined; onnxruntime cannot
        # read shape tensors stored externally, so those stay in the file).
        external = os.path.join(workdir, "external", f"{name}.onnx")
        os.makedirs(os.path.dirname(external), exist_ok=True)
        onnx.save(make(), external, save_as_external_data=True, location=f"{name}.data", size_threshold=200)
        variants.append(("external data", external, ["--calibrate-random", "8"]))
        for variant, src, flags in variants:
            qpath = os.path.join(workdir, f"{name}_{variant.replace(' ', '_')}_int8.onnx")
            proc = quantize(a.sparrowc, src, qpath, *flags)
            if proc.returncode != 0:
                results.append((f"{name} ({variant})", True, f"quantize exit {proc.returncode}: {proc.stderr.strip()[:400]}"))
                continue
            try:
                failed, report = compare(name, a.sparrowc, workdir, a.backend, qpath, src, fp32, expected)
            except Exception as e:  # noqa: BLE001 (report, then fail)
                failed, report = True, f"{type(e).__name__}: {e}"
            results.append((f"{name} ({variant})", failed, report))
    diag = check_diagnostics(a.sparrowc, workdir, os.path.join(workdir, "cnn.onnx"))
    results.append(("diagnostics", bool(diag), diag or "missing folder, stray file, missing input, shape mismatch located; no flag: exit 2"))
    failures = 0
    for what, failed, report in results:
        print(f"{'FAIL' if failed else 'PASS'} {what}: {report}")
        failures += failed
    print(f"{len(results) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
