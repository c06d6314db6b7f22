#!/usr/bin/env python3
"""Generates Tests/SparrowInterpreterTests/ReferenceCases.swift: small pooling, movement,
resize and recurrent cases with the results onnxruntime computes for them.

Each case names the Sparrow op and its (normalized) attributes, and the ONNX node that
means the same thing; attribute-like ONNX inputs (pads, starts, sizes ...) become
initializers. Run with the project's venv:  .venv/bin/python generate_cases.py
"""
import os
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper as h, numpy_helper

rng = np.random.default_rng(7)
OUT = os.path.join(os.path.dirname(__file__), "..", "SparrowInterpreterTests", "ReferenceCases.swift")
ELEM = {"float32": ".f32", "float64": ".f64", "int64": ".i64", "int32": ".i32", "bool": ".bool"}


def f32(*shape):
    return np.round(rng.standard_normal(shape), 2).astype(np.float32)


def swift_attr(v):
    if isinstance(v, bool):
        return f".bool({str(v).lower()})"
    if isinstance(v, int):
        return f".int({v})"
    if isinstance(v, float):
        return f".float({v!r})"
    if isinstance(v, str):
        return f'.string("{v}")'
    if isinstance(v, list) and all(isinstance(x, int) for x in v):
        return f".ints({v})"
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return ".strings([" + ", ".join(f'"{x}"' for x in v) + "])"
    if isinstance(v, list):
        return ".floats([" + ", ".join(repr(float(x)) for x in v) + "])"
    raise TypeError(v)


def swift_tensor(a):
    a = np.asarray(a)
    kind = ELEM[a.dtype.name]
    vals = ", ".join(str(x) if a.dtype.kind != "f" else str(np.float32(x)) for x in a.ravel().tolist()
                     if True).replace("True", "1").replace("False", "0")
    return f"ReferenceTensor({kind}, {list(a.shape)}, [{vals}])"


cases = []


