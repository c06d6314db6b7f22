#!/usr/bin/env python3
"""The default library runs on every x86-64-v3 CPU and picks its AVX-512 kernels where
the CPU has them (Targets/LLVM/Emit/PortableLibrary.swift).

    python Tests/Models/check_portable.py --sparrowc SPARROWC [--model resnet18]

Compiles a zoo model (Tests/Models/sparrow_models.py) with `sparrowc compile` and no
--target-cpu, links examples/run_model.c against it, and compares its output with the
interpreter's (`sparrowc run --backend interp`) when it runs
  - natively (the CPU's own choice),
  - with SPARROW_ISA=avx2 (the AVX2 kernels forced),
  - with SPARROW_ISA=avx512 when this CPU has AVX-512,
  - under `qemu-x86_64 -cpu Haswell` (an AVX2-only CPU; qemu-user, skipped with a note
    when it is not installed), where the CPUID check must choose the AVX2 kernels.
The tolerance is the project's rule: 1e-4 of the output's largest magnitude.
Prints one line per run and exits 1 on any mismatch or crash.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
import sparrow_models  # noqa: E402


def has_avx512():
    with open("/proc/cpuinfo") as f:
        return " avx512f " in f.read().replace("\n", " ")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sparrowc", required=True)
    p.add_argument("--model", default="resnet18")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="sparrow-portable-")
    try:
        model = os.path.join(work, f"{args.model}.onnx")
        import onnx
        onnx.save(sparrow_models.MODELS[args.model](), model)
        m = onnx.load(model)
        inp = m.graph.input[0]
        shape = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
        x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        np.save(os.path.join(work, "x.npy"), x)
        x.tofile(os.path.join(work, "x.bin"))
        subprocess.run([args.sparrowc, "run", model, "--backend", "interp", "--input", f"{inp.name}={work}/x.npy",
                        "--output-dir", os.path.join(work, "ref")], check=True)
        output = m.graph.output[0].name
        want = np.load(os.path.join(work, "ref", f"{output}.npy"))
        lib = os.path.join(work, "libnet.so")
        subprocess.run([args.sparrowc, "compile", model, "--name", "net", "-o", lib, "--header",
                        os.path.join(work, "net.h")], check=True)
        runner = os.path.join(work, "run_net")
        subprocess.run(["cc", "-O2", '-DMODEL_HEADER="net.h"', "-DMODEL_PREFIX=net", f"-I{work}",
                        os.path.join(ROOT, "examples", "run_model.c"), f"-L{work}", "-lnet",
                        f"-Wl,-rpath,{work}", "-o", runner], check=True)
        runs = [("native", [], {}), ("SPARROW_ISA=avx2", [], {"SPARROW_ISA": "avx2"})]
        if has_avx512():
            runs.append(("SPARROW_ISA=avx512", [], {"SPARROW_ISA": "avx512"}))
        qemu = shutil.which("qemu-x86_64")
        if qemu:
            runs.append(("qemu-x86_64 -cpu Haswell", [qemu, "-cpu", "Haswell"], {}))
        else:
            print("  (qemu-x86_64 not installed: the AVX2-only CPU run is skipped; apt install qemu-user)")
        failures = 0
        for label, prefix, env in runs:
            out = os.path.join(work, "out")
            r = subprocess.run(prefix + [runner, out, os.path.join(work, "x.bin")],
                               env={**os.environ, **env}, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {label}: exit {r.returncode} {r.stderr.strip()[:200]}")
                failures += 1
                continue
            got = np.fromfile(out + "0.bin", dtype=np.float32).reshape(want.shape)
            err = float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))
            ok = err <= 1e-4
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {label}: max error {err:.2e} of the output's scale")
        print(f"portable library: {len(runs) - failures} passed, {failures} failed")
        sys.exit(1 if failures else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
