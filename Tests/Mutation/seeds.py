"""Small valid seed models for the mutation harness, built with onnx.helper.

Each builder returns (name, ModelProto). Shapes are static so seeded inputs can be made
from the graph inputs alone. Weights are seeded; the models are tiny so a debug
`sparrowc run` on them takes well under a second.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(name, nodes, inputs, outputs, inits, opset=17):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return name, model


def _f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _w(rng, name, shape, scale=0.5):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def conv_net(rng):
    """Conv -> BatchNormalization -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax."""
    inits = [_w(rng, "conv_w", [4, 2, 3, 3]), _w(rng, "conv_b", [4]),
             numpy_helper.from_array(np.ones(4, np.float32), "bn_scale"),
             _w(rng, "bn_bias", [4]), _w(rng, "bn_mean", [4]),
             numpy_helper.from_array(np.full(4, 0.9, np.float32), "bn_var"),
             _w(rng, "fc_w", [3, 16]), _w(rng, "fc_b", [3])]
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                         ["bn"], name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["g"], name="fc", transB=1),
        helper.make_node("Softmax", ["g"], ["y"], name="softmax", axis=-1),
    ]
    return _model("conv_net", nodes, [_f32("x", [1, 2, 4, 4])], [_f32("y", [1, 3])], inits)


def mlp(rng):
    """MatMul -> Add -> Tanh -> MatMul -> Sigmoid, with a Mul by a scalar."""
    inits = [_w(rng, "w1", [6, 5]), _w(rng, "b1", [5]), _w(rng, "w2", [5, 2]),
             numpy_helper.from_array(np.array(2.0, np.float32), "two")]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["m1", "b1"], ["a1"], name="add1"),
        helper.make_node("Tanh", ["a1"], ["t1"], name="tanh"),
        helper.make_node("MatMul", ["t1", "w2"], ["m2"], name="mm2"),
        helper.make_node("Mul", ["m2", "two"], ["s"], name="scale"),
        helper.make_node("Sigmoid", ["s"], ["y"], name="sigmoid"),
    ]
    return _model("mlp", nodes, [_f32("x", [3, 6])], [_f32("y", [3, 2])], inits)


def reshape_chain(rng):
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Transpose, Concat, Slice."""
    inits = [numpy_helper.from_array(np.array([0], np.int64), "zero"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
             numpy_helper.from_array(np.array([0], np.int64), "axes0"),
             numpy_helper.from_array(np.array([1], np.int64), "s_start"),
             numpy_helper.from_array(np.array([5], np.int64), "s_end"),
             numpy_helper.from_array(np.array([1], np.int64), "s_axis")]
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"], name="shape"),
        helper.make_node("Gather", ["shp", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Concat", ["n", "minus1"], ["newshape"], name="concat_shape", axis=0),
        helper.make_node("Reshape", ["x", "newshape"], ["flat"], name="reshape"),
        helper.make_node("Transpose", ["x"], ["tr"], name="transpose", perm=[0, 2, 1]),
        helper.make_node("Reshape", ["tr", "newshape"], ["flat2"], name="reshape2"),
        helper.make_node("Concat", ["flat", "flat2"], ["cat"], name="concat", axis=1),
        helper.make_node("Slice", ["cat", "s_start", "s_end", "s_axis"], ["y"], name="slice"),
    ]
    return _model("reshape_chain", nodes, [_f32("x", [2, 3, 4])], [_f32("y", [2, 4])], inits)


def norm_pool(rng):
    """LayerNormalization, ReduceMean, AveragePool, Clip with constant bounds, Where."""
    inits = [numpy_helper.from_array(np.ones(8, np.float32), "ln_scale"),
             _w(rng, "ln_bias", [8]),
             numpy_helper.from_array(np.array(-0.5, np.float32), "lo"),
             numpy_helper.from_array(np.array(0.5, np.float32), "hi"),
             numpy_helper.from_array(np.array([2], np.int64), "axes")]
    nodes = [
        helper.make_node("LayerNormalization", ["x", "ln_scale", "ln_bias"], ["ln"], name="ln", axis=-1),
        helper.make_node("AveragePool", ["ln"], ["ap"], name="avgpool", kernel_shape=[2], strides=[2]),
        helper.make_node("Clip", ["ap", "lo", "hi"], ["cl"], name="clip"),
        helper.make_node("ReduceMean", ["cl", "axes"], ["rm"], name="mean", keepdims=1),
        helper.make_node("Greater", ["cl", "rm"], ["gt"], name="greater"),
        helper.make_node("Where", ["gt", "cl", "rm"], ["y"], name="where"),
    ]
    return _model("norm_pool", nodes, [_f32("x", [2, 3, 8])], [_f32("y", [2, 3, 4])], inits, opset=18)


def constant_of_shape(rng):
    """ConstantOfShape from a Constant, added to the input (the weights-as-shape pattern)."""
    nodes = [
        helper.make_node("Constant", [], ["shp"], name="const_shape",
                         value=numpy_helper.from_array(np.array([2, 3], np.int64))),
        helper.make_node("ConstantOfShape", ["shp"], ["fill"], name="fill",
                         value=numpy_helper.from_array(np.array([1.5], np.float32))),
        helper.make_node("Add", ["x", "fill"], ["y"], name="add"),
    ]
    return _model("constant_of_shape", nodes, [_f32("x", [2, 3])], [_f32("y", [2, 3])], [])


BUILDERS = [conv_net, mlp, reshape_chain, norm_pool, constant_of_shape]


def seed_models(seed=0):
    """All builtin seed models: a list of (name, ModelProto)."""
    rng = np.random.default_rng(seed)
    return [b(rng) for b in BUILDERS]
