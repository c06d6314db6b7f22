"""Model zoo for tests and benchmarks, built with onnx.helper (no torch).

Each builder returns an onnx.ModelProto shaped like what real exporters (PyTorch,
Paddle) emit: Shape->Gather->Unsqueeze->Concat->Reshape chains, Resize with scales,
LayerNormalization or its decomposition, int32/int64 token ids. Weights are seeded.

    python sparrow_models.py OUTDIR [name ...]   # writes OUTDIR/<name>.onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class GraphBuilder:
    """Collects nodes and initializers; names values uniquely."""

    def __init__(self, seed=0, opset=17):
        self.nodes, self.inits, self.count = [], [], 0
        self.rng = np.random.default_rng(seed)
        self.opset = opset

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, array, base="c"):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def weight(self, shape, base="w", scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        s = scale if scale is not None else (2.0 / max(fan_in, 1)) ** 0.5
        return self.const((self.rng.standard_normal(shape) * s).astype(np.float32), base)

    def op(self, op_type, inputs, outputs=1, base=None, **attrs):
        outs = [self.name(base or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.name(op_type), **attrs))
        return outs[0] if outputs == 1 else outs

    # Layers -------------------------------------------------------------------
    def conv(self, x, cin, cout, k, stride=1, pad=None, group=1, bias=True):
        pad = k // 2 if pad is None else pad
        ins = [x, self.weight([cout, cin // group, k, k], "conv.w")]
        if bias:
            ins.append(self.const((self.rng.standard_normal(cout) * 0.1).astype(np.float32), "conv.b"))
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                       pads=[pad] * 4, group=group)

    def bn(self, x, c):
        r = self.rng
        return self.op("BatchNormalization", [
            x, self.const((1 + 0.1 * r.standard_normal(c)).astype(np.float32), "bn.s"),
            self.const((0.1 * r.standard_normal(c)).astype(np.float32), "bn.b"),
            self.const((0.1 * r.standard_normal(c)).astype(np.float32), "bn.m"),
            self.const((1 + 0.1 * r.random(c)).astype(np.float32), "bn.v")], epsilon=1e-5)

    def conv_bn_act(self, x, cin, cout, k, stride=1, act="Relu", group=1):
        y = self.bn(self.conv(x, cin, cout, k, stride, group=group, bias=False), cout)
        if act == "Relu":
            return self.op("Relu", [y])
        if act == "SiLU":
            return self.op("Mul", [y, self.op("Sigmoid", [y])])
        if act == "HardSwish":
            return self.op("HardSwish", [y])
        return y

    def linear(self, x, din, dout, bias=True):
        y = self.op("MatMul", [x, self.weight([din, dout], "fc.w")])
        if bias:
            y = self.op("Add", [y, self.const((0.02 * self.rng.standard_normal(dout)).astype(np.float32), "fc.b")])
        return y

    def layer_norm(self, x, d, decomposed=False):
        g = self.const(np.ones(d, np.float32), "ln.g")
        b = self.const(np.zeros(d, np.float32), "ln.b")
        if not decomposed:
            return self.op("LayerNormalization", [x, g, b], axis=-1, epsilon=1e-5)
        axes = self.const(np.array([-1], np.int64))
        mean = self.op("ReduceMean", [x, axes]) if self.opset >= 18 else self.op("ReduceMean", [x], axes=[-1])
        c = self.op("Sub", [x, mean])
        var = self.op("ReduceMean", [self.op("Pow", [c, self.const(np.array(2, np.float32))])], axes=[-1]) \
            if self.opset < 18 else self.op("ReduceMean", [self.op("Pow", [c, self.const(np.array(2, np.float32))]), axes])
        std = self.op("Sqrt", [self.op("Add", [var, self.const(np.array(1e-5, np.float32))])])
        return self.op("Add", [self.op("Mul", [self.op("Div", [c, std]), g]), b])

    def gelu_erf(self, x):
        e = self.op("Erf", [self.op("Div", [x, self.const(np.array(1.4142135, np.float32))])])
        return self.op("Mul", [self.op("Mul", [x, self.op("Add", [e, self.const(np.array(1, np.float32))])]),
                               self.const(np.array(0.5, np.float32))])

    def model(self, name, inputs, outputs):
        g = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="sparrow-tests")
        m.ir_version = 8
        # Declare the outputs with the shapes ONNX infers (exporters do the same).
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
        for o in m.graph.output:
            if o.name in known and known[o.name].type.tensor_type.HasField("shape"):
                o.type.CopyFrom(known[o.name].type)
        onnx.checker.check_model(m, full_check=True)
        return m


def f32(name, shape):
    if shape is None:
        return helper.make_value_info(name, helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# ResNet ------------------------------------------------------------------------
def resnet(depth=50, image=224, width=64, num_classes=1000, seed=0):
    """ResNet-18/34 (basic blocks) or 50/101 (bottlenecks), torchvision layout."""
    b = GraphBuilder(seed)
    blocks = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}[depth]
    bottleneck = depth >= 50
    x = b.conv_bn_act("input", 3, width, 7, 2)
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = width
    for stage, n in enumerate(blocks):
        mid = width * 2 ** stage
        cout = mid * 4 if bottleneck else mid
        for i in range(n):
            stride = 2 if (i == 0 and stage > 0) else 1
            if bottleneck:
                y = b.conv_bn_act(x, cin, mid, 1)
                y = b.conv_bn_act(y, mid, mid, 3, stride)
                y = b.conv_bn_act(y, mid, cout, 1, act=None)
            else:
                y = b.conv_bn_act(x, cin, mid, 3, stride)
                y = b.conv_bn_act(y, mid, cout, 3, act=None)
            sc = x if (stride == 1 and cin == cout) else b.conv_bn_act(x, cin, cout, 1, stride, act=None)
            x = b.op("Relu", [b.op("Add", [y, sc])])
            cin = cout
    x = b.op("GlobalAveragePool", [x])
    x = b.op("Flatten", [x], axis=1)
    x = b.op("Gemm", [x, b.weight([num_classes, cin], "fc.w"), b.const(np.zeros(num_classes, np.float32))],
             transB=1, base="logits")
    return b.model(f"resnet{depth}", [f32("input", ["batch", 3, image, image])], [f32(x, None)])


# YOLO-style detector ------------------------------------------------------------
def yolo(image=160, seed=1):
    """CSP-ish backbone with SiLU, SPPF (MaxPool chain), FPN upsample (Resize with
    scales), Concat, detection heads reshaped/transposed via Shape-derived dims."""
    b = GraphBuilder(seed, opset=13)
    x = b.conv_bn_act("images", 3, 16, 3, 2, "SiLU")
    x = b.conv_bn_act(x, 16, 32, 3, 2, "SiLU")
    c3 = b.conv_bn_act(x, 32, 32, 3, 1, "SiLU")
    x = b.conv_bn_act(c3, 32, 64, 3, 2, "SiLU")
    a, c = b.op("Split", [x, b.const(np.array([32, 32], np.int64))], outputs=2, axis=1)
    c4 = b.op("Concat", [b.conv_bn_act(a, 32, 32, 3, 1, "SiLU"), c], axis=1)
    x = b.conv_bn_act(c4, 64, 128, 3, 2, "SiLU")
    p1 = b.op("MaxPool", [x], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])
    p2 = b.op("MaxPool", [p1], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])
    c5 = b.conv_bn_act(b.op("Concat", [x, p1, p2], axis=1), 384, 128, 1, 1, "SiLU")
    up = b.op("Resize", [c5, "", b.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    f4 = b.conv_bn_act(b.op("Concat", [up, c4], axis=1), 192, 64, 3, 1, "SiLU")
    outs = []
    for feat, ch in ((f4, 64), (c5, 128)):
        h = b.conv(feat, ch, 3 * 9, 1)  # 3 anchors x (4 box + 1 obj + 4 classes)
        shape = b.op("Shape", [h])
        n = b.op("Gather", [shape, b.const(np.array(0, np.int64))], axis=0)
        hh = b.op("Gather", [shape, b.const(np.array(2, np.int64))], axis=0)
        ww = b.op("Gather", [shape, b.const(np.array(3, np.int64))], axis=0)
        dims = [b.op("Unsqueeze", [v, b.const(np.array([0], np.int64))]) for v in (n, hh, ww)]
        target = b.op("Concat", [dims[0], b.const(np.array([3, 9], np.int64)), dims[1], dims[2]], axis=0)
        r = b.op("Reshape", [h, target])
        r = b.op("Transpose", [r], perm=[0, 1, 3, 4, 2])
        outs.append(b.op("Reshape", [b.op("Sigmoid", [r]), b.const(np.array([1, -1, 9], np.int64))]))
    det = b.op("Concat", outs, axis=1, base="detections")
    return b.model("yolo", [f32("images", [1, 3, image, image])], [f32(det, None)])


# OCR: DBNet-style detector and CRNN / SVTR-style recognizers ------------------------
def dbnet(image=128, seed=2):
    b = GraphBuilder(seed, opset=11)
    x = b.conv_bn_act("x", 3, 16, 3, 2)
    c2 = b.conv_bn_act(x, 16, 32, 3, 2)
    c3 = b.conv_bn_act(c2, 32, 64, 3, 2)
    up = b.op("Resize", [c3, b.const(np.array([], np.float32)), b.const(np.array([1, 1, 2, 2], np.float32))],
              mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    f = b.op("Add", [b.conv(up, 64, 32, 1), c2])
    f = b.conv_bn_act(f, 32, 16, 3)
    w1 = b.weight([16, 16, 2, 2], "deconv.w")
    y = b.op("Relu", [b.bn(b.op("ConvTranspose", [f, w1], strides=[2, 2], kernel_shape=[2, 2]), 16)])
    y = b.op("ConvTranspose", [y, b.weight([16, 1, 2, 2], "deconv2.w"), b.const(np.zeros(1, np.float32))],
             strides=[2, 2], kernel_shape=[2, 2])
    y = b.op("Sigmoid", [y], base="maps")
    return b.model("dbnet", [f32("x", [1, 3, image, image])], [f32(y, None)])


def crnn(height=32, width=100, classes=37, seed=3):
    b = GraphBuilder(seed, opset=12)
    x = b.conv_bn_act("x", 1, 32, 3)
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.conv_bn_act(x, 32, 64, 3)
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.conv_bn_act(x, 64, 64, 3)
    x = b.op("MaxPool", [x], kernel_shape=[8, 1], strides=[8, 1])  # height 32/4/8 = 1
    x = b.op("Squeeze", [x], axes=[2])                               # [N, C, W]
    x = b.op("Transpose", [x], perm=[2, 0, 1])                       # [T, N, C]
    hid = 48
    w = b.weight([2, 4 * hid, 64], "lstm.w", 0.1)
    r = b.weight([2, 4 * hid, hid], "lstm.r", 0.1)
    bias = b.const((0.1 * b.rng.standard_normal([2, 8 * hid])).astype(np.float32), "lstm.b")
    y = b.op("LSTM", [x, w, r, bias], outputs=3, hidden_size=hid, direction="bidirectional")[0]
    y = b.op("Transpose", [y], perm=[0, 2, 1, 3])                    # [T, N, 2, H]
    y = b.op("Reshape", [y, b.const(np.array([0, 0, -1], np.int64))])
    y = b.linear(y, 2 * hid, classes)
    y = b.op("Softmax", [y], axis=2, base="probs")
    return b.model("crnn", [f32("x", [1, 1, height, width])], [f32(y, None)])


def attention(b, x, d, heads, seq, decomposed_ln=False):
    """Multi-head self attention as exporters write it (Shape-derived reshapes)."""
    dh = d // heads

    def split_heads(t):
        shape = b.op("Shape", [t])
        n = b.op("Unsqueeze", [b.op("Gather", [shape, b.const(np.array(0, np.int64))], axis=0),
                               b.const(np.array([0], np.int64))])
        s = b.op("Unsqueeze", [b.op("Gather", [shape, b.const(np.array(1, np.int64))], axis=0),
                               b.const(np.array([0], np.int64))])
        target = b.op("Concat", [n, s, b.const(np.array([heads, dh], np.int64))], axis=0)
        return b.op("Transpose", [b.op("Reshape", [t, target])], perm=[0, 2, 1, 3])

    q, k, v = (split_heads(b.linear(x, d, d)) for _ in range(3))
    scores = b.op("Div", [b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 1, 3, 2])]),
                          b.const(np.array(dh ** 0.5, np.float32))])
    p = b.op("Softmax", [scores], axis=-1)
    ctx = b.op("Transpose", [b.op("MatMul", [p, v])], perm=[0, 2, 1, 3])
    ctx = b.op("Reshape", [ctx, b.const(np.array([0, 0, d], np.int64))])
    return b.linear(ctx, d, d)


def encoder_layer(b, x, d, heads, seq, ffn, decomposed_ln=False):
    x = b.layer_norm(b.op("Add", [x, attention(b, x, d, heads, seq)]), d, decomposed_ln)
    h = b.linear(b.gelu_erf(b.linear(x, d, ffn)), ffn, d)
    return b.layer_norm(b.op("Add", [x, h]), d, decomposed_ln)


def svtr(height=32, width=128, classes=37, seed=4):
    b = GraphBuilder(seed, opset=14)
    x = b.conv_bn_act("x", 3, 32, 3, 2, "HardSwish")
    x = b.conv_bn_act(x, 32, 64, 3, 2, "HardSwish")               # [1, 64, 8, 32]
    shape = b.op("Shape", [x])
    nc = b.op("Slice", [shape, b.const(np.array([0], np.int64)), b.const(np.array([2], np.int64))])
    tokens = b.op("Reshape", [x, b.op("Concat", [nc, b.const(np.array([-1], np.int64))], axis=0)])
    x = b.op("Transpose", [tokens], perm=[0, 2, 1])                # [1, 256, 64]
    x = encoder_layer(b, x, 64, 4, 256, 128, decomposed_ln=True)
    x = b.op("Softmax", [b.linear(x, 64, classes)], axis=-1, base="probs")
    return b.model("svtr", [f32("x", [1, 3, height, width])], [f32(x, None)])


def transformer_classifier(seq=32, vocab=1000, d=64, heads=4, layers=2, classes=5, seed=5,
                           ids_dtype=TensorProto.INT32, opset=14, decomposed_ln=True):
    """A small text classifier: int32 token ids -> Cast -> Gather embedding, position
    embedding via Range over Shape, encoder layers, mean pooling, classifier."""
    b = GraphBuilder(seed, opset=opset)
    ids = b.op("Cast", ["input_ids"], to=TensorProto.INT64)
    emb = b.op("Gather", [b.weight([vocab, d], "tok_emb", 0.02), ids], axis=0)
    n = b.op("Gather", [b.op("Shape", [ids]), b.const(np.array(1, np.int64))], axis=0)
    pos = b.op("Range", [b.const(np.array(0, np.int64)), n, b.const(np.array(1, np.int64))])
    x = b.op("Add", [emb, b.op("Gather", [b.weight([seq, d], "pos_emb", 0.02), pos], axis=0)])
    for _ in range(layers):
        x = encoder_layer(b, x, d, heads, seq, 4 * d, decomposed_ln)
    pooled = b.op("ReduceMean", [x], axes=[1], keepdims=0) if opset < 18 else \
        b.op("ReduceMean", [x, b.const(np.array([1], np.int64))], keepdims=0)
    logits = b.op("Gemm", [pooled, b.weight([classes, d], "cls.w"), b.const(np.zeros(classes, np.float32))],
                  transB=1, base="logits")
    return b.model("classifier", [helper.make_tensor_value_info("input_ids", ids_dtype, [1, seq])],
                   [f32(logits, None)])


def bert(seq=128, d=768, heads=12, layers=4, ffn=3072, seed=6):
    """A BERT-base-like encoder (4 layers, seq 128) on float embeddings."""
    b = GraphBuilder(seed, opset=17)
    x = "embeddings"
    for _ in range(layers):
        x = encoder_layer(b, x, d, heads, seq, ffn)
    x = b.op("Identity", [x], base="hidden")
    return b.model("bert", [f32("embeddings", [1, seq, d])], [f32(x, None)])


def mobilenet(image=224, seed=7):
    """MobileNetV2-style inverted residuals (depthwise 3x3, ReLU6 as Clip)."""
    b = GraphBuilder(seed, opset=13)

    def relu6(t):
        return b.op("Clip", [t, b.const(np.array(0, np.float32)), b.const(np.array(6, np.float32))])

    x = relu6(b.bn(b.conv("input", 3, 32, 3, 2, bias=False), 32))
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            h = cin * t
            y = relu6(b.bn(b.conv(x, cin, h, 1, bias=False), h)) if t != 1 else x
            y = relu6(b.bn(b.conv(y, h, h, 3, stride, group=h, bias=False), h))
            y = b.bn(b.conv(y, h, c, 1, bias=False), c)
            x = b.op("Add", [x, y]) if (stride == 1 and cin == c) else y
            cin = c
    x = relu6(b.bn(b.conv(x, cin, 1280, 1, bias=False), 1280))
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    x = b.op("Gemm", [x, b.weight([1000, 1280], "fc.w"), b.const(np.zeros(1000, np.float32))], transB=1,
             base="logits")
    return b.model("mobilenet", [f32("input", [1, 3, image, image])], [f32(x, None)])


MODELS = {
    "resnet18": lambda: resnet(18),
    "resnet50": lambda: resnet(50),
    "mobilenet": mobilenet,
    "yolo": yolo,
    "dbnet": dbnet,
    "crnn": crnn,
    "svtr": svtr,
    "classifier": transformer_classifier,
    "bert": bert,
}


def main(argv):
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name in argv[2:] or MODELS:
        onnx.save(MODELS[name](), os.path.join(out, f"{name}.onnx"))
        print(f"wrote {os.path.join(out, name)}.onnx")


if __name__ == "__main__":
    main(sys.argv)
