#!/usr/bin/env python3
"""onnxruntime-style calling code with Sparrow swapped in (`python -m pip install ./python`
first, or run from the repository: the example falls back to the checkout's package).

    python examples/python_session.py MODEL.onnx [INPUT.npy ...]

The only Sparrow-specific line is the import: every call below is onnxruntime's API.
Inputs not given are seeded random arrays (symbolic dims bound to 1). When onnxruntime
is installed, the outputs are compared with it.
"""
import sys
from pathlib import Path

import numpy as np

try:
    import sparrow as rt                 # was: import onnxruntime as rt
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    import sparrow as rt

NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
               "tensor(int32)": np.int32, "tensor(bool)": np.bool_, "tensor(uint8)": np.uint8,
               "tensor(int8)": np.int8, "tensor(float16)": np.float16}


def seeded_feeds(session, given):
    rng = np.random.default_rng(0)
    feeds = {}
    for i, arg in enumerate(session.get_inputs()):
        if i < len(given):
            feeds[arg.name] = np.load(given[i])
            continue
        shape = [d if isinstance(d, int) else 1 for d in arg.shape]
        dtype = NUMPY_TYPES[arg.type]
        feeds[arg.name] = (rng.integers(0, 10, size=shape) if np.issubdtype(dtype, np.integer)
                           else rng.standard_normal(shape)).astype(dtype)
    return feeds


def main():
    path, given = sys.argv[1], sys.argv[2:]
    session = rt.InferenceSession(path, providers=["CPUExecutionProvider"])
    for arg in session.get_inputs():
        print(f"input  {arg.name}: {arg.type} {arg.shape}")
    feeds = seeded_feeds(session, given)
    outputs = session.run(None, feeds)
    for arg, value in zip(session.get_outputs(), outputs):
        print(f"output {arg.name}: {value.dtype} {list(value.shape)} {np.array2string(value.ravel()[:6], precision=4)}")
    try:
        import onnxruntime
    except ImportError:
        return
    expected = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
    worst = max(float(np.max(np.abs(a.astype(np.float64) - e), initial=0)) for a, e in zip(outputs, expected))
    print(f"onnxruntime agrees: largest difference {worst:.3g}")


if __name__ == "__main__":
    main()
