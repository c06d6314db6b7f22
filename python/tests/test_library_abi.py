"""The ctypes binding against hand-written libraries with the generated C ABI: one with
the context API (NAME_context_create/run_context/destroy), one without (NAME_run), so
both paths are tested whatever `sparrowc` emits today."""
import ctypes
import gc
import shutil
import subprocess

import numpy as np
import pytest

from sparrow._library import Library, Workspace

SOURCE = r"""
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
typedef struct { const char *name; int32_t dtype; int32_t rank; const int64_t *shape; } sparrow_tensor_info;
static const int64_t shape[2] = {2, 3};
static const sparrow_tensor_info in_info = {"x", 1, 2, shape}, out_info = {"y", 1, 2, shape};
int32_t fake_num_inputs(void) { return 1; }
int32_t fake_num_outputs(void) { return 1; }
const sparrow_tensor_info *fake_input_info(int32_t i) { return i == 0 ? &in_info : NULL; }
const sparrow_tensor_info *fake_output_info(int32_t i) { return i == 0 ? &out_info : NULL; }
size_t fake_workspace_size(void) { return 100; }
const char *fake_strerror(int code) { return code == 2 ? "misaligned workspace" : "unknown"; }
int32_t last_threads = -1, live_contexts = 0, context_runs = 0;
static int body(const void *const *in, void *const *out, void *ws) {
  if ((uintptr_t)ws % 64) return 2;
  const float *x = in[0]; float *y = out[0];
  for (int i = 0; i < 6; i++) y[i] = x[i] + 1.0f;
  return 0;
}
int fake_run(const void *const *in, void *const *out, void *ws, int32_t threads) {
  last_threads = threads; return body(in, out, ws);
}
#ifdef WITH_CONTEXT
typedef struct { int32_t threads; } fake_context;
fake_context *fake_context_create(int32_t threads) {
  fake_context *c = malloc(sizeof *c); c->threads = threads; live_contexts++; return c;
}
int fake_run_context(fake_context *c, const void *const *in, void *const *out, void *ws) {
  last_threads = c->threads; context_runs++; return body(in, out, ws);
}
void fake_context_destroy(fake_context *c) { live_contexts--; free(c); }
#endif
"""


@pytest.fixture(scope="module", params=[False, True], ids=["run", "context"])
def library_path(request, tmp_path_factory):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    folder = tmp_path_factory.mktemp("fake")
    (folder / "fake.c").write_text(SOURCE)
    out = folder / "libfake.so"
    flags = ["-DWITH_CONTEXT"] if request.param else []
    subprocess.run([cc, "-shared", "-fPIC", "-O1", *flags, str(folder / "fake.c"), "-o", str(out)], check=True)
    return out, request.param


def test_run_through_the_abi(library_path):
    path, with_context = library_path
    lib = Library(path, "fake", threads=3)
    assert lib.uses_context == with_context
    assert [(t.name, t.elem_type, t.shape) for t in lib.inputs] == [("x", 1, (2, 3))]
    assert lib.workspace_size == 100
    workspace = Workspace()
    workspace.reserve(lib.workspace_size)
    assert workspace.address % 64 == 0
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = np.empty_like(x)
    lib.input_pointers[0], lib.output_pointers[0] = x.ctypes.data, y.ctypes.data
    assert lib.run(workspace.pointer) == 0
    np.testing.assert_array_equal(y, x + 1)
    state = ctypes.CDLL(str(path))
    assert ctypes.c_int32.in_dll(state, "last_threads").value == 3
    assert lib.run(ctypes.c_void_p(workspace.address + 4)) == 2
    assert lib.error_message(2) == "misaligned workspace"
    if with_context:
        assert ctypes.c_int32.in_dll(state, "context_runs").value == 2
        live = ctypes.c_int32.in_dll(state, "live_contexts")
        assert live.value == 1
        lib.close()
        assert live.value == 0
        other = Library(path, "fake")
        assert live.value == 1
        del other
        gc.collect()
        assert live.value == 0, "a collected library destroys its context"
