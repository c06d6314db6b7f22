"""Ways to break a valid ONNX model the way real files break.

Every mutation is `fn(model, rng) -> Case or None` (None: does not apply to this model).
A Case holds the bytes of the broken model, extra files to place next to it (external
data), and a one-line description. Mutations never touch the original model.
"""
import copy
import dataclasses

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

import sparse_mutations

HUGE = 2 ** 40


@dataclasses.dataclass
class Case:
    model_bytes: bytes
    description: str
    extra_files: dict = dataclasses.field(default_factory=dict)  # relative path -> bytes


def _case(model, description, extra_files=None):
    return Case(model.SerializeToString(), description, extra_files or {})


def _pick(rng, items):
    return items[int(rng.integers(len(items)))] if items else None


# --- Dims --------------------------------------------------------------------------------

def _input_dim(value):
    def mutate(model, rng):
        m = copy.deepcopy(model)
        inp = _pick(rng, list(m.graph.input))
        dims = inp.type.tensor_type.shape.dim
        if not dims:
            return None
        i = int(rng.integers(len(dims)))
        dims[i].ClearField("dim_param")
        dims[i].dim_value = value
        return _case(m, f"input '{inp.name}' dim {i} = {value}")
    return mutate


def _init_dim(value):
    def mutate(model, rng):
        m = copy.deepcopy(model)
        t = _pick(rng, [t for t in m.graph.initializer if len(t.dims) > 0])
        if t is None:
            return None
        i = int(rng.integers(len(t.dims)))
        t.dims[i] = value
        return _case(m, f"initializer '{t.name}' dim {i} = {value}")
    return mutate


def dim_overflow_input(model, rng):
    """Every dim of an input 2^31 (rank >= 2): the element count overflows a 64-bit Int."""
    m = copy.deepcopy(model)
    inp = _pick(rng, [i for i in m.graph.input if len(i.type.tensor_type.shape.dim) >= 2])
    if inp is None:
        return None
    for d in inp.type.tensor_type.shape.dim:
        d.ClearField("dim_param")
        d.dim_value = 2 ** 31 if len(inp.type.tensor_type.shape.dim) > 2 else 2 ** 32
    return _case(m, f"input '{inp.name}' dims all 2^31/2^32 (element count overflows Int)")


def huge_declared_initializer(model, rng):
    """A 2^40-element initializer declared by dims alone (no data)."""
    m = copy.deepcopy(model)
    t = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[2 ** 20, 2 ** 20])
    m.graph.initializer.append(t)
    _route_to_output(m, "huge")
    return _case(m, "initializer 'huge' declares 2^40 floats with no data")


def huge_constant_of_shape(model, rng):
    """ConstantOfShape whose shape asks for 2^40 elements, fed to a graph output."""
    m = copy.deepcopy(model)
    shape = _pick(rng, [[HUGE], [2 ** 20, 2 ** 20], [2 ** 31, 2 ** 31, 2 ** 31], [-1, 4]])
    m.graph.node.append(helper.make_node(
        "Constant", [], ["big_shape"], name="big_shape",
        value=numpy_helper.from_array(np.array(shape, np.int64))))
    m.graph.node.append(helper.make_node("ConstantOfShape", ["big_shape"], ["big"], name="big"))
    _route_to_output(m, "big")
    return _case(m, f"ConstantOfShape with shape {shape}")


def _route_to_output(m, name):
    m.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))


# --- Element types -----------------------------------------------------------------------

ODD_TYPES = [TensorProto.INT64, TensorProto.DOUBLE, TensorProto.STRING, TensorProto.BOOL,
             TensorProto.UINT8, TensorProto.FLOAT16, TensorProto.COMPLEX64, 0, 999]


def init_elem_type(model, rng):
    m = copy.deepcopy(model)
    t = _pick(rng, list(m.graph.initializer))
    if t is None:
        return None
    new = _pick(rng, [x for x in ODD_TYPES if x != t.data_type])
    t.data_type = new
    return _case(m, f"initializer '{t.name}' data_type = {new}")


def input_elem_type(model, rng):
    m = copy.deepcopy(model)
    inp = _pick(rng, list(m.graph.input))
    new = _pick(rng, ODD_TYPES)
    inp.type.tensor_type.elem_type = new
    return _case(m, f"input '{inp.name}' elem_type = {new}")


