"""Writes pruned variants of an ONNX model for tests and benchmarks (nothing is committed).

    python bench/prune.py MODEL.onnx OUTDIR [--patterns 2:4,1:4,2:8,u80,u90,b4x4-80,b4x4-90]

Patterns, applied to every GEMM-like weight where they fit (constant initializer, K a
multiple of the group size); other layers stay dense:
  N:M      at most N non-zeros in every M consecutive weights along the reduction axis K,
           keeping the N largest magnitudes. Gemm/MatMul: K is the weight's input axis
           (after transB). Conv [O, C/g, kh, kw]: M consecutive input channels at one kernel
           position (NVIDIA ASP / SR-STE convention: the GEMM K order is (kh, kw, Cin)).
           Depthwise convs (one input channel per group) are left dense.
  uNN      unstructured: the NN% smallest magnitudes of each layer set to zero.
  bRxC-NN  R x C blocks of the [O, K] GEMM view (K in (kh, kw, Cin) order for convs),
           the NN% of blocks with the smallest L2 norm set to zero.
Writes OUTDIR/<stem>.<pattern>.onnx (':' becomes 'of', e.g. resnet50.2of4.onnx) and
prints one line per variant: pruned layers and overall weight density.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import numpy_helper


def gemm_weights(model):
    """Yields (initializer, kind) for weights of Conv, Gemm and MatMul nodes.

    kind is 'conv', 'gemm_nt' (Gemm transB=1: weight [N, K]) or 'kn' (weight [K, N])."""
    inits = {i.name: i for i in model.graph.initializer}
    seen = set()
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv" and len(node.input) > 1 and node.input[1] in inits:
            name, kind = node.input[1], "conv"
        elif node.op_type == "Gemm" and node.input[1] in inits:
            name, kind = node.input[1], "gemm_nt" if attrs.get("transB", 0) else "kn"
        elif node.op_type == "MatMul" and node.input[1] in inits:
            name, kind = node.input[1], "kn"
        else:
            continue
        if name in seen or inits[name].data_type != onnx.TensorProto.FLOAT:
            continue
        seen.add(name)
        yield inits[name], kind


def to_rows(w, kind):
    """The weight as [rows = outputs, K] with K in the order the pattern groups along."""
    if kind == "conv":
        o, c, kh, kw = w.shape
        return w.transpose(0, 2, 3, 1).reshape(o, kh * kw * c)
    if kind == "gemm_nt":
        return w.reshape(w.shape[0], -1)
    return w.reshape(w.shape[0], -1).T  # [K, N] -> [N, K]


def from_rows(rows, kind, shape):
    if kind == "conv":
        o, c, kh, kw = shape
        return rows.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)
    if kind == "gemm_nt":
        return rows.reshape(shape)
    return rows.T.reshape(shape)


def prune_nm(rows, n, m):
    r, k = rows.shape
    g = rows.reshape(r, k // m, m)
    order = np.argsort(-np.abs(g), axis=2, kind="stable")
    keep = np.zeros_like(g, dtype=bool)
    np.put_along_axis(keep, order[:, :, :n], True, axis=2)
    return (g * keep).reshape(r, k)


def prune_unstructured(rows, sparsity):
    flat = np.abs(rows).ravel()
    cut = int(round(sparsity * flat.size))
    if cut == 0:
        return rows
    idx = np.argsort(flat, kind="stable")[:cut]
    out = rows.copy().ravel()
    out[idx] = 0
    return out.reshape(rows.shape)


def prune_blocks(rows, br, bc, sparsity):
    r, k = rows.shape
    blocks = rows.reshape(r // br, br, k // bc, bc)
    norms = np.sqrt((blocks ** 2).sum(axis=(1, 3)))
    cut = int(round(sparsity * norms.size))
    idx = np.argsort(norms.ravel(), kind="stable")[:cut]
    mask = np.ones(norms.size, dtype=bool)
    mask[idx] = False
    mask = mask.reshape(norms.shape)[:, None, :, None]
    return (blocks * mask).reshape(r, k)


def parse_pattern(p):
    if ":" in p:
        n, m = map(int, p.split(":"))
        return ("nm", n, m)
    if p.startswith("u"):
        return ("u", int(p[1:]) / 100)
    if p.startswith("b"):
        shape, pct = p[1:].split("-")
        br, bc = map(int, shape.split("x"))
        return ("b", br, bc, int(pct) / 100)
    raise SystemExit(f"unknown pattern {p!r}")


def prune_model(model, pattern):
    """Prunes in place; returns (layers pruned, layers left dense)."""
    spec = parse_pattern(pattern)
    pruned, dense = 0, 0
    for init, kind in gemm_weights(model):
        w = numpy_helper.to_array(init).astype(np.float32)
        if kind == "conv" and w.shape[1] == 1:
            dense += 1  # depthwise: no reduction axis to group along
            continue
        rows = to_rows(w, kind)
        r, k = rows.shape
        if spec[0] == "nm":
            if k % spec[2] or (kind == "conv" and w.shape[1] % spec[2]):
                dense += 1
                continue
            rows = prune_nm(rows, spec[1], spec[2])
        elif spec[0] == "u":
            rows = prune_unstructured(rows, spec[1])
        else:
            if r % spec[1] or k % spec[2]:
                dense += 1
                continue
            rows = prune_blocks(rows, spec[1], spec[2], spec[3])
        init.CopyFrom(numpy_helper.from_array(from_rows(rows, kind, w.shape).astype(np.float32), init.name))
        pruned += 1
    return pruned, dense


def density(model):
    nz = total = 0
    for init, _ in gemm_weights(model):
        w = numpy_helper.to_array(init)
        nz += int(np.count_nonzero(w))
        total += w.size
    return nz / max(total, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("outdir")
    ap.add_argument("--patterns", default="2:4,1:4,2:8,u80,u90,b4x4-80,b4x4-90")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(a.model))[0]
    for p in a.patterns.split(","):
        model = onnx.load(a.model)
        pruned, dense = prune_model(model, p)
        path = os.path.join(a.outdir, f"{stem}.{p.replace(':', 'of')}.onnx")
        onnx.save(model, path)
        print(f"{path}: {pruned} layers pruned, {dense} left dense, weight density {density(model):.3f}")


if __name__ == "__main__":
    main()
