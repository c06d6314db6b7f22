# Sparrow: setup, build, demo, test. `make test` is what CI runs (.ci/run).
#
#   make setup   system packages and .venv (onnx, onnxruntime, numpy), only when missing
#   make build   release build of the sparrowc driver
#   make demo    build the example model; run it on the interpreter and as a compiled .so
#                (from C and Python), compare, bench both backends
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
	@echo "== the reference interpreter, checked against onnxruntime"
	$(SPARROWC) run $(DEMO_DIR)/tiny.onnx --input image=$(DEMO_DIR)/image.npy --output-dir $(DEMO_DIR)/interp
	@$(PY) -c "import numpy as np; print('probs:', np.array2string(np.load('$(DEMO_DIR)/interp/probs.npy'), precision=4))"
	$(PY) examples/compare.py $(DEMO_DIR)/expected_probs.npy $(DEMO_DIR)/interp/probs.npy
	@echo "== a native library (LLVM target), called from C and from Python, checked against the interpreter"
	$(SPARROWC) compile $(DEMO_DIR)/tiny.onnx --name tiny -o $(DEMO_DIR)/libtiny.so --header $(DEMO_DIR)/tiny.h
	cc -O2 -DMODEL_HEADER='"tiny.h"' -DMODEL_PREFIX=tiny -I$(DEMO_DIR) examples/run_model.c \
	  -L$(DEMO_DIR) -ltiny -Wl,-rpath,$(abspath $(DEMO_DIR)) -o $(DEMO_DIR)/run_tiny
	@$(PY) -c "import numpy as np; np.load('$(DEMO_DIR)/image.npy').tofile('$(DEMO_DIR)/image.bin')"
	$(DEMO_DIR)/run_tiny $(DEMO_DIR)/c_out $(DEMO_DIR)/image.bin
	$(PY) examples/compare.py $(DEMO_DIR)/interp/probs.npy $(DEMO_DIR)/c_out0.bin
	$(PY) examples/run_model.py $(DEMO_DIR)/libtiny.so tiny $(DEMO_DIR)/image.npy --save $(DEMO_DIR)/py_out
	$(PY) examples/compare.py $(DEMO_DIR)/interp/probs.npy $(DEMO_DIR)/py_out/probs.npy
	@echo "== latency"
	$(SPARROWC) bench $(DEMO_DIR)/tiny.onnx --backend interp --iterations 50
	$(SPARROWC) bench $(DEMO_DIR)/tiny.onnx --backend llvm --iterations 50

test: setup
	swift build --build-tests
	swift test --skip-build $(SWIFT_TEST_FLAGS)
	swift build -c release --product sparrowc
	scripts/check_cli.sh $(SPARROWC) $(PY)
	@test -f $(CONFORMANCE) || { echo "make test: $(CONFORMANCE) is missing (it comes with the ONNX importer)" >&2; exit 1; }
	$(PY) $(CONFORMANCE) --sparrowc $(SPARROWC)