def case(family, name, kind, attrs, onnx_op, onnx_attrs, inputs, onnx_inputs=None, outputs=1,
         opset=19, reference=False):
    """onnx_inputs: list of names/arrays for the ONNX node; ints index `inputs`, arrays are
    initializers, '' is an absent optional input. `reference` runs onnx's reference
    evaluator instead (where onnxruntime departs from the spec)."""
    onnx_inputs = list(range(len(inputs))) if onnx_inputs is None else onnx_inputs
    node_inputs, inits, feeds, graph_inputs = [], [], {}, []
    for j, x in enumerate(onnx_inputs):
        if isinstance(x, str):
            node_inputs.append(x)
        elif isinstance(x, int):
            nm = f"x{x}"
            node_inputs.append(nm)
            if nm not in feeds:
                feeds[nm] = inputs[x]
                graph_inputs.append(h.make_tensor_value_info(nm, onnx.helper.np_dtype_to_tensor_dtype(inputs[x].dtype), inputs[x].shape))
        else:
            nm = f"c{j}"
            node_inputs.append(nm)
            inits.append(numpy_helper.from_array(np.asarray(x), nm))
    outs = [f"y{i}" for i in range(outputs)]
    node = h.make_node(onnx_op, node_inputs, outs, **onnx_attrs)
    graph = h.make_graph([node], "g", graph_inputs, [h.make_value_info(o, onnx.TypeProto()) for o in outs], inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    if reference:
        from onnx.reference import ReferenceEvaluator
        results = ReferenceEvaluator(model).run(None, feeds)
    else:
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        results = sess.run(None, feeds)
    cases.append((family, name, kind, attrs, inputs, results))


def pool_attrs(k, s=None, pd=None, d=None, **extra):
    n = len(k)
    a = {"kernel": k, "strides": s or [1] * n, "pads": pd or [0] * (2 * n), "dilations": d or [1] * n}
    a.update(extra)
    o = {"kernel_shape": k, "strides": s or [1] * n, "pads": pd or [0] * (2 * n)}
    if d:
        o["dilations"] = d
    for key, v in extra.items():
        o[key] = int(v) if isinstance(v, bool) else v
    return a, o


# ---- pooling
x = f32(1, 2, 7, 7)
a, o = pool_attrs([3, 3], [2, 2], [1, 1, 1, 1])
case("pool", "max_pool 3x3 s2 p1 with indices", "max_pool", a, "MaxPool", o, [x], outputs=2)
a, o = pool_attrs([3, 3], [2, 2], [1, 1, 1, 1], storage_order=1)
case("pool", "max_pool storage_order 1", "max_pool", a, "MaxPool", o, [f32(2, 1, 5, 6)], outputs=2)
a, o = pool_attrs([2, 3], [2, 2], [0, 1, 0, 0], [2, 1], ceil_mode=True)
case("pool", "max_pool ceil_mode dilations", "max_pool", a, "MaxPool", o, [f32(1, 2, 8, 7)])
a, o = pool_attrs([3], [2], [1, 1])
case("pool", "max_pool 1-D", "max_pool", a, "MaxPool", o, [f32(1, 2, 9)], outputs=2)
a, o = pool_attrs([2, 2, 2], [1, 2, 2], [0, 1, 0, 1, 0, 1])
case("pool", "max_pool 3-D", "max_pool", a, "MaxPool", o, [f32(1, 1, 3, 4, 5)], outputs=2)
for cip in [False, True]:
    a, o = pool_attrs([3, 3], [2, 2], [1, 1, 1, 1], count_include_pad=cip)
    case("pool", f"average_pool count_include_pad {cip}", "average_pool", a, "AveragePool", o, [f32(1, 2, 6, 7)])
a, o = pool_attrs([3, 3], [2, 2], [1, 0, 0, 1], ceil_mode=True, count_include_pad=True)
case("pool", "average_pool ceil_mode count_include_pad", "average_pool", a, "AveragePool", o, [f32(1, 1, 6, 6)])
a, o = pool_attrs([3, 3], [2, 2], [0, 0, 0, 0], ceil_mode=True)
case("pool", "average_pool ceil_mode", "average_pool", a, "AveragePool", o, [f32(1, 1, 6, 8)])
a, o = pool_attrs([2, 2, 3], [1, 1, 2], [0, 0, 1, 1, 0, 1])
case("pool", "average_pool 3-D", "average_pool", a, "AveragePool", o, [f32(1, 2, 3, 3, 5)])
a, o = pool_attrs([2, 2], [1, 2], [1, 1, 1, 0], [2, 2], count_include_pad=True)
case("pool", "average_pool dilations count_include_pad", "average_pool", a, "AveragePool", o, [f32(1, 1, 6, 7)])
a, o = pool_attrs([2, 2], [1, 2], [1, 1, 1, 0], [2, 2])
case("pool", "average_pool dilations", "average_pool", a, "AveragePool", o, [f32(1, 1, 6, 7)])
for p in [2, 3]:
    a, o = pool_attrs([2, 2], [2, 2], [1, 1, 0, 0], p=p)
    case("pool", f"lp_pool p{p}", "lp_pool", a, "LpPool", o, [f32(1, 2, 5, 5)], opset=18)
case("pool", "global_average_pool", "global_average_pool", {}, "GlobalAveragePool", {}, [f32(2, 3, 4, 5)])
case("pool", "global_max_pool", "global_max_pool", {}, "GlobalMaxPool", {}, [f32(2, 3, 4, 5)])
case("pool", "global_lp_pool", "global_lp_pool", {"p": 3}, "GlobalLpPool", {"p": 3}, [f32(1, 3, 4, 2)])
case("pool", "global_average_pool 3-D", "global_average_pool", {}, "GlobalAveragePool", {}, [f32(1, 2, 2, 3, 4)])

# ---- movement
x = f32(2, 3, 4, 5)
case("movement", "transpose nchw->nhwc", "transpose", {"perm": [0, 2, 3, 1]}, "Transpose", {"perm": [0, 2, 3, 1]}, [x])
case("movement", "transpose 3-D", "transpose", {"perm": [2, 0, 1]}, "Transpose", {"perm": [2, 0, 1]}, [f32(2, 3, 4)])
ix = rng.integers(-50, 50, (3, 2, 4)).astype(np.int64)
case("movement", "transpose i64", "transpose", {"perm": [1, 2, 0]}, "Transpose", {"perm": [1, 2, 0]}, [ix])
case("movement", "reshape", "reshape", {"shape": [6, 20]}, "Reshape", {}, [f32(2, 3, 4, 5)], [0, np.array([6, 20])])
case("movement", "expand", "expand", {"shape": [2, 3, 4]}, "Expand", {}, [f32(3, 1)], [0, np.array([2, 3, 4])])
case("movement", "tile", "tile", {"repeats": [2, 1, 3]}, "Tile", {}, [f32(2, 3, 2)], [0, np.array([2, 1, 3])])
case("movement", "concat axis 1", "concat", {"axis": 1}, "Concat", {"axis": 1}, [f32(2, 1, 3), f32(2, 2, 3), f32(2, 3, 3)])
case("movement", "concat i32 axis 0", "concat", {"axis": 0}, "Concat", {"axis": 0},
     [np.arange(6, dtype=np.int32).reshape(2, 3), np.arange(3, dtype=np.int32).reshape(1, 3)])
case("movement", "split", "split", {"axis": 2, "sizes": [1, 3, 2]}, "Split", {"axis": 2}, [f32(2, 2, 6)],
     [0, np.array([1, 3, 2])], outputs=3)
case("movement", "slice negative steps", "slice",
     {"starts": [-1, 1, 4], "ends": [-100, 3, 0], "axes": [0, 1, 2], "steps": [-1, 1, -2]},
     "Slice", {}, [f32(3, 4, 6)], [0, np.array([-1, 1, 4]), np.array([-100, 3, 0]), np.array([0, 1, 2]), np.array([-1, 1, -2])])
case("movement", "slice clamped", "slice", {"starts": [1], "ends": [1000], "axes": [1], "steps": [2]},
     "Slice", {}, [f32(2, 7)], [0, np.array([1]), np.array([1000]), np.array([1]), np.array([2])])
for mode in ["constant", "reflect", "edge", "wrap"]:
    pads = [0, 2, 1, 0, 1, 3]
    attrs = {"pads": pads, "mode": mode}
    if mode == "constant":
        attrs["value"] = 1.5
    ins = [0, np.array(pads)] + ([np.array(1.5, np.float32)] if mode == "constant" else [])
    case("movement", f"pad {mode}", "pad", attrs, "Pad", {"mode": mode}, [f32(2, 4, 4)], ins)
case("movement", "pad negative crops", "pad", {"pads": [0, -1, 2, 0, 1, -2]}, "Pad", {}, [f32(2, 4, 5)],
     [0, np.array([0, -1, 2, 0, 1, -2])])
case("movement", "gather negative indices", "gather", {"axis": 1}, "Gather", {"axis": 1},
     [f32(2, 4, 3), np.array([[0, -1], [2, -4]], np.int64)])
case("movement", "gather i32 indices axis 0", "gather", {"axis": 0}, "Gather", {"axis": 0},
     [f32(5, 3), np.array([4, 0, -2], np.int32)])
case("movement", "gather_elements", "gather_elements", {"axis": 1}, "GatherElements", {"axis": 1},
     [f32(3, 4), np.array([[0, 3], [-1, 1], [2, 2]], np.int64)])
case("movement", "gather_nd", "gather_nd", {"batch_dims": 0}, "GatherND", {},
     [f32(3, 4, 2), np.array([[0, 1], [2, -1]], np.int64)])
case("movement", "gather_nd batch_dims 1", "gather_nd", {"batch_dims": 1}, "GatherND", {"batch_dims": 1},
     [f32(2, 3, 4), np.array([[[1], [0]], [[2], [2]]], np.int64)])
for red in ["none", "add", "mul", "max", "min"]:
    case("movement", f"scatter_elements {red}", "scatter_elements", {"axis": 0, "reduction": red},
         "ScatterElements", {"axis": 0, "reduction": red},
         [f32(3, 3), np.array([[1, 0, 2], [1, 2, 0]], np.int64), f32(2, 3)], opset=18)
    case("movement", f"scatter_nd {red}", "scatter_nd", {"reduction": red}, "ScatterND", {"reduction": red},
         [f32(4, 2, 3), np.array([[1], [3], [1]], np.int64), f32(3, 2, 3)], opset=18)
case("movement", "depth_to_space DCR", "depth_to_space", {"blocksize": 2, "mode": "DCR"}, "DepthToSpace",
     {"blocksize": 2, "mode": "DCR"}, [f32(1, 8, 2, 3)])
case("movement", "depth_to_space CRD", "depth_to_space", {"blocksize": 2, "mode": "CRD"}, "DepthToSpace",
     {"blocksize": 2, "mode": "CRD"}, [f32(1, 8, 2, 3)])
case("movement", "space_to_depth", "space_to_depth", {"blocksize": 2}, "SpaceToDepth", {"blocksize": 2},
     [f32(1, 2, 4, 6)])
case("movement", "reverse_sequence", "reverse_sequence", {"batch_axis": 1, "time_axis": 0}, "ReverseSequence",
     {"batch_axis": 1, "time_axis": 0}, [f32(4, 3, 2), np.array([4, 1, 3], np.int64)])
case("movement", "reverse_sequence batch first", "reverse_sequence", {"batch_axis": 0, "time_axis": 1},
     "ReverseSequence", {"batch_axis": 0, "time_axis": 1}, [f32(2, 5, 2), np.array([2, 5], np.int64)])
for axis in [-1, 0]:
    case("movement", f"one_hot axis {axis}", "one_hot", {"axis": axis, "depth": 4}, "OneHot", {"axis": axis},
         [np.array([[0, 3], [-1, 5]], np.int64), np.array([-2.0, 3.0], np.float32)],
         [0, np.array(4, np.int64), 1])
for upper, kk in [(True, 0), (True, 1), (False, -1), (False, 2)]:
    case("movement", f"trilu upper {upper} k {kk}", "trilu", {"upper": upper, "k": kk}, "Trilu",
         {"upper": int(upper)}, [f32(2, 3, 4)], [0, np.array(kk, np.int64)])

# ---- resize: sizes given (scales attribute absent) or scales given (sizes = floor(in * scale))
def resize(name, x, sizes=None, scales=None, roi=None, reference=False, **attrs):
    a = {k: bool(v) if k == "exclude_outside" else v for k, v in attrs.items()}
    if scales is not None:
        out = [int(np.floor(d * s)) for d, s in zip(x.shape, scales)]
        a["scales"] = [float(s) for s in scales]
    else:
        out = sizes
    a["sizes"] = out
    if roi is not None:
        a["roi"] = [float(r) for r in roi]
    ins = [0, np.array(roi if roi is not None else [], np.float32),
           np.array(scales if scales is not None else [], np.float32)]
    if scales is None:
        ins.append(np.array(sizes, np.int64))
    case("resize", name, "resize", a, "Resize", attrs, [x], ins, reference=reference)


xr = f32(1, 2, 3, 4)
resize("nearest asymmetric floor x2", xr, scales=[1, 1, 2, 2], mode="nearest",
       coordinate_transformation_mode="asymmetric", nearest_mode="floor")
resize("nearest half_pixel round_prefer_ceil sizes", xr, sizes=[1, 2, 7, 5], mode="nearest",
       nearest_mode="round_prefer_ceil")
resize("nearest half_pixel round_prefer_floor down", f32(1, 1, 6, 7), sizes=[1, 1, 4, 3], mode="nearest")
resize("nearest ceil align_corners", xr, sizes=[1, 2, 5, 6], mode="nearest", nearest_mode="ceil",
       coordinate_transformation_mode="align_corners")
resize("linear half_pixel x2", xr, scales=[1, 1, 2, 2], mode="linear")
resize("linear align_corners sizes", xr, sizes=[1, 2, 5, 7], mode="linear", coordinate_transformation_mode="align_corners")
resize("linear pytorch_half_pixel down", f32(1, 1, 7, 6), sizes=[1, 1, 3, 1], mode="linear",
       coordinate_transformation_mode="pytorch_half_pixel")
resize("linear asymmetric scales 1.7", xr, scales=[1, 1, 1.7, 1.3], mode="linear", coordinate_transformation_mode="asymmetric")
resize("linear half_pixel_symmetric", xr, scales=[1, 1, 1.5, 2.5], mode="linear",
       coordinate_transformation_mode="half_pixel_symmetric")
resize("linear 1-D rank 3", f32(2, 3, 5), sizes=[2, 3, 8], mode="linear")
resize("cubic half_pixel", xr, sizes=[1, 2, 6, 9], mode="cubic")
resize("cubic exclude_outside a -0.5", xr, sizes=[1, 2, 5, 3], mode="cubic", exclude_outside=1, cubic_coeff_a=-0.5)
resize("cubic align_corners", xr, scales=[1, 1, 2, 2], mode="cubic", coordinate_transformation_mode="align_corners")
resize("linear tf_crop_and_resize", xr, sizes=[1, 2, 4, 5], roi=[0, 0, 0.2, -0.3, 1, 1, 0.9, 1.2], mode="linear",
       coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=7.0)
# onnxruntime 1.32 ignores a negative roi start with nearest: this case follows the spec.
resize("nearest tf_crop_and_resize (onnx reference)", xr, sizes=[1, 2, 3, 3], roi=[0, 0, -0.5, 0.1, 1, 1, 0.6, 0.8],
       mode="nearest", coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=-1.0,
       reference=True)

# ---- recurrent: Sparrow operands X, W, R, B, initial_h[, initial_c][, P]
def recurrent(name, op, seq, batch, inp, hid, direction="forward", layout=0, peep=False, acts=None,
              alphas=None, betas=None, **extra):
    # onnxruntime runs only layout 0: layout 1 cases run there and are transposed after.
    dirs = 2 if direction == "bidirectional" else 1
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    xs = [seq, batch, inp]
    st = [dirs, batch, hid]
    ins = [f32(*xs), f32(dirs, gates * hid, inp) * 0.5, f32(dirs, gates * hid, hid) * 0.5,
           f32(dirs, 2 * gates * hid) * 0.5, f32(*st)]
    onnx_in = [0, 1, 2, 3, "", 4]
    if op == "LSTM":
        ins.append(f32(*st))
        onnx_in.append(5)
        if peep:
            ins.append(f32(dirs, 3 * hid))
            onnx_in.append(6)
    a = {"direction": direction, "hidden_size": hid, "layout": layout}
    a.update(extra)
    o = {"direction": direction, "hidden_size": hid}
    for key, v in extra.items():
        o[key] = int(v) if isinstance(v, bool) else v
    if acts:
        a["activations"] = acts
        o["activations"] = acts
    if alphas:
        a["activation_alpha"] = alphas
        o["activation_alpha"] = alphas
    if betas:
        a["activation_beta"] = betas
        o["activation_beta"] = betas
    case("recurrent", name, op.lower(), a, op, o, ins, onnx_in, outputs=3 if op == "LSTM" else 2)
    if layout == 1:
        family, name, kind, a, ins, outs = cases.pop()
        swap = lambda t: np.ascontiguousarray(np.swapaxes(t, 0, 1))
        ins = [swap(ins[0])] + ins[1:4] + [swap(t) for t in ins[4:6]] + ins[6:]
        if op != "LSTM":
            ins = ins[:5]
        outs = [np.ascontiguousarray(outs[0].transpose(2, 0, 1, 3))] + [swap(t) for t in outs[1:]]
        cases.append((family, name, kind, a, ins, outs))


recurrent("lstm forward peephole", "LSTM", 4, 2, 3, 5, peep=True)
recurrent("lstm bidirectional", "LSTM", 3, 2, 4, 3, direction="bidirectional")
recurrent("lstm reverse layout 1 clip", "LSTM", 3, 2, 3, 4, direction="reverse", layout=1, clip=0.5)
recurrent("lstm input_forget", "LSTM", 3, 1, 2, 3, input_forget=True)
recurrent("gru forward", "GRU", 4, 2, 3, 5)
recurrent("gru linear_before_reset bidirectional", "GRU", 3, 2, 3, 4, direction="bidirectional",
          linear_before_reset=True)
recurrent("gru reverse layout 1", "GRU", 3, 2, 2, 3, direction="reverse", layout=1)
recurrent("rnn forward", "RNN", 4, 2, 3, 4)
recurrent("rnn bidirectional activations", "RNN", 3, 1, 2, 3, direction="bidirectional",
          acts=["LeakyRelu", "ScaledTanh"], alphas=[0.2, 0.8], betas=[1.3])

with open(OUT, "w") as f:
    f.write("//===--- ReferenceCases.swift - onnxruntime results for kernel tests ---===//\n//\n")
    f.write(f"// Generated by Tests/InterpreterReference/generate_cases.py (onnxruntime {ort.__version__});\n")
    f.write("// do not edit. Each case: the Sparrow op and attributes, inputs, and the results.\n\n")
    f.write("import SparrowIR\n\nlet referenceCases: [ReferenceCase] = [\n")
    for family, name, kind, attrs, inputs, results in cases:
        at = ", ".join(f'"{k}": {swift_attr(v)}' for k, v in attrs.items()) or ":"
        f.write(f'  ReferenceCase(family: "{family}", name: "{name}", kind: .{kind},\n')
        f.write(f"                attributes: [{at}],\n")
        f.write("                inputs: [" + ", ".join(swift_tensor(x) for x in inputs) + "],\n")
        f.write("                outputs: [" + ", ".join(swift_tensor(y) for y in results) + "]),\n")
    f.write("]\n")
print(len(cases), "cases")
