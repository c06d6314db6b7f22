"""External data must never be read from outside the model's folder (CVE-2024-27318/27319).

    python external_data_security.py --sparrowc PATH

For each hostile location (`../../etc/passwd`, `../../sentinel.bin`, an absolute path to
a sentinel, `/etc/passwd`, a symlink inside the folder pointing out of it) it builds a
model whose initializer's external data points there, places a *valid* sentinel file at
the target (so a reader that followed the path would succeed and the bug would be
silent), and runs `sparrowc dump-ir` and `sparrowc run` under
`strace -f -e trace=open,openat`. Each must exit 1 with a diagnostic naming the model
file, and the trace must show no open of the target. Without a usable strace the
sentinels are made unreadable instead (chmod 000): a reader that tried them would then
report "cannot open/read" rather than the refusal, which is also checked. The last line
printed is `N passed, N failed`.
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


def model_with_external(location, nbytes):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[nbytes // 4])
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value=location)
    w.external_data.add(key="length", value=str(nbytes))
    node = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    graph = helper.make_graph([node], "ext", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [nbytes // 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [nbytes // 4])], [w])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def strace_works():
    if not shutil.which("strace"):
        return False
    p = subprocess.run(["strace", "-f", "-e", "trace=openat", "-o", "/dev/null", "true"],
                       capture_output=True)
    return p.returncode == 0


def opened_paths(trace_file):
    paths = []
    for line in open(trace_file, errors="replace"):
        if "open" in line and '"' in line:
            paths.append(line.split('"')[1])
    return paths


# Files a run opens for reasons of its own (e.g. libc reading /etc/passwd for the home
# folder); a hostile location naming one of them is judged by the message alone.
BASELINE = set()


def baseline_opens(sparrowc):
    work = tempfile.mkdtemp(prefix="sparrow-extdata-")
    try:
        m = model_with_external("w.bin", 16)
        with open(os.path.join(work, "w.bin"), "wb") as f:
            f.write(bytes(16))
        onnx.save(m, os.path.join(work, "m.onnx"))
        trace = os.path.join(work, "trace.txt")
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", trace, sparrowc,
                        "dump-ir", os.path.join(work, "m.onnx")], capture_output=True, timeout=60)
        return {os.path.normpath(os.path.join(work, q)) for q in opened_paths(trace)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check(sparrowc, use_strace, name, location, targets, make_symlink=None):
    """Returns a list of problems for one hostile location."""
    work = tempfile.mkdtemp(prefix="sparrow-extdata-")
    try:
        folder = os.path.join(work, "a", "b")
        os.makedirs(folder)
        os.makedirs(os.path.join(work, "etc"))
        nbytes = 16
        payload = np.arange(nbytes // 4, dtype=np.float32).tobytes()
        resolved = []
        for t in targets:
            t = t.replace("$WORK", work)
            resolved.append(t)
            if t.startswith(work):
                with open(t, "wb") as f:
                    f.write(payload)
                if not use_strace:
                    os.chmod(t, 0)
        if make_symlink:
            os.symlink(resolved[0], os.path.join(folder, make_symlink))
        model_file = os.path.join(folder, f"{name}.onnx")
        onnx.save(model_with_external(location.replace("$WORK", work), nbytes), model_file)
        x = os.path.join(work, "x.npy")
        np.save(x, np.zeros(nbytes // 4, np.float32))
        problems = []
        for argv in ([sparrowc, "dump-ir", model_file],
                     [sparrowc, "run", model_file, "--input", f"x={x}", "--output-dir", os.path.join(work, "out")]):
            trace = os.path.join(work, "trace.txt")
            full = (["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", trace] if use_strace else []) + argv
            p = subprocess.run(full, capture_output=True, text=True, timeout=60)
            what = f"{name}: {argv[1]}"
            if p.returncode != 1:
                problems.append(f"{what}: exit {p.returncode}, expected 1: {p.stderr.strip()[-300:]}")
            elif os.path.basename(model_file) not in p.stderr:
                problems.append(f"{what}: the message does not name the model: {p.stderr.strip()}")
            elif "cannot open" in p.stderr or "cannot read" in p.stderr or "Permission" in p.stderr:
                problems.append(f"{what}: tried to open the file outside the folder: {p.stderr.strip()}")
            if use_strace:
                opened = {os.path.normpath(os.path.join(work, q)) for q in opened_paths(trace)}
                bad = opened & set(resolved) - BASELINE
                if bad:
                    problems.append(f"{what}: opened {sorted(bad)}")
        return problems
    finally:
        for root, dirs, files in os.walk(work):
            for f in files:
                try:
                    os.chmod(os.path.join(root, f), 0o600)
                except OSError:
                    pass
        shutil.rmtree(work, ignore_errors=True)


CASES = [
    # name, location, files that must not be opened, symlink name inside the folder
    ("parent-etc-passwd", "../../etc/passwd", ["$WORK/etc/passwd"], None),
    ("parent-sentinel", "../../sentinel.bin", ["$WORK/sentinel.bin"], None),
    ("absolute-sentinel", "$WORK/sentinel.bin", ["$WORK/sentinel.bin"], None),
    ("absolute-etc-passwd", "/etc/passwd", ["/etc/passwd"], None),
    ("inner-dotdot", "sub/../../../sentinel.bin", ["$WORK/a/sentinel.bin"], None),
    ("symlink-out", "link.bin", ["$WORK/sentinel.bin"], "link.bin"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", required=True)
    args = ap.parse_args()
    sparrowc = os.path.abspath(args.sparrowc)
    use_strace = strace_works()
    if use_strace:
        BASELINE.update(baseline_opens(sparrowc))
    print(f"checking with {'strace' if use_strace else 'unreadable sentinels (no usable strace)'}")
    passed = failed = 0
    for name, location, targets, link in CASES:
        problems = check(sparrowc, use_strace, name, location, targets, link)
        if problems:
            failed += 1
            for p in problems:
                print("FAIL", p)
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
