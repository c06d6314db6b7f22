"""InferenceSession against onnxruntime: onnxruntime-style calling code with only the
session class swapped."""
import numpy as np
import onnx
import pytest

import models
import sparrow
from sparrow import _compiler


def test_one_op_describes_and_runs_like_onnxruntime(model_dir):
    path = models.save(models.one_op(), model_dir, "relu")
    session = sparrow.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (arg,) = session.get_inputs()
    assert (arg.name, arg.type, arg.shape) == ("x", "tensor(float)", [2, 3, 4])
    assert [(o.name, o.type, o.shape) for o in session.get_outputs()] == [("y", "tensor(float)", [2, 3, 4])]
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    result = session.run(None, {"x": x})
    assert isinstance(result, list)
    models.assert_close(result, models.reference(path, {"x": x}))
    assert session.run(["y"], {"x": x})[0].shape == (2, 3, 4)
    transposed = np.ascontiguousarray(x.transpose(2, 1, 0)).transpose(2, 1, 0)  # not C-contiguous
    np.testing.assert_array_equal(session.run(None, {"x": transposed})[0], np.maximum(x, 0))
    x.setflags(write=False)  # read-only feeds are read in place too
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], np.maximum(x, 0))


def test_outputs_by_name_and_symbolic_batch(model_dir):
    path = models.save(models.two_in_two_out(), model_dir, "two")
    session = sparrow.InferenceSession(path)
    assert [i.shape for i in session.get_inputs()] == [["N", 4], [4]]
    assert [o.name for o in session.get_outputs()] == ["sum", "prod"]
    b = np.arange(4, dtype=np.float32)
    for n in (1, 3, 1):
        a = np.ones((n, 4), np.float32) * n
        prod, total = session.run(["prod", "sum"], {"a": a, "b": b})
        np.testing.assert_allclose(total, a + b)
        np.testing.assert_allclose(prod, a * b)
    assert sorted(session.specializations) == [((1, 4), (4,)), ((3, 4), (4,))]


def test_image_classifier_symbolic_batch(model_dir):
    path = models.save(models.image_classifier(), model_dir, "image")
    session = sparrow.InferenceSession(str(path))
    (arg,) = session.get_inputs()
    assert arg.shape == ["batch", 3, 32, 32] and arg.type == "tensor(float)"
    rng = np.random.default_rng(1)
    for batch in (1, 2):
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        name = session.get_inputs()[0].name
        models.assert_close(session.run(None, {name: x}), models.reference(path, {name: x}))
    compiles = _compiler.compile_count
    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    models.assert_close(session.run(None, {"input": x}), models.reference(path, {"input": x}))
    assert _compiler.compile_count == compiles, "a known shape must reuse its specialization"


def test_detector_symbolic_height_and_width(model_dir):
    path = models.save(models.detector(), model_dir, "detector")
    session = sparrow.InferenceSession(str(path))
    assert session.get_inputs()[0].shape == [1, 3, "height", "width"]
    rng = np.random.default_rng(2)
    for h, w in ((64, 64), (64, 96)):
        x = rng.standard_normal((1, 3, h, w)).astype(np.float32)
        models.assert_close(session.run(None, {"images": x}), models.reference(path, {"images": x}))


def test_transformer_with_int32_ids(model_dir):
    path = models.save(models.text_classifier(), model_dir, "text")
    session = sparrow.InferenceSession(path.read_bytes())  # from bytes, as onnxruntime allows
    (arg,) = session.get_inputs()
    assert (arg.name, arg.type, arg.shape) == ("input_ids", "tensor(int32)", [1, 16])
    ids = np.random.default_rng(3).integers(0, 50, size=(1, 16)).astype(np.int32)
    models.assert_close(session.run(None, {"input_ids": ids}), models.reference(path, {"input_ids": ids}))
    with pytest.raises(sparrow.InvalidArgument, match=r"Actual: \(tensor\(int64\)\) , expected: \(tensor\(int32\)\)"):
        session.run(None, {"input_ids": ids.astype(np.int64)})


def test_second_session_loads_from_the_cache(model_dir, private_cache):
    path = models.save(models.one_op("Sigmoid", (4, 8)), model_dir, "sigmoid")
    x = np.linspace(-3, 3, 32, dtype=np.float32).reshape(4, 8)
    first = sparrow.InferenceSession(path).run(None, {"x": x})[0]
    compiles = _compiler.compile_count
    again = sparrow.InferenceSession(path)
    from_bytes = sparrow.InferenceSession(path.read_bytes())
    assert _compiler.compile_count == compiles
    np.testing.assert_array_equal(again.run(None, {"x": x})[0], first)
    np.testing.assert_array_equal(from_bytes.run(None, {"x": x})[0], first)
    libraries = list((private_cache / "libraries").glob("*.so"))
    assert libraries and not list((private_cache / "libraries").glob(".*")), "no temporary left behind"
    sparrow.InferenceSession(path, sparsity="off")  # other flags: another library
    assert _compiler.compile_count == compiles + 1


