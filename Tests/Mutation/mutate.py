"""Mutation harness: breaks valid ONNX models and checks sparrowc fails cleanly.

    python mutate.py --sparrowc PATH [--count 300] [--seed 0] [--jobs 2] [--timeout 20]
                     [--conformance] [--only MUTATION] [--keep]

Seed models are the builtin ones in seeds.py plus, with --conformance, the models under
Tests/Conformance/data/ (written by run_conformance.py). Case i applies mutation
i mod M (mutations.py) to a seeded choice of model, writes it to a temporary folder as
<seed>-<mutation>.onnx (with any external data files and seeded .npy inputs), and runs
`sparrowc dump-ir` and `sparrowc run` on it, each with a timeout and an address-space
limit (so a runaway allocation fails instead of exhausting the machine).

Outcomes: exit 0 passes; exit 1 or 2 passes only with a diagnostic on stderr that names
the model file; a signal, a timeout, exit 3, any other code, or exit 1/2 without such a
message fails, and the case is saved under Tests/Mutation/failures/ (git-ignored) with a
README holding the command and its output. expected_failures.txt lists known failures
as `model:mutation  # reason` (`*` matches any model); they are counted separately.
The exit status is non-zero if an unlisted case fails. The last line printed is
`N passed, N failed`.
"""
import argparse
import concurrent.futures
import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import mutations  # noqa: E402
import seeds  # noqa: E402

FAILURES = os.path.join(HERE, "failures")
EXPECTED = os.path.join(HERE, "expected_failures.txt")
MEMORY_LIMIT = 6 << 30  # bytes of address space per sparrowc process (--address-space-limit)

NP_TYPES = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.INT64: np.int64,
            onnx.TensorProto.INT32: np.int32, onnx.TensorProto.BOOL: np.bool_}


def load_models(use_conformance, seed):
    models = seeds.seed_models(seed)
    if use_conformance:
        pattern = os.path.join(ROOT, "Tests", "Conformance", "data", "*", "*", "model.onnx")
        for path in sorted(glob.glob(pattern)):
            name = "/".join(path.split(os.sep)[-3:-1])
            try:
                models.append((name, onnx.load(path)))
            except Exception:
                continue
    return models


def seeded_inputs(model, rng):
    """{name: array} for every graph input, or None if a shape or type is not static."""
    inits = {t.name for t in model.graph.initializer}
    arrays = {}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        tt = inp.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if tt.elem_type not in NP_TYPES or any(d is None or d < 0 for d in dims) or \
                int(np.prod(dims)) > 1 << 20:
            return None
        dtype = NP_TYPES[tt.elem_type]
        if dtype == np.float32:
            arrays[inp.name] = rng.standard_normal(dims).astype(np.float32)
        elif dtype == np.bool_:
            arrays[inp.name] = rng.integers(0, 2, dims).astype(np.bool_)
        else:
            arrays[inp.name] = rng.integers(0, 3, dims).astype(dtype)
    return arrays


def make_case(index, models, names, seed):
    """(case id, model name, mutation name, Case, inputs) for case `index`, or None."""
    rng = np.random.default_rng([seed, index])
    mutation = names[index % len(names)]
    order = rng.permutation(len(models))
    for k in order[:8]:
        model_name, model = models[int(k)]
        case = mutations.MUTATIONS[mutation](model, rng)
        if case is not None:
            # The `light` suite holds whole networks (densenet, resnet ...): a debug build
            # interprets them in seconds unloaded but may pass the timeout on a busy
            # machine, so they are only imported (dump-ir), not run.
            inputs = None if model_name.startswith("light/") else seeded_inputs(model, rng)
            cid = f"{index:05d}-{model_name.replace('/', '_')}-{mutation}"
            return cid, model_name, mutation, case, inputs
    return None


def limit_memory():
    if MEMORY_LIMIT > 0:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def classify(code, stderr, model_file):
    """None if the outcome is acceptable, else the reason it is a failure."""
    if code is None:
        return "timeout"
    if code < 0:
        return f"killed by signal {-code}"
    if code == 0:
        return None
    if code in (1, 2):
        if not stderr.strip():
            return f"exit {code} without a message"
        if os.path.basename(model_file) not in stderr:
            return f"exit {code}: the message does not name the model file"
        return None
    return f"exit {code}"


