"""Calls a library written by `sparrowc compile` from Python with ctypes (numpy only for
the arrays; the library itself needs nothing but libc, libm and pthread).

    python examples/run_model.py libtiny.so tiny INPUT.npy [...] [--threads N]

Prints each output's name, shape and first values; `--save DIR` also writes each output
as DIR/<output name>.npy.
"""
import argparse
import ctypes
import os

import numpy as np

DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64,
          9: np.bool_, 10: np.float16, 11: np.float64}


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64))]


class Model:
    """One compiled model: its tensor infos and `run`."""

    def __init__(self, library, name):
        self.lib = ctypes.CDLL(os.path.abspath(library))
        def fn(suffix, restype, *argtypes):
            f = getattr(self.lib, f"{name}_{suffix}")
            f.restype, f.argtypes = restype, list(argtypes)
            return f
        self.num_inputs = fn("num_inputs", ctypes.c_int32)()
        self.num_outputs = fn("num_outputs", ctypes.c_int32)()
        info_in = fn("input_info", ctypes.POINTER(TensorInfo), ctypes.c_int32)
        info_out = fn("output_info", ctypes.POINTER(TensorInfo), ctypes.c_int32)
        self.inputs = [self._describe(info_in(i).contents) for i in range(self.num_inputs)]
        self.outputs = [self._describe(info_out(i).contents) for i in range(self.num_outputs)]
        self.workspace_size = fn("workspace_size", ctypes.c_size_t)()
        self._run = fn("run", ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                       ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_int32)
        self._strerror = fn("strerror", ctypes.c_char_p, ctypes.c_int)

    @staticmethod
    def _describe(t):
        return t.name.decode(), DTYPES[t.dtype], tuple(t.shape[i] for i in range(t.rank))

    def run(self, arrays, threads=1):
        ins = [np.ascontiguousarray(a, dtype=dt).reshape(shape)
               for a, (_, dt, shape) in zip(arrays, self.inputs)]
        outs = [np.empty(shape, dtype=dt) for _, dt, shape in self.outputs]
        raw = np.empty(self.workspace_size + 64, np.uint8)  # 64-byte aligned view below
        offset = (-raw.ctypes.data) % 64
        workspace = raw.ctypes.data + offset
        in_ptrs = (ctypes.c_void_p * len(ins))(*[a.ctypes.data for a in ins])
        out_ptrs = (ctypes.c_void_p * len(outs))(*[a.ctypes.data for a in outs])
        code = self._run(in_ptrs, out_ptrs, ctypes.c_void_p(workspace), threads)
        if code != 0:
            raise RuntimeError(self._strerror(code).decode())
        return outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library")
    ap.add_argument("name")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save", metavar="DIR")
    a = ap.parse_args()
    model = Model(a.library, a.name)
    outs = model.run([np.load(p) for p in a.inputs], a.threads)
    for (name, _, shape), value in zip(model.outputs, outs):
        print(f"{name} {list(shape)}: {np.array2string(value.ravel()[:10], precision=4)}")
        if a.save:
            os.makedirs(a.save, exist_ok=True)
            np.save(os.path.join(a.save, f"{name}.npy"), value)


if __name__ == "__main__":
    main()
