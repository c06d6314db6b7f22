#!/usr/bin/env python3
"""Compares outputs within a tolerance: compare.py EXPECTED.npy ACTUAL [RTOL ATOL].

ACTUAL is an .npy file, or a raw .bin file (as examples/run_model.c writes) read with the
expected array's dtype and shape."""
import sys

import numpy as np

expected = np.load(sys.argv[1])
if sys.argv[2].endswith(".bin"):
    actual = np.fromfile(sys.argv[2], dtype=expected.dtype)
    actual = actual.reshape(expected.shape) if actual.size == expected.size else actual
else:
    actual = np.load(sys.argv[2])
rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
atol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-5
if expected.shape != actual.shape:
    sys.exit(f"shape {actual.shape} differs from the reference {expected.shape}")
diff = float(np.max(np.abs(expected.astype(np.float64) - actual))) if expected.size else 0.0
ok = np.allclose(actual, expected, rtol=rtol, atol=atol)
print(f"max |actual - expected| = {diff:.3g} ({'OK' if ok else 'MISMATCH'})")
sys.exit(0 if ok else 1)
