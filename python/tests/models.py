"""Small models for the package's tests (zoo builders at test sizes, one-op graphs) and
onnxruntime as the reference."""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

import sparrow_models

ort.set_default_logger_severity(3)


def save(model, directory, name):
    path = directory / f"{name}.onnx"
    if not path.exists():
        onnx.save(model, str(path))
    return path


def one_op(op="Relu", shape=(2, 3, 4), dtype=TensorProto.FLOAT, **attrs):
    x = helper.make_tensor_value_info("x", dtype, list(shape))
    y = helper.make_tensor_value_info("y", dtype, list(shape))
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"], name="the_op", **attrs)], "one_op", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def two_in_two_out():
    """Inputs a [N, 4] (N symbolic) and b [4]; outputs sum = a + b and prod = a * b."""
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [4])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 4]) for n in ("sum", "prod")]
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"]),
                               helper.make_node("Mul", ["a", "b"], ["prod"])], "two", [a, b], outs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def image_classifier():
    """ResNet-18 layout at 32x32, width 8, 10 classes; the batch dim is symbolic."""
    return sparrow_models.resnet(18, image=32, width=8, num_classes=10)


def detector():
    """The zoo's YOLO-style detector at 64x64 with symbolic height and width."""
    model = sparrow_models.yolo(image=64)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    out = model.graph.output[0]
    out.type.tensor_type.ClearField("shape")
    return model


def text_classifier():
    """A one-layer transformer over int32 token ids [1, 16]."""
    return sparrow_models.transformer_classifier(seq=16, vocab=50, d=32, heads=2, layers=1)


def reference(path, feeds, output_names=None):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return session.run(output_names, feeds)


def assert_close(actual, expected, rtol=1e-3, atol=1e-4):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert isinstance(a, np.ndarray)
        assert a.shape == e.shape and a.dtype == e.dtype
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol * max(1.0, float(np.abs(e).max(initial=0))))
