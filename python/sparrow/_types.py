"""ONNX element types: their codes, numpy dtypes and onnxruntime's spelling."""
import numpy as np

# code: (numpy dtype or None when numpy has none, onnxruntime's type string)
_ELEMENT_TYPES = {
    1: (np.float32, "tensor(float)"),
    2: (np.uint8, "tensor(uint8)"),
    3: (np.int8, "tensor(int8)"),
    4: (np.uint16, "tensor(uint16)"),
    5: (np.int16, "tensor(int16)"),
    6: (np.int32, "tensor(int32)"),
    7: (np.int64, "tensor(int64)"),
    8: (None, "tensor(string)"),
    9: (np.bool_, "tensor(bool)"),
    10: (np.float16, "tensor(float16)"),
    11: (np.float64, "tensor(double)"),
    12: (np.uint32, "tensor(uint32)"),
    13: (np.uint64, "tensor(uint64)"),
    16: (None, "tensor(bfloat16)"),
}


def type_string(code):
    """onnxruntime's spelling, e.g. 'tensor(float)'."""
    entry = _ELEMENT_TYPES.get(code)
    return entry[1] if entry else f"tensor(unknown:{code})"


def numpy_dtype(code):
    """The numpy dtype of an ONNX element type, or None when numpy has none."""
    entry = _ELEMENT_TYPES.get(code)
    return np.dtype(entry[0]) if entry and entry[0] is not None else None


def type_string_of(dtype):
    for np_type, spelling in _ELEMENT_TYPES.values():
        if np_type is not None and np.dtype(np_type) == dtype:
            return spelling
    return f"ndarray({dtype})"