def test_feed_errors_read_like_onnxruntime(model_dir):
    path = models.save(models.one_op(), model_dir, "relu")
    session = sparrow.InferenceSession(path)
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"Required inputs \(\['x'\]\) are missing"):
        session.run(None, {"q": x})
    with pytest.raises(sparrow.InvalidArgument, match="expected: \\(tensor\\(float\\)\\)"):
        session.run(None, {"x": x.astype(np.float64)})
    with pytest.raises(sparrow.InvalidArgument, match="invalid dimensions for input: x .*index: 2 Got: 5 Expected: 4"):
        session.run(None, {"x": np.zeros((2, 3, 5), np.float32)})
    with pytest.raises(sparrow.InvalidArgument, match="Invalid rank"):
        session.run(None, {"x": np.zeros((6, 4), np.float32)})
    with pytest.raises(sparrow.InvalidArgument, match="Invalid output name: nope"):
        session.run(["nope"], {"x": x})
    np.testing.assert_array_equal(session.run(None, {"x": x.tolist()})[0], x)  # lists are converted


def test_compile_error_carries_the_diagnostic(model_dir):
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, [1, None])
    graph = helper.make_graph([helper.make_node("NonZero", ["x"], ["y"], name="nz")], "g", [x], [y])
    path = models.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model_dir, "nonzero")
    with pytest.raises(sparrow.CompileError) as info:
        sparrow.InferenceSession(str(path))
    error = info.value
    assert error.returncode == 1
    assert any("nonzero.onnx" in line and "NonZero" in line for line in error.diagnostics), error.diagnostics
    assert "NonZero" in str(error)


def test_not_a_model(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x01\x02 this is no protobuf")
    with pytest.raises(sparrow.ModelFormatError):
        sparrow.InferenceSession(bad)


def test_session_options_map_to_threads_and_level(model_dir):
    import onnxruntime as ort
    path = models.save(models.one_op(), model_dir, "relu")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = sparrow.InferenceSession(str(path), opts, providers=["CUDAExecutionProvider", "CPUExecutionProvider"],
                                       some_future_option=True)
    assert session.threads == 2 and "-O0" in session._flags
    own = sparrow.SessionOptions()
    own.intra_op_num_threads = 1
    assert sparrow.InferenceSession(path, own).threads == 1
    assert sparrow.InferenceSession(path, own, threads=3).threads == 3
    x = np.ones((2, 3, 4), np.float32)
    np.testing.assert_array_equal(session.run(None, {"x": -x})[0], 0 * x)


def test_close_releases_the_session(model_dir):
    path = models.save(models.one_op(), model_dir, "relu")
    with sparrow.InferenceSession(path) as session:
        session.run(None, {"x": np.ones((2, 3, 4), np.float32)})
    with pytest.raises(sparrow.SparrowError, match="closed"):
        session.run(None, {"x": np.ones((2, 3, 4), np.float32)})


def test_compiler_lookup(monkeypatch, tmp_path):
    monkeypatch.setenv("SPARROWC", str(tmp_path / "missing-sparrowc"))
    with pytest.raises(sparrow.CompilerNotFoundError, match="SPARROWC=.*not an executable"):
        sparrow.find_compiler()
    monkeypatch.delenv("SPARROWC")
    assert sparrow.find_compiler().name == "sparrowc"  # PATH or this checkout's release build
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_compiler, "_candidate_roots", lambda: [tmp_path])
    with pytest.raises(sparrow.CompilerNotFoundError, match="set SPARROWC=.*make build"):
        sparrow.find_compiler()


def test_concurrent_runs_share_one_session(model_dir):
    from concurrent.futures import ThreadPoolExecutor
    path = models.save(models.two_in_two_out(), model_dir, "two")
    session = sparrow.InferenceSession(path)
    b = np.arange(4, dtype=np.float32)

    def work(i):
        a = np.full((1 + i % 3, 4), float(i), np.float32)
        total, prod = session.run(None, {"a": a, "b": b})
        return np.array_equal(total, a + b) and np.array_equal(prod, a * b)

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(200)))


def test_cache_folder(monkeypatch, tmp_path):
    from sparrow import _cache
    monkeypatch.delenv("SPARROW_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_dir() == tmp_path / "sparrow"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: absolute only
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache.cache_dir() == tmp_path / "home" / ".cache" / "sparrow"
