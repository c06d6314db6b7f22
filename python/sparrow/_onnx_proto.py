"""The declared graph inputs and outputs of an ONNX model, read from its protobuf bytes.

The package depends on numpy only, so it does not import `onnx`. A session needs the
declared inputs before anything is compiled (which dims are symbolic, their names, the
element types), so this module walks the wire format with a varint reader and descends
only into the messages it needs:

    ModelProto.graph (7) -> GraphProto.input (11), .output (12), .initializer (5)
    ValueInfoProto: name (1), type (2) -> TypeProto.tensor_type (1)
        -> elem_type (1), shape (2) -> TensorShapeProto.dim (1)
        -> dim_value (1) | dim_param (2)
    TensorProto: name (8), data_location (14), external_data (13) -> key (1), value (2)

Every other field is skipped by its length, so a 100 MB model costs a few hundred field
headers, not a copy of its weights. A dim_value <= 0 or an absent dim is unknown (None);
a dim_param keeps its name, as onnxruntime reports it.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Union

Dim = Union[int, str, None]


class ModelFormatError(ValueError):
    """The bytes are not a readable ONNX model."""


@dataclass(frozen=True)
class ValueInfo:
    """One declared graph input or output."""
    name: str
    elem_type: int                  # ONNX TensorProto.DataType code, 0 when not a tensor
    shape: Optional[Tuple[Dim, ...]]  # None when the rank is unknown


@dataclass
class GraphSignature:
    inputs: List[ValueInfo] = field(default_factory=list)   # initializers left out
    outputs: List[ValueInfo] = field(default_factory=list)
    external_data: List[str] = field(default_factory=list)  # `location`s of initializers
    producer_name: str = ""
    graph_name: str = ""


_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def _fields(buf, start, end):
    """Yields (field number, wire type, value) where value is an int (varint, fixed)
    or a (start, end) span of a length-delimited field."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _LEN:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise ModelFormatError("truncated field")
            value, pos = (pos, pos + length), pos + length
        elif wire == _I64:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == _I32:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise ModelFormatError(f"unsupported wire type {wire}")
        if pos > end:
            raise ModelFormatError("truncated field")
        yield number, wire, value


def _varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ModelFormatError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ModelFormatError("varint too long")


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _text(buf, span):
    return bytes(buf[span[0]:span[1]]).decode("utf-8", errors="replace")


def _dim(buf, span):
    dim: Dim = None
    for number, wire, value in _fields(buf, *span):
        if number == 1 and wire == _VARINT:
            v = _signed(value)
            dim = v if v > 0 else None
        elif number == 2 and wire == _LEN:
            dim = _text(buf, value) or None
    return dim


def _value_info(buf, span):
    name, elem_type, shape = "", 0, None
    for number, wire, value in _fields(buf, *span):
        if number == 1 and wire == _LEN:
            name = _text(buf, value)
        elif number == 2 and wire == _LEN:          # TypeProto
            for tnum, twire, tval in _fields(buf, *value):
                if tnum != 1 or twire != _LEN:      # tensor_type only
                    continue
                for num, w, val in _fields(buf, *tval):
                    if num == 1 and w == _VARINT:
                        elem_type = val
                    elif num == 2 and w == _LEN:
                        shape = tuple(_dim(buf, v) for n, ww, v in _fields(buf, *val)
                                      if n == 1 and ww == _LEN)
    return ValueInfo(name, elem_type, shape)


def _initializer(buf, span):
    """(name, external `location` or None) of a TensorProto."""
    name, location, external = "", None, False
    for number, wire, value in _fields(buf, *span):
        if number == 8 and wire == _LEN:
            name = _text(buf, value)
        elif number == 14 and wire == _VARINT:
            external = value == 1
        elif number == 13 and wire == _LEN:
            entry = {n: _text(buf, v) for n, w, v in _fields(buf, *value) if w == _LEN}
            if entry.get(1) == "location":
                location = entry.get(2)
    return name, (location if external else None)


def read_signature(data) -> GraphSignature:
    """The declared inputs (initializers left out) and outputs of ONNX model bytes."""
    with memoryview(data) as buf:
        return _read(buf)


def _read(buf):
    sig = GraphSignature()
    graph = None
    for number, wire, value in _fields(buf, 0, len(buf)):
        if number == 7 and wire == _LEN:
            graph = value
        elif number == 2 and wire == _LEN:
            sig.producer_name = _text(buf, value)
    if graph is None:
        raise ModelFormatError("no graph in the model (is this an ONNX file?)")
    inputs, initializers = [], set()
    for number, wire, value in _fields(buf, *graph):
        if wire != _LEN:
            continue
        if number == 11:
            inputs.append(_value_info(buf, value))
        elif number == 12:
            sig.outputs.append(_value_info(buf, value))
        elif number == 5:
            name, location = _initializer(buf, value)
            initializers.add(name)
            if location is not None and location not in sig.external_data:
                sig.external_data.append(location)
        elif number == 2:
            sig.graph_name = _text(buf, value)
    sig.inputs = [v for v in inputs if v.name not in initializers]
    return sig
