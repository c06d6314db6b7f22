# Sparrow: setup, build, demo, test. `make test` is what CI runs (.ci/run).
#
#   make setup   system packages and .venv (onnx, onnxruntime, numpy), only when missing
#   make build   release build of the sparrowc driver
#   make demo    build the bundled example model, run it, compare with onnxruntime, bench it
#   make test    unit + golden tests (debug), release build, driver checks, ONNX conformance

SHELL := /bin/bash
PY := .venv/bin/python
SPARROWC := .build/release/sparrowc
DEMO_DIR := .build/demo
# A regex of XCTests to skip in `make test` (none are heavy today), e.g. SKIP_TESTS='Bench'.
SKIP_TESTS ?=
SWIFT_TEST_FLAGS := $(if $(SKIP_TESTS),--skip '$(SKIP_TESTS)',)
CONFORMANCE := Tests/Conformance/run_conformance.py

.PHONY: setup build demo test

setup:
	@scripts/setup.sh

build:
	swift build -c release --product sparrowc

demo: setup build
	@mkdir -p $(DEMO_DIR)
	$(PY) examples/make_tiny.py $(DEMO_DIR)
	$(SPARROWC) inspect $(DEMO_DIR)/tiny.onnx
	$(SPARROWC) run $(DEMO_DIR)/tiny.onnx --input image=$(DEMO_DIR)/image.npy --output-dir $(DEMO_DIR)/out
	@$(PY) -c "import numpy as np; print('probs:', np.array2string(np.load('$(DEMO_DIR)/out/probs.npy'), precision=4))"
	$(PY) examples/compare.py $(DEMO_DIR)/expected_probs.npy $(DEMO_DIR)/out/probs.npy
	$(SPARROWC) bench $(DEMO_DIR)/tiny.onnx --iterations 50

test: setup
	swift build --build-tests
	swift test --skip-build $(SWIFT_TEST_FLAGS)
	swift build -c release --product sparrowc
	scripts/check_cli.sh $(SPARROWC) $(PY)
	@test -f $(CONFORMANCE) || { echo "make test: $(CONFORMANCE) is missing (it comes with the ONNX importer)" >&2; exit 1; }
	$(PY) $(CONFORMANCE) --sparrowc $(SPARROWC)
