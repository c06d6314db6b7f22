"""`InferenceSession`: onnxruntime's API over libraries that `sparrowc` compiles.

    session = sparrow.InferenceSession("model.onnx")        # was onnxruntime's
    name = session.get_inputs()[0].name
    (probs,) = session.run(None, {name: image})

A session reads the model's declared inputs (symbolic dims included) without onnx.
Each new combination of input shapes is one specialization: the model compiled with
`--input-shape NAME=AxB...` for every input into a `.so` in the content-keyed cache
(`_cache.py`), loaded once, and kept. A model whose inputs are all static compiles (or
loads from the cache) in the constructor, as onnxruntime does its work there.

A run checks the feeds (names, dtypes, ranks, static dims: onnxruntime's errors), takes
the input arrays as they are when they are C-contiguous with the expected dtype (a
copy otherwise), lets numpy allocate the outputs, stores the addresses in the
library's pointer arrays and makes one foreign call with the session's workspace
(allocated once, 64-byte aligned, grown when a larger specialization appears). Runs on
one session are serialized by a lock, since they share that workspace.
"""
import mmap
import os
import threading
from ctypes import addressof, c_char
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Union

import numpy as np

from . import _cache, _compiler
from ._compiler import SparrowError
from ._library import Library, RunError, Workspace
from ._onnx_proto import ModelFormatError, read_signature
from ._types import numpy_dtype, type_string, type_string_of

LIBRARY_NAME = "sparrow_model"


class InvalidArgument(SparrowError, ValueError):
    """A feed or an output name that does not fit the model (onnxruntime's INVALID_ARGUMENT)."""


@dataclass(frozen=True)
class NodeArg:
    """An input or output as onnxruntime describes it."""
    name: str
    type: str                                   # e.g. 'tensor(float)'
    shape: Optional[List[Union[int, str, None]]]  # symbolic dims by name, unknown as None

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


class SessionOptions:
    """The onnxruntime.SessionOptions fields this package reads: `intra_op_num_threads`
    (0: all cores) and `graph_optimization_level` (0 disables the optimizer: -O0; 1: -O1;
    higher: -O2). onnxruntime's own SessionOptions objects work the same way."""

    def __init__(self):
        self.intra_op_num_threads = 0
        self.inter_op_num_threads = 0
        self.graph_optimization_level = 99
        self.log_severity_level = 2


def _options_threads(sess_options):
    threads = getattr(sess_options, "intra_op_num_threads", 0) if sess_options is not None else 0
    return int(threads) if threads and int(threads) > 0 else None


def _options_level(sess_options):
    level = getattr(sess_options, "graph_optimization_level", None) if sess_options is not None else None
    if level is None:
        return None
    level = int(level)
    return 0 if level <= 0 else 1 if level == 1 else 2


def _read_file_signature(path):
    """The signature read through a memory map: only the pages holding field headers
    and the graph's inputs and outputs are touched, not the weights."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            raise ModelFormatError(f"{path}: the file is empty")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                return read_signature(view)
            except ModelFormatError as e:
                raise ModelFormatError(f"{path}: not a readable ONNX model ({e})") from None
            finally:
                view.release()


from_buffer = c_char.from_buffer


def _address(array):
    """The data address of a C-contiguous array: through the buffer protocol when it is
    writable and not empty, else numpy's ctypes interface."""
    try:
        return addressof(from_buffer(array))
    except (TypeError, ValueError, BufferError):  # read-only or empty
        return array.ctypes.data


@dataclass
class _Specialization:
    library: Library
    input_order: List[int]    # library input i is feed input input_order[i]
    output_slots: List[int]   # library output i is declared output output_slots[i]
    outputs: list             # (shape, dtype) of each declared output


