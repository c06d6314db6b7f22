"""sparrow.compile, sparrow.inspect and sparrow.quantize."""
import ctypes

import numpy as np
import pytest

import models
import sparrow


def test_compile_writes_library_and_header(model_dir, tmp_path):
    path = models.save(models.two_in_two_out(), model_dir, "two")
    lib = sparrow.compile(path, tmp_path / "libtwo.so", header=tmp_path / "two.h", name="two",
                          input_shapes={"a": (5, 4)}, target_cpu="native")
    assert "two_run" in (tmp_path / "two.h").read_text()
    assert ctypes.CDLL(str(lib)).two_num_inputs() == 2


def test_compile_error(model_dir, tmp_path):
    path = models.save(models.two_in_two_out(), model_dir, "two")
    with pytest.raises(sparrow.CompileError) as info:
        sparrow.compile(path, tmp_path / "lib.so", input_shapes={"a": (5, 4, 1)})
    assert info.value.returncode == 1 and "rank" in str(info.value)
    assert not (tmp_path / "lib.so").exists()


def test_inspect_returns_the_layers(model_dir):
    layers = sparrow.inspect(models.save(models.image_classifier(), model_dir, "image"))
    assert isinstance(layers, list) and layers
    assert {"name", "op"} <= set(layers[0])
    assert any(layer["op"] in ("conv", "gemm") for layer in layers)


def _quantize_ops(path):
    import onnx
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def test_quantize_with_random_and_given_samples(model_dir, tmp_path):
    path = models.save(models.image_classifier(), model_dir, "image")
    random_out = sparrow.quantize(path, tmp_path / "random.onnx", calibrate_random=2, seed=5)
    ops = _quantize_ops(random_out)
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    rng = np.random.default_rng(0)
    samples = [{"input": rng.uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)} for _ in range(2)]
    given = sparrow.quantize(path, tmp_path / "given.onnx", samples, method="percentile:99.9")
    feeds = samples[0]
    (fp32,) = models.reference(path, feeds)
    (int8,) = models.reference(given, feeds)
    assert np.abs(int8 - fp32).max() <= 0.1 * np.abs(fp32).max()


def test_quantize_errors(model_dir, tmp_path):
    path = models.save(models.image_classifier(), model_dir, "image")
    with pytest.raises(ValueError, match="calibrat"):
        sparrow.quantize(path, tmp_path / "out.onnx")
    with pytest.raises(sparrow.CompileError) as info:
        sparrow.quantize(path, tmp_path / "out.onnx", [{"input": np.zeros((1, 3, 8, 8), np.float32)}])
    assert info.value.returncode == 1 and "input" in str(info.value)
    assert not (tmp_path / "out.onnx").exists()