def run_sparrowc(argv, cwd, timeout):
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace",
                           timeout=timeout, preexec_fn=limit_memory)
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, err


def run_case(made, sparrowc, timeout, keep):
    cid, model_name, mutation, case, inputs = made
    work = tempfile.mkdtemp(prefix="sparrow-mutation-")
    folder = os.path.join(work, "a", "b")  # '../../x' from here is still inside `work`
    os.makedirs(folder)
    model_file = os.path.join(folder, f"{model_name.replace('/', '_')}-{mutation}.onnx")
    with open(model_file, "wb") as f:
        f.write(case.model_bytes)
    for rel, data in case.extra_files.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    commands = [[sparrowc, "dump-ir", model_file]]
    if inputs is not None:
        argv = [sparrowc, "run", model_file, "--output-dir", os.path.join(work, "out")]
        for name, array in inputs.items():
            path = os.path.join(work, f"input_{len(argv)}.npy")
            np.save(path, array)
            argv += ["--input", f"{name}={path}"]
        commands.append(argv)
    problems = []
    for argv in commands:
        code, stderr = run_sparrowc(argv, work, timeout)
        reason = classify(code, stderr, model_file)
        if reason:
            problems.append((argv, code, stderr, reason))
    if problems and keep:
        dest = os.path.join(FAILURES, cid)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(work, dest)
        with open(os.path.join(dest, "README.txt"), "w") as f:
            f.write(f"{model_name}: {mutation}: {case.description}\n")
            for argv, code, stderr, reason in problems:
                f.write(f"\n$ {' '.join(argv)}\n# {reason} (exit {code})\n{stderr[-4000:]}\n")
    shutil.rmtree(work, ignore_errors=True)
    return cid, model_name, mutation, case.description, problems


def load_expected():
    expected = {}
    if os.path.exists(EXPECTED):
        for line in open(EXPECTED):
            key, _, reason = line.partition("#")
            if key.strip():
                expected[key.strip()] = reason.strip()
    return expected


def is_expected(expected, model_name, mutation):
    return f"{model_name}:{mutation}" in expected or f"*:{mutation}" in expected


def main():
    global MEMORY_LIMIT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparrowc", default=os.path.join(ROOT, ".build", "debug", "sparrowc"))
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--conformance", action="store_true",
                    help="also mutate the models under Tests/Conformance/data/")
    ap.add_argument("--only", action="append", help="run only this mutation (repeatable)")
    ap.add_argument("--address-space-limit", type=int, default=MEMORY_LIMIT >> 30,
                    help="GiB of address space per sparrowc run; 0 for none (needed for ASan/TSan builds, which reserve terabytes of shadow memory)")
    ap.add_argument("--no-keep", dest="keep", action="store_false",
                    help="do not save failing cases")
    args = ap.parse_args()
    MEMORY_LIMIT = args.address_space_limit << 30
    sparrowc = os.path.abspath(args.sparrowc)
    if not os.access(sparrowc, os.X_OK):
        sys.exit(f"mutate.py: no sparrowc at {sparrowc} (build it or pass --sparrowc)")

    models = load_models(args.conformance, args.seed)
    names = args.only or list(mutations.MUTATIONS)
    unknown = [n for n in names if n not in mutations.MUTATIONS]
    if unknown:
        sys.exit(f"mutate.py: unknown mutation(s) {unknown}; known: {list(mutations.MUTATIONS)}")
    cases = [c for c in (make_case(i, models, names, args.seed) for i in range(args.count)) if c]
    expected = load_expected()
    passed = failed = xfailed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_case, c, sparrowc, args.timeout, args.keep) for c in cases]
        for fut in concurrent.futures.as_completed(futures):
            cid, model_name, mutation, description, problems = fut.result()
            if not problems:
                passed += 1
            elif is_expected(expected, model_name, mutation):
                xfailed += 1
            else:
                failed += 1
                for argv, code, stderr, reason in problems:
                    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
                    print(f"FAIL {cid} ({description}): {argv[1]}: {reason}: {last[:200]}")
    if xfailed:
        print(f"{xfailed} expected failures (expected_failures.txt)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