class InferenceSession:
    """onnxruntime's InferenceSession over Sparrow-compiled code.

    `sess_options`, `providers`, `provider_options` and unknown keyword arguments are
    accepted for compatibility; `sess_options.intra_op_num_threads` and
    `graph_optimization_level` are honoured. Sparrow's own options (keyword only):
      threads      threads per run (None: sess_options', else all cores)
      sparsity     'auto' (cost model), 'off', 'nm', 'bsr' or 'csr' (`--sparsity`)
      opt_level    0, 1 or 2 (default 2)
      target_cpu   an LLVM CPU name; default 'native' (this machine; the cache key
                   includes the CPU)
      compile_args more `sparrowc compile` flags, e.g. ['--winograd', 'off']
    """

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None,
                 *, threads=None, sparsity="auto", opt_level=None, target_cpu="native",
                 compile_args=(), **kwargs):
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            self._model_bytes = bytes(path_or_bytes)
            self._model_path = None
            try:
                self._signature = read_signature(self._model_bytes)
            except ModelFormatError as e:
                raise ModelFormatError(f"the model bytes are not a readable ONNX model ({e})") from None
        else:
            self._model_bytes = None
            self._model_path = Path(os.fspath(path_or_bytes)).resolve()
            self._signature = _read_file_signature(self._model_path)
        threads = threads if threads is not None else _options_threads(sess_options)
        self.threads = 0 if threads is None else int(threads)
        if opt_level is None:
            opt_level = _options_level(sess_options)
        self._flags = _compiler.flag_args(sparsity, opt_level, target_cpu, compile_args)
        self._compiler = _compiler.find_compiler()
        self._cache_dir = _cache.cache_dir()
        self._compiler_id = _compiler.compiler_identity(self._compiler, self._cache_dir)
        if self._model_path is not None:
            external = [self._model_path.parent / loc for loc in self._signature.external_data]
            self._model_hash = _cache.model_file_hash(self._model_path, external)
        else:
            self._model_hash = _cache.content_hash(self._model_bytes)
        self._inputs = self._signature.inputs
        self._input_dtypes = []
        for v in self._inputs:
            dtype = numpy_dtype(v.elem_type)
            if dtype is None:
                raise InvalidArgument(f"input '{v.name}' is a {type_string(v.elem_type)}; "
                                      "this package feeds numeric tensors only")
            self._input_dtypes.append(dtype)
        self._input_names = [v.name for v in self._inputs]
        self._output_names = [v.name for v in self._signature.outputs]
        self._output_index = {n: i for i, n in enumerate(self._output_names)}
        self._specializations = {}
        self._workspace = Workspace()
        self._lock = threading.Lock()
        self._closed = False
        if self._all_static():
            self._specialize(tuple(tuple(v.shape) for v in self._inputs))

    # onnxruntime's descriptive API ---------------------------------------------------
    def get_inputs(self):
        return [NodeArg(v.name, type_string(v.elem_type), None if v.shape is None else list(v.shape))
                for v in self._inputs]

    def get_outputs(self):
        compiled = next(iter(self._specializations.values()), None) \
            if len(self._specializations) == 1 and self._all_static() else None
        args = []
        for j, v in enumerate(self._signature.outputs):
            shape = None if v.shape is None else list(v.shape)
            if shape is None and compiled is not None:
                shape = list(compiled.outputs[j][0])
            args.append(NodeArg(v.name, type_string(v.elem_type), shape))
        return args

    def get_overridable_initializers(self):
        return []

    def get_providers(self):
        return ["SparrowExecutionProvider"]

    def get_provider_options(self):
        return {}

    @property
    def specializations(self):
        """The input shapes compiled so far (one library each)."""
        return list(self._specializations)

    def _all_static(self):
        return all(v.shape is not None and all(isinstance(d, int) for d in v.shape)
                   for v in self._inputs)

    # running ---------------------------------------------------------------------------
    def run(self, output_names, input_feed, run_options=None):
        """Runs the model; returns a list of numpy arrays, one per requested output
        (all outputs when `output_names` is None or empty)."""
        if self._closed:
            raise SparrowError("the session is closed")
        arrays = []
        for name, dtype in zip(self._input_names, self._input_dtypes):
            try:
                a = input_feed[name]
            except KeyError:
                raise self._missing_inputs(input_feed) from None
            if not isinstance(a, np.ndarray):
                a = np.asarray(a, dtype=dtype)
            if a.dtype != dtype:
                raise InvalidArgument(f"Unexpected input data type for '{name}'. Actual: "
                                      f"({type_string_of(a.dtype)}) , expected: ({type_string_of(dtype)})")
            flags = a.flags
            if not (flags.c_contiguous and flags.aligned):
                a = a.copy(order="C")  # contiguous and aligned
            arrays.append(a)
        key = tuple([a.shape for a in arrays])
        spec = self._specializations.get(key)
        if spec is None:
            spec = self._specialize(key)
        library = spec.library
        outputs = [np.empty(shape, dtype) for shape, dtype in spec.outputs]
        try:  # the buffer protocol: a third of the cost of `array.ctypes.data`
            inputs = [addressof(from_buffer(arrays[k])) for k in spec.input_order]
        except (TypeError, ValueError, BufferError):  # a read-only or empty array
            inputs = [_address(arrays[k]) for k in spec.input_order]
        try:
            results = [addressof(from_buffer(outputs[j])) for j in spec.output_slots]
        except ValueError:  # an empty output
            results = [_address(outputs[j]) for j in spec.output_slots]
        with self._lock:  # the pointer arrays and the workspace are shared
            library.input_pointers[:len(inputs)] = inputs
            library.output_pointers[:len(results)] = results
            code = library.run(self._workspace.pointer)
        if code != 0:
            raise RunError(f"{library.name}_run failed: {library.error_message(code)} (code {code})")
        if not output_names:
            return outputs
        try:
            return [outputs[self._output_index[n]] for n in output_names]
        except KeyError as e:
            raise InvalidArgument(f"Invalid output name: {e.args[0]}") from None

    def _missing_inputs(self, input_feed):
        missing = [n for n in self._input_names if n not in input_feed]
        return ValueError(f"Required inputs ({missing}) are missing from input feed ({list(input_feed)}).")

    def _check_shapes(self, shapes):
        for v, shape in zip(self._inputs, shapes):
            if v.shape is None:
                continue
            if len(shape) != len(v.shape):
                raise InvalidArgument(f"Invalid rank for input: {v.name} Got: {len(shape)} "
                                      f"Expected: {len(v.shape)} Please fix either the inputs/outputs or the model.")
            bad = [i for i, (d, want) in enumerate(zip(shape, v.shape)) if isinstance(want, int) and d != want]
            if bad:
                detail = " ".join(f"index: {i} Got: {shape[i]} Expected: {v.shape[i]}" for i in bad)
                raise InvalidArgument(f"Got invalid dimensions for input: {v.name} for the following "
                                      f"indices {detail} Please fix either the inputs/outputs or the model.")

    def _specialize(self, shapes):
        """Compiles (or loads from the cache) the library for these input shapes."""
        self._check_shapes(shapes)
        bound = {v.name: shape for v, shape in zip(self._inputs, shapes)}
        key = _cache.library_key(self._model_hash, bound, self._flags, self._compiler_id)
        path = self._cache_dir / "libraries" / f"{key}.so"
        if not path.exists():
            self._compile(path, bound)
        library = Library(path, LIBRARY_NAME, self.threads)
        spec = self._bind(library, shapes)
        with self._lock:
            self._workspace.reserve(library.workspace_size)
            self._specializations[shapes] = spec
        return spec

    def _compile(self, path, bound):
        model = self._model_path
        if model is None:
            model = self._cache_dir / "models" / f"{self._model_hash}.onnx"
            if not model.exists():
                _cache.write_atomically(model, self._model_bytes)
        tmp = _cache.temporary_path(path)
        try:
            _compiler.run_compiler(["compile", model, "-o", tmp, "--name", LIBRARY_NAME,
                                    *_compiler.shape_args(bound), *self._flags], self._compiler)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                os.unlink(tmp)

    def _bind(self, library, shapes):
        feed_index = {n: i for i, n in enumerate(self._input_names)}
        lib_out_index = {t.name: i for i, t in enumerate(library.outputs)}
        try:
            input_order = [feed_index[t.name] for t in library.inputs]
            output_order = [lib_out_index[n] for n in self._output_names]
        except KeyError as e:
            raise SparrowError(f"{library.path}: the compiled library has no tensor named {e.args[0]!r}; "
                               "the cache may be stale (remove it)") from None
        for t, k in zip(library.inputs, input_order):
            if tuple(t.shape) != tuple(shapes[k]):
                raise SparrowError(f"{library.path}: input '{t.name}' compiled as {t.shape}, fed {shapes[k]}")
        outs = [library.outputs[k] for k in output_order]
        declared = {n: j for j, n in enumerate(self._output_names)}
        output_slots = [declared[t.name] for t in library.outputs]
        return _Specialization(library, input_order, output_slots, [(t.shape, t.dtype) for t in outs])

    # lifetime ----------------------------------------------------------------------------
    def close(self):
        """Releases the libraries' contexts (thread pools); the session cannot run after."""
        with self._lock:
            for spec in self._specializations.values():
                spec.library.close()
            self._specializations.clear()
            self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
