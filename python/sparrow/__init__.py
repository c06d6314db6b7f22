"""Sparrow from Python: an onnxruntime-style InferenceSession over the compiler.

    import sparrow as ort            # or: sparrow.InferenceSession in place of onnxruntime's
    session = sparrow.InferenceSession("model.onnx")
    outputs = session.run(None, {"input": x})

    sparrow.compile("model.onnx", "libnet.so", header="net.h", name="net")
    layers = sparrow.inspect("model.onnx")      # the `sparrowc inspect --json` layers
    sparrow.quantize("model.onnx", "model_int8.onnx", calibrate_random=8)   # QDQ int8

The compiler is found through $SPARROWC, then `sparrowc` on PATH, then the release build
of the repository the package was installed from (`.build/release/sparrowc`). Compiled
libraries are cached under $XDG_CACHE_HOME/sparrow (or ~/.cache/sparrow).
"""
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ._compiler import (CompileError, CompilerNotFoundError, SparrowError, find_compiler,
                        flag_args, run_compiler, shape_args)
from ._library import RunError
from ._onnx_proto import ModelFormatError
from .session import InferenceSession, InvalidArgument, NodeArg, SessionOptions

__all__ = ["InferenceSession", "SessionOptions", "NodeArg", "compile", "inspect", "quantize",
           "SparrowError", "CompileError", "CompilerNotFoundError", "InvalidArgument",
           "RunError", "ModelFormatError", "find_compiler", "get_available_providers"]
__version__ = "0.1.0"


def get_available_providers():
    return ["SparrowExecutionProvider"]


def compile(model, output, header=None, *, name="net", target_cpu=None, emit=None,
            input_shapes=None, sparsity="auto", opt_level=None, extra_args=()):
    """`sparrowc compile MODEL -o OUTPUT`: writes a shared library (or `emit` = 'obj',
    'llvm-ir', 'asm'), and the C header when `header` is given. `input_shapes` binds
    symbolic dims ({name: (1, 3, 224, 224)}); `target_cpu` None is sparrowc's portable
    default (x86-64-v4), 'native' tunes for this machine. Returns the output path;
    raises CompileError with the compiler's diagnostics."""
    args = ["compile", os.fspath(model), "-o", os.fspath(output), "--name", name]
    if header is not None:
        args += ["--header", os.fspath(header)]
    if emit is not None:
        args += ["--emit", emit]
    args += shape_args(input_shapes) + flag_args(sparsity, opt_level, target_cpu, extra_args)
    run_compiler(args)
    return Path(output)


def inspect(model, *, input_shapes=None, sparsity="auto", opt_level=None, extra_args=()):
    """The per-layer report of `sparrowc inspect MODEL --json`: a list of dicts (name, op,
    output shape, FLOPs, weight density, N:M pattern, chosen format and why ...)."""
    args = ["inspect", os.fspath(model), "--json", *shape_args(input_shapes),
            *flag_args(sparsity, opt_level, None, extra_args)]
    return json.loads(run_compiler(args))["layers"]


def quantize(model, output, calibration=None, *, calibrate_random=None, seed=0, method="minmax",
             input_shapes=None, extra_args=()):
    """`sparrowc quantize MODEL -o OUTPUT`: static post-training int8 quantization written as
    QDQ ONNX (int8 per-channel weights, int32 biases, uint8 activations), which onnxruntime
    and Sparrow run. Calibration samples are one of:
    - `calibration`: a folder in the `--calibrate` layout (one subfolder per sample, one
      `<input>.npy` per model input), or an iterable of feed dicts {input name: array}, or an
      onnxruntime-style reader with `get_next()` returning such dicts (then None);
    - `calibrate_random=N`: N seeded random samples (`seed`).
    `method` is 'minmax' or 'percentile' / 'percentile:99.9'. Returns the output path;
    raises CompileError with the compiler's diagnostics."""
    if (calibration is None) == (calibrate_random is None):
        raise ValueError("give one of calibration (a folder or feed dicts) and calibrate_random=N")
    args = ["quantize", os.fspath(model), "-o", os.fspath(output), "--calibration", str(method),
            *shape_args(input_shapes), *[str(a) for a in extra_args]]
    if calibrate_random is not None:
        run_compiler(args + ["--calibrate-random", str(int(calibrate_random)), "--seed", str(int(seed))])
        return Path(output)
    if isinstance(calibration, (str, os.PathLike)):
        run_compiler(args + ["--calibrate", os.fspath(calibration)])
        return Path(output)
    with tempfile.TemporaryDirectory(prefix="sparrow-calibration-") as folder:
        for i, feeds in enumerate(_calibration_samples(calibration)):
            sample = Path(folder) / f"{i:06d}"
            sample.mkdir()
            for name, value in feeds.items():
                np.save(sample / (_file_name(name) + ".npy"), np.asarray(value))
        run_compiler(args + ["--calibrate", folder])
    return Path(output)


def _calibration_samples(source):
    """Feed dicts from an iterable or a reader with get_next()."""
    if hasattr(source, "get_next"):
        while (feeds := source.get_next()) is not None:
            yield feeds
    else:
        yield from source


def _file_name(name):
    """The file name sparrowc expects for an input (characters outside A-Za-z0-9_.- -> _)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return "_" + safe if safe in ("", ".", "..") else safe
