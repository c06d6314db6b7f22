"""Writes the libFuzzer seed corpora (at test time; never committed).

    python make_corpus.py OUTDIR [TARGET ...]   # OUTDIR/{ONNX,DumpIR,SIR,Npy,Safetensors}/

Only the named targets' folders are replaced (default: all), so runs of different
targets can proceed side by side.

ONNX and DumpIR: the mutation harness's seed models plus up to 300 conformance models
under 16 KiB, not from the `light` suite (if Tests/Conformance/data exists). SIR: Tests/IRFiles/*.sir. Npy: arrays
of every dtype Sparrow reads, both byte orders, Fortran order, rank 0. Safetensors:
small files written by hand from the format (8-byte header length, JSON, data).
"""
import glob
import io
import json
import os
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Mutation"))
import seeds  # noqa: E402


def safetensors(tensors):
    header, blobs, offset = {}, [], 0
    codes = {np.float32: "F32", np.float16: "F16", np.int64: "I64", np.int32: "I32",
             np.int8: "I8", np.uint8: "U8", np.bool_: "BOOL", np.float64: "F64"}
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[a.dtype.type], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


TARGETS = ["ONNX", "DumpIR", "SIR", "Npy", "Safetensors"]


def main(out, targets):
    for t in targets:
        shutil.rmtree(os.path.join(out, t), ignore_errors=True)

    def put(target, name, data):
        if target in targets:
            os.makedirs(os.path.join(out, target), exist_ok=True)
            with open(os.path.join(out, target, name), "wb") as f:
                f.write(data)

    models = [(n, m.SerializeToString()) for n, m in seeds.seed_models()]
    pattern = os.path.join(ROOT, "Tests", "Conformance", "data", "*", "*", "model.onnx")
    for path in sorted(glob.glob(pattern)):
        # Small models only: a seed that takes seconds (a whole network from the `light`
        # suite) starves the fuzzer.
        if "light" not in path and os.path.getsize(path) < 16384 and len(models) < 300:
            models.append(("_".join(path.split(os.sep)[-3:-1]), open(path, "rb").read()))
    for name, data in models:
        put("ONNX", name + ".onnx", data)
        put("DumpIR", name + ".onnx", data)
    for path in glob.glob(os.path.join(ROOT, "Tests", "IRFiles", "*.sir")):
        put("SIR", os.path.basename(path), open(path, "rb").read())
    rng = np.random.default_rng(0)
    arrays = {"f32": rng.standard_normal([2, 3]).astype(np.float32),
              "f16": rng.standard_normal([4]).astype(np.float16),
              "i64": np.arange(6, dtype=np.int64).reshape(3, 2),
              "i32": np.arange(5, dtype=np.int32), "i8": np.arange(-3, 3, dtype=np.int8),
              "u8": np.arange(7, dtype=np.uint8), "bool": np.array([True, False]),
              "f64": np.array([1.5, 2.5]), "scalar": np.array(3.0, np.float32),
              "empty": np.zeros([0, 3], np.float32),
              "bigendian": np.arange(4, dtype=">f4"),
              "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))}
    for name, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a)
        put("Npy", name + ".npy", buf.getvalue())
    st = {k: v for k, v in arrays.items() if k not in ("bigendian", "fortran")}
    put("Safetensors", "all.safetensors", safetensors(st))
    put("Safetensors", "one.safetensors", safetensors({"w": arrays["f32"]}))
    put("Safetensors", "none.safetensors", safetensors({}))
    counts = {t: len(os.listdir(os.path.join(out, t))) for t in targets}
    print("corpus:", ", ".join(f"{t} {n}" for t, n in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or TARGETS)
