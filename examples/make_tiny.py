#!/usr/bin/env python3
"""Builds the demo model `tiny.onnx`: a small image classifier, with a seeded input and
onnxruntime's output for it as the reference.

    python examples/make_tiny.py OUT_DIR   # writes tiny.onnx, image.npy, expected_probs.npy

image [1,3,16,16] -> Conv 3x3 (8) -> Relu -> MaxPool 2x2 -> Conv 3x3 (16) -> Relu
  -> GlobalAveragePool -> Flatten -> Gemm (10, 2:4-sparse weight) -> Softmax -> probs [1,10]

The classifier weight keeps the 2 largest of every 4 consecutive weights along K, so the
compiler has an N:M-sparse GEMM to find. Everything is seeded: the same bytes every run.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def two_of_four(w):
    """Zeroes the 2 smallest-magnitude weights in every group of 4 along the last axis."""
    groups = w.reshape(w.shape[0], -1, 4)
    order = np.argsort(np.abs(groups), axis=-1)
    mask = np.ones_like(groups, dtype=bool)
    np.put_along_axis(mask, order[..., :2], False, axis=-1)
    return (groups * mask).reshape(w.shape).astype(np.float32)


def build():
    rng = np.random.default_rng(0)
    def weight(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    inits = [
        numpy_helper.from_array(weight(8, 3, 3, 3), "conv1.weight"),
        numpy_helper.from_array(weight(8, scale=0.1), "conv1.bias"),
        numpy_helper.from_array(weight(16, 8, 3, 3, scale=0.2), "conv2.weight"),
        numpy_helper.from_array(weight(16, scale=0.1), "conv2.bias"),
        numpy_helper.from_array(two_of_four(weight(10, 16, scale=0.5)), "fc.weight"),
        numpy_helper.from_array(weight(10, scale=0.1), "fc.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"], name="conv1",
                         pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2",
                         pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="sparrow-examples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    image = np.random.default_rng(1).uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32)
    return model, image


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    model, image = build()
    path = os.path.join(out, "tiny.onnx")
    onnx.save(model, path)
    np.save(os.path.join(out, "image.npy"), image)
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"image": image})
    np.save(os.path.join(out, "expected_probs.npy"), probs)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), image.npy, expected_probs.npy")


if __name__ == "__main__":
    main()
