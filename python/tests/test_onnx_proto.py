"""The pure-Python reader of declared inputs/outputs agrees with onnx's own parser."""
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
import numpy as np

import models
from sparrow._onnx_proto import ModelFormatError, read_signature


def expected_signature(model):
    def describe(v):
        t = v.type.tensor_type
        shape = None
        if t.HasField("shape"):
            shape = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0
                          else (d.dim_param or None) for d in t.shape.dim)
        return v.name, t.elem_type, shape
    inits = {i.name for i in model.graph.initializer}
    return ([describe(v) for v in model.graph.input if v.name not in inits],
            [describe(v) for v in model.graph.output])


@pytest.mark.parametrize("build", [models.one_op, models.two_in_two_out, models.image_classifier,
                                   models.detector, models.text_classifier])
def test_reader_matches_onnx(build):
    model = build()
    sig = read_signature(model.SerializeToString())
    inputs, outputs = expected_signature(model)
    assert [(v.name, v.elem_type, v.shape) for v in sig.inputs] == inputs
    assert [(v.name, v.elem_type, v.shape) for v in sig.outputs] == outputs


def test_symbolic_and_unknown_dims():
    x = helper.make_tensor_value_info("x", TensorProto.INT32, ["batch", None, 7])
    x.type.tensor_type.shape.dim[1].dim_value = -1
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [3])
    y = helper.make_value_info("y", helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    init = numpy_helper.from_array(np.zeros(3, np.float32), "w")
    init.data_location = TensorProto.EXTERNAL
    init.ClearField("raw_data")
    entry = init.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x, w], [y], [init])
    sig = read_signature(helper.make_model(graph, producer_name="me").SerializeToString())
    assert [(v.name, v.elem_type, v.shape) for v in sig.inputs] == [("x", TensorProto.INT32, ("batch", None, 7))]
    assert sig.outputs[0].shape is None
    assert sig.external_data == ["weights.bin"]
    assert sig.producer_name == "me"


@pytest.mark.parametrize("data", [b"", b"not a model at all", models.one_op().SerializeToString()[:-5]])
def test_garbage_is_a_format_error(data):
    with pytest.raises(ModelFormatError):
        read_signature(data)
