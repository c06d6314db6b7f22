"""Sparrow from Python: an onnxruntime-style InferenceSession over the compiler.

    import sparrow as ort            # or: sparrow.InferenceSession in place of onnxruntime's
    session = sparrow.InferenceSession("model.onnx")
    outputs = session.run(None, {"input": x})

    sparrow.compile("model.onnx", "libnet.so", header="net.h", name="net")
    layers = sparrow.inspect("model.onnx")      # the `sparrowc inspect --json` layers

The compiler is found through $SPARROWC, then `sparrowc` on PATH, then the release build
of the repository the package was installed from (`.build/release/sparrowc`). Compiled
libraries are cached under $XDG_CACHE_HOME/sparrow (or ~/.cache/sparrow).
"""
import json
import os
from pathlib import Path

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


def quantize(*args, **kwargs):
    """Not available yet: int8 post-training quantization arrives with `sparrowc quantize`."""
    raise NotImplementedError("sparrow.quantize is not available yet: it comes with int8 support "
                              "(`sparrowc quantize`); quantize with another tool and compile the QDQ model")