def raw_data_length(model, rng):
    m = copy.deepcopy(model)
    t = _pick(rng, [t for t in m.graph.initializer if t.raw_data])
    if t is None:
        return None
    n = len(t.raw_data)
    cut = _pick(rng, [0, max(n - 1, 0), n // 2, n + 3])
    t.raw_data = (t.raw_data + b"\x01\x02\x03")[:cut]
    return _case(m, f"initializer '{t.name}' raw_data {n} -> {cut} bytes")


# --- Initializers and graph wiring -------------------------------------------------------

def missing_initializer(model, rng):
    m = copy.deepcopy(model)
    if not m.graph.initializer:
        return None
    i = int(rng.integers(len(m.graph.initializer)))
    name = m.graph.initializer[i].name
    del m.graph.initializer[i]
    return _case(m, f"initializer '{name}' removed")


def extra_initializer(model, rng):
    m = copy.deepcopy(model)
    if m.graph.initializer and rng.random() < 0.5:
        t = copy.deepcopy(_pick(rng, list(m.graph.initializer)))
        t.dims[:] = list(t.dims) + [2]
        t.raw_data = bytes(8)
        t.ClearField("float_data")
        m.graph.initializer.append(t)
        return _case(m, f"initializer '{t.name}' duplicated with another shape")
    m.graph.initializer.append(numpy_helper.from_array(np.zeros([3, 3], np.float32), "unused"))
    return _case(m, "unused initializer added")


def initializer_shadows_input(model, rng):
    m = copy.deepcopy(model)
    inp = m.graph.input[0]
    m.graph.initializer.append(numpy_helper.from_array(np.zeros([1], np.float32), inp.name))
    return _case(m, f"initializer with the graph input's name '{inp.name}' (wrong shape)")


def dangling_input(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, [n for n in m.graph.node if n.input])
    if node is None:
        return None
    i = int(rng.integers(len(node.input)))
    node.input[i] = "nowhere"
    return _case(m, f"node '{node.name}' input {i} = 'nowhere'")


def cycle(model, rng):
    m = copy.deepcopy(model)
    nodes = [n for n in m.graph.node if n.input]
    if len(nodes) < 1:
        return None
    if rng.random() < 0.5 or len(nodes) < 2:
        n = _pick(rng, nodes)
        n.input[0] = n.output[0]
        return _case(m, f"node '{n.name}' reads its own output")
    first, last = nodes[0], nodes[-1]
    first.input[0] = last.output[0]
    return _case(m, f"node '{first.name}' reads '{last.output[0]}' (a cycle)")


def duplicate_output(model, rng):
    m = copy.deepcopy(model)
    if len(m.graph.node) < 2:
        return None
    a, b = m.graph.node[0], m.graph.node[1]
    b.output[0] = a.output[0]
    return _case(m, f"nodes '{a.name}' and '{b.name}' both define '{a.output[0]}'")


def ghost_graph_output(model, rng):
    m = copy.deepcopy(model)
    m.graph.output.append(helper.make_tensor_value_info("ghost", TensorProto.FLOAT, [1]))
    return _case(m, "graph output 'ghost' is never produced")


def no_graph_outputs(model, rng):
    m = copy.deepcopy(model)
    del m.graph.output[:]
    return _case(m, "graph has no outputs")


def drop_node_input(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, [n for n in m.graph.node if n.input])
    if node is None:
        return None
    del node.input[:]
    return _case(m, f"node '{node.name}' has no inputs")


def extra_node_inputs(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, [n for n in m.graph.node if n.input])
    if node is None:
        return None
    node.input.extend([node.input[0]] * 5)
    return _case(m, f"node '{node.name}' has 5 extra inputs")


def empty_input_name(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, [n for n in m.graph.node if n.input])
    if node is None:
        return None
    node.input[0] = ""
    return _case(m, f"node '{node.name}' first input is '' (omitted)")


# --- Attributes --------------------------------------------------------------------------

def attr_wrong_type(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, [n for n in m.graph.node if n.attribute and n.op_type != "Constant"])
    if node is None:
        return None
    a = _pick(rng, list(node.attribute))
    name = a.name
    node.attribute.remove(a)
    replacement = _pick(rng, [
        helper.make_attribute(name, "seven"),
        helper.make_attribute(name, 1.5),
        helper.make_attribute(name, [1, 2, 3, 4, 5, 6, 7]),
        helper.make_attribute(name, 3),
        helper.make_attribute(name, [0.5, 0.5]),
    ])
    node.attribute.append(replacement)
    return _case(m, f"node '{node.name}' attribute '{name}' -> {AttributeProto.AttributeType.Name(replacement.type)}")


def attr_bad_value(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, [n for n in m.graph.node if n.attribute and n.op_type != "Constant"])
    if node is None:
        return None
    a = _pick(rng, list(node.attribute))
    if a.type == AttributeProto.INT:
        a.i = int(_pick(rng, [99, -99, 2 ** 62, -(2 ** 62)]))
    elif a.type == AttributeProto.INTS:
        v = _pick(rng, [0, -1, 2 ** 40, 99])
        a.ints[:] = [v] * len(a.ints)
    elif a.type == AttributeProto.FLOAT:
        a.f = float(_pick(rng, [float("nan"), float("inf"), -1.0]))
    else:
        return None
    return _case(m, f"node '{node.name}' attribute '{a.name}' set out of range")


def missing_attr(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, [n for n in m.graph.node if n.attribute])
    if node is None:
        return None
    del node.attribute[:]
    return _case(m, f"node '{node.name}' lost its attributes")


def unknown_attr(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, list(m.graph.node))
    node.attribute.append(helper.make_attribute("no_such_attribute", 1))
    return _case(m, f"node '{node.name}' has attribute 'no_such_attribute'")


# --- Ops and opsets ----------------------------------------------------------------------

def unknown_op(model, rng):
    m = copy.deepcopy(model)
    node = _pick(rng, list(m.graph.node))
    if rng.random() < 0.5:
        node.op_type = "NoSuchOp"
        return _case(m, f"node '{node.name}' op_type = NoSuchOp")
    node.domain = "com.example.unknown"
    return _case(m, f"node '{node.name}' domain = com.example.unknown")


def opset_version(model, rng):
    m = copy.deepcopy(model)
    v = _pick(rng, [0, 1, 6, 999, -3])
    m.opset_import[0].version = v
    return _case(m, f"default opset = {v}")


def no_opset(model, rng):
    m = copy.deepcopy(model)
    del m.opset_import[:]
    return _case(m, "no opset_import")


def ir_version(model, rng):
    m = copy.deepcopy(model)
    m.ir_version = int(_pick(rng, [0, 99, -1]))
    return _case(m, f"ir_version = {m.ir_version}")


# --- Bytes -------------------------------------------------------------------------------

def truncated(model, rng):
    data = model.SerializeToString()
    cut = int(rng.integers(0, len(data)))
    return Case(data[:cut], f"truncated to {cut} of {len(data)} bytes")


def bit_flips(model, rng):
    data = bytearray(model.SerializeToString())
    n = int(rng.integers(1, 9))
    for _ in range(n):
        i = int(rng.integers(len(data)))
        data[i] ^= 1 << int(rng.integers(8))
    return Case(bytes(data), f"{n} bits flipped")


def garbage(model, rng):
    n = int(_pick(rng, [0, 1, 7, 100, 4096]))
    return Case(rng.integers(0, 256, n, dtype=np.uint8).tobytes(), f"{n} random bytes")


# --- External data -----------------------------------------------------------------------

def _externalize(m, rng, location, offset=None, length=None):
    """Moves one float initializer's raw data out; returns (tensor, its bytes)."""
    t = _pick(rng, [t for t in m.graph.initializer
                    if t.data_type == TensorProto.FLOAT and len(t.dims) > 0])
    if t is None:
        return None, None
    data = numpy_helper.to_array(t).tobytes()
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for k, v in entries:
        e = t.external_data.add()
        e.key, e.value = k, v
    return t, data


def external_data(model, rng):
    m = copy.deepcopy(model)
    kind = _pick(rng, ["valid", "parent", "absolute", "missing", "long", "offset",
                       "negative", "dotdot_inside", "directory", "empty"])
    loc = {"valid": "weights.bin", "parent": "../../etc/passwd", "absolute": "/etc/passwd",
           "missing": "missing.bin", "long": "weights.bin", "offset": "weights.bin",
           "negative": "weights.bin", "dotdot_inside": "sub/../../weights.bin",
           "directory": "sub", "empty": ""}[kind]
    t, data = _externalize(m, rng, loc)
    if t is None:
        return None
    files = {"weights.bin": data, "sub/keep.txt": b"x"}
    if kind == "long":
        t.external_data.add(key="length", value=str(len(data) + 64))
    elif kind == "offset":
        t.external_data.add(key="offset", value=str(len(data) * 4 + 1))
    elif kind == "negative":
        t.external_data.add(key="offset", value="-8")
    return _case(m, f"initializer '{t.name}' external data {kind}: location '{loc}'", files)


def broken_sparse_initializer(model, rng):
    """An initializer as a sparse_initializer breaking one rule (sparse_mutations.py)."""
    broken = sparse_mutations.broken_sparse_initializer(model, rng)
    return broken and _case(*broken)


MUTATIONS = {
    "dim_zero_input": _input_dim(0), "dim_negative_input": _input_dim(-3),
    "dim_huge_input": _input_dim(HUGE), "dim_overflow_input": dim_overflow_input,
    "dim_zero_init": _init_dim(0), "dim_negative_init": _init_dim(-3),
    "dim_huge_init": _init_dim(HUGE),
    "huge_declared_initializer": huge_declared_initializer,
    "huge_constant_of_shape": huge_constant_of_shape,
    "init_elem_type": init_elem_type, "input_elem_type": input_elem_type,
    "raw_data_length": raw_data_length,
    "missing_initializer": missing_initializer, "extra_initializer": extra_initializer,
    "initializer_shadows_input": initializer_shadows_input,
    "dangling_input": dangling_input, "cycle": cycle, "duplicate_output": duplicate_output,
    "ghost_graph_output": ghost_graph_output, "no_graph_outputs": no_graph_outputs,
    "drop_node_input": drop_node_input, "extra_node_inputs": extra_node_inputs,
    "empty_input_name": empty_input_name,
    "attr_wrong_type": attr_wrong_type, "attr_bad_value": attr_bad_value,
    "missing_attr": missing_attr, "unknown_attr": unknown_attr,
    "unknown_op": unknown_op, "opset_version": opset_version, "no_opset": no_opset,
    "ir_version": ir_version,
    "truncated": truncated, "bit_flips": bit_flips, "garbage": garbage,
    "external_data": external_data,
    "broken_sparse_initializer": broken_sparse_initializer,
}
