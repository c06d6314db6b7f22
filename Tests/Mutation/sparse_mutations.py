"""Broken ONNX sparse_initializers (COO), for the mutation harness (mutations.py).

A float initializer becomes a sparse_initializer (values [NNZ] and linearized [NNZ] or
tuple [NNZ, rank] indices), then one of onnx.proto's rules is broken: indices ascending,
no duplicates, in range, integer, one per value, a named values tensor.
"""
import copy

import numpy as np
from onnx import helper, numpy_helper

KINDS = ["unsorted", "duplicate", "out_of_range", "negative", "index_shape", "count", "float_indices",
         "no_name", "dims"]


def broken_sparse_initializer(model, rng):
    m = copy.deepcopy(model)
    candidates = [t for t in m.graph.initializer if t.data_type == 1 and len(t.dims) >= 1
                  and int(np.prod(t.dims)) >= 4 and t.data_location != 1]
    if not candidates:
        return None
    t = candidates[int(rng.integers(len(candidates)))]
    w = numpy_helper.to_array(t)
    nz = np.flatnonzero(w)
    if nz.size < 2:
        nz = np.arange(min(4, w.size))
    tuples = bool(rng.integers(2)) and w.ndim > 1
    indices = np.stack(np.unravel_index(nz, w.shape), axis=1) if tuples else nz.copy()
    values = w.ravel()[nz]
    kind = KINDS[int(rng.integers(len(KINDS)))]
    dims = list(w.shape)
    if kind == "unsorted":
        indices = indices[::-1].copy()
    elif kind == "duplicate":
        indices[1] = indices[0]
    elif kind == "out_of_range":
        indices[-1] = indices[-1] + (w.shape[-1] if tuples else w.size)
    elif kind == "negative":
        indices[0] = -1
    elif kind == "index_shape":
        indices = np.concatenate([indices.reshape(-1), [0]])
    elif kind == "count":
        values = np.concatenate([values, [1.0]]).astype(np.float32)
    elif kind == "dims":
        dims = [2 ** 40] * 3
    v = numpy_helper.from_array(values.astype(np.float32), "" if kind == "no_name" else t.name)
    i = numpy_helper.from_array(indices.astype(np.float32 if kind == "float_indices" else np.int64), "")
    sparse = helper.make_sparse_tensor(v, i, dims)
    m.graph.initializer.remove(t)
    m.graph.sparse_initializer.append(sparse)
    return m, f"sparse initializer '{t.name}' ({'tuples' if tuples else 'linearized'}): {kind}"
