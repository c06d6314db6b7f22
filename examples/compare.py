#!/usr/bin/env python3
"""Compares two .npy files within a tolerance: compare.py EXPECTED ACTUAL [RTOL ATOL]."""
import sys

import numpy as np

expected, actual = np.load(sys.argv[1]), np.load(sys.argv[2])
rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
atol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-5
if expected.shape != actual.shape:
    sys.exit(f"shape {actual.shape} differs from the reference {expected.shape}")
diff = float(np.max(np.abs(expected.astype(np.float64) - actual))) if expected.size else 0.0
ok = np.allclose(actual, expected, rtol=rtol, atol=atol)
print(f"max |sparrow - onnxruntime| = {diff:.3g} ({'OK' if ok else 'MISMATCH'})")
sys.exit(0 if ok else 1)
