"""One library written by `sparrowc compile`, bound with ctypes.

The C ABI (README, "The generated library"; DESIGN.md):

    int32_t NAME_num_inputs(void), NAME_num_outputs(void);
    const sparrow_tensor_info *NAME_input_info(int32_t), *NAME_output_info(int32_t);
    size_t NAME_workspace_size(void);
    int NAME_run(const void *const *inputs, void *const *outputs, void *workspace,
                 int32_t num_threads);
    const char *NAME_strerror(int code);

and, when the library exports it, the context API that keeps a thread pool alive
between runs:

    NAME_context *NAME_context_create(int32_t num_threads);
    int NAME_run_context(NAME_context *, const void *const *inputs,
                         void *const *outputs, void *workspace);
    void NAME_context_destroy(NAME_context *);

A `Library` owns pointer arrays sized once, so a run only stores the buffers' addresses
and makes one foreign call (`run(workspace)`, a ctypes c_void_p); the caller owns the
arrays and the workspace.
"""
import ctypes
import weakref
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from ._compiler import SparrowError
from ._types import numpy_dtype, type_string


class RunError(SparrowError, RuntimeError):
    """The compiled library returned an error code."""


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64))]


@dataclass(frozen=True)
class TensorSpec:
    """A tensor of a compiled library: every dim is known."""
    name: str
    elem_type: int
    shape: Tuple[int, ...]

    @property
    def dtype(self):
        dtype = numpy_dtype(self.elem_type)
        if dtype is None:
            raise SparrowError(f"'{self.name}' is a {type_string(self.elem_type)}, which numpy "
                               "cannot hold; this package runs numeric tensors only")
        return dtype


def _destroy_context(destroy, handle):
    destroy(handle)


class Library:
    """A loaded `.so`: its tensor specs, workspace size and the run entry point."""

    def __init__(self, path, name, threads=0):
        self.path = str(path)
        self._lib = lib = ctypes.CDLL(self.path)
        self.name = name

        def fn(suffix, restype, *argtypes):
            f = getattr(lib, f"{name}_{suffix}")
            f.restype, f.argtypes = restype, list(argtypes)
            return f

        info_type = ctypes.POINTER(_TensorInfo)
        num_in = fn("num_inputs", ctypes.c_int32)()
        num_out = fn("num_outputs", ctypes.c_int32)()
        self.inputs = [self._spec(fn("input_info", info_type, ctypes.c_int32)(i)) for i in range(num_in)]
        self.outputs = [self._spec(fn("output_info", info_type, ctypes.c_int32)(i)) for i in range(num_out)]
        self.workspace_size = fn("workspace_size", ctypes.c_size_t)()
        self._strerror = fn("strerror", ctypes.c_char_p, ctypes.c_int)
        self.input_pointers = (ctypes.c_void_p * max(num_in, 1))()
        self.output_pointers = (ctypes.c_void_p * max(num_out, 1))()
        self.threads = int(threads)
        self.context = None
        if all(hasattr(lib, f"{name}_{s}") for s in ("context_create", "run_context", "context_destroy")):
            create = fn("context_create", ctypes.c_void_p, ctypes.c_int32)
            destroy = fn("context_destroy", None, ctypes.c_void_p)
            self.context = create(self.threads)
            if not self.context:
                raise RunError(f"{self.path}: {name}_context_create({self.threads}) failed")
            self._finalizer = weakref.finalize(self, _destroy_context, destroy, self.context)
            # No argtypes on the run functions: every argument is already a ctypes object,
            # which saves the conversions (a third of a bare call's cost).
            run_context = fn("run_context", ctypes.c_int)
            run_context.argtypes = None
            context = ctypes.c_void_p(self.context)
            ins, outs = self.input_pointers, self.output_pointers
            self.run = lambda workspace: run_context(context, ins, outs, workspace)
        else:
            run = fn("run", ctypes.c_int)
            run.argtypes = None
            ins, outs, threads = self.input_pointers, self.output_pointers, ctypes.c_int32(self.threads)
            self.run = lambda workspace: run(ins, outs, workspace, threads)

    @staticmethod
    def _spec(info_pointer):
        if not info_pointer:
            raise SparrowError("the library returned no tensor info")
        t = info_pointer.contents
        return TensorSpec(t.name.decode(), t.dtype, tuple(t.shape[i] for i in range(t.rank)))

    @property
    def uses_context(self):
        return self.context is not None

    def error_message(self, code):
        message = self._strerror(code)
        return message.decode() if message else f"error code {code}"

    def close(self):
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()
        self.context = None


class Workspace:
    """One 64-byte aligned buffer that grows to the largest library's need."""

    ALIGNMENT = 64

    def __init__(self):
        self._buffer = None
        self.size = -1
        self.address = None
        self.pointer = ctypes.c_void_p()  # updated in place when the buffer grows

    def reserve(self, size):
        if size <= self.size:
            return
        self._buffer = np.empty(size + self.ALIGNMENT, np.uint8)
        base = self._buffer.ctypes.data
        self.address = base + (-base) % self.ALIGNMENT
        self.pointer.value = self.address
        self.size = size
