"""pytest setup: import the package from this checkout, a fresh cache per run, and the
model zoo (Tests/Models/sparrow_models.py, built with onnx.helper) at test sizes."""
import os
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPOSITORY = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))
sys.path.insert(0, str(REPOSITORY / "Tests" / "Models"))


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every run starts from an empty cache (and leaves the user's alone)."""
    cache = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("SPARROW_CACHE_DIR")
    os.environ["SPARROW_CACHE_DIR"] = str(cache)
    yield cache
    if previous is None:
        del os.environ["SPARROW_CACHE_DIR"]
    else:
        os.environ["SPARROW_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")
