"""Inserts semi-structured activation masks after the 3x3 convolutions of a model.

    python bench/mask_activations.py MODEL.onnx OUTDIR [--ratios 25,50,75] [--seed 0]

The method of Grimaldi et al. (2023): a binary spatial mask [H, W], the same for every
channel, multiplied into a convolution's output: `Mul(Conv(x), M)` with M a constant of
shape [1, 1, H, W]. For each ratio r, r% of each masked conv's output positions are zero
(chosen with a seeded generator, one pattern per layer). Writes OUTDIR/<stem>.mask<r>.onnx
and OUTDIR/<stem>.mask0.onnx (the same graph unmasked, for comparison) and prints the
number of masked layers per variant. Shapes come from onnx shape inference, so the model
needs static input shapes (a symbolic batch dim counts as 1).
"""
import argparse
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


def conv_outputs_3x3(model):
    """(node index, output name, [H, W]) for every 3x3 Conv with a known output shape."""
    static = onnx.ModelProto()
    static.CopyFrom(model)
    for inp in static.graph.input:  # a symbolic batch dim is inferred as 1
        dims = inp.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
    inferred = shape_inference.infer_shapes(static)
    shapes = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = v.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[v.name] = [d.dim_value for d in dims]
    for i, node in enumerate(model.graph.node):
        if node.op_type != "Conv":
            continue
        k = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "kernel_shape"), None)
        out = node.output[0]
        if k is not None and list(k) == [3, 3] and len(shapes.get(out, [])) == 4:
            yield i, out, shapes[out][2:]


def add_masks(model, ratio, seed):
    rng = np.random.default_rng(seed)
    targets = list(conv_outputs_3x3(model))
    for n, (index, out, (h, w)) in enumerate(targets):
        mask = np.ones(h * w, np.float32)
        mask[rng.permutation(h * w)[: int(round(ratio * h * w))]] = 0
        mask_name, masked = f"{out}.act_mask", f"{out}.masked"
        model.graph.initializer.append(numpy_helper.from_array(mask.reshape(1, 1, h, w), mask_name))
        for node in model.graph.node:  # users of the conv output now read the masked value
            for j, name in enumerate(node.input):
                if name == out:
                    node.input[j] = masked
        for o in model.graph.output:
            if o.name == out:
                o.name = masked
        mul = helper.make_node("Mul", [out, mask_name], [masked], name=f"act_mask_{n}")
        model.graph.node.insert(index + 1 + n, mul)
    return len(targets)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("outdir")
    ap.add_argument("--ratios", default="25,50,75")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(a.model))[0]
    for r in [0] + [int(x) for x in a.ratios.split(",")]:
        model = onnx.load(a.model)
        count = add_masks(model, r / 100, a.seed) if r else 0
        onnx.checker.check_model(model)
        path = os.path.join(a.outdir, f"{stem}.mask{r}.onnx")
        onnx.save(model, path)
        print(f"{path}: {count} convs masked at {r}%")


if __name__ == "__main__":
    main()
