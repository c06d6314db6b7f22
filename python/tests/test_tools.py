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


def test_quantize_is_not_there_yet():
    with pytest.raises(NotImplementedError, match="int8"):
        sparrow.quantize("model.onnx", "out.onnx")
