# Sparrow: setup, build, demo, test. `make test` is what CI runs (.ci/run).
#
#   make setup   system packages and .venv (onnx, onnxruntime, numpy), only when missing
#   make build   release build of the sparrowc driver
#   make demo    build the example model; run it on the interpreter and as a compiled .so
#                (from C and Python), compare, bench both backends; then prune a model of
#                realistic size two ways, inspect it and time sparse against dense
#   make test    unit + golden tests, driver checks, ONNX conformance (interpreter at -O0,
#                -O1 and -O2 cross-checked; LLVM target), pass tests on both backends,
#                mutation harness, differential regressions, weight-sparsity checks (all
#                on one release build), the Python package's tests and a libFuzzer smoke run
#   make conformance-llvm   the LLVM target on every conformance suite, `light` included
#   make bench-setup        setup, plus OpenVINO (pip) for the scripts in bench/ that compare with it

SHELL := /bin/bash
PY := .venv/bin/python
SPARROWC := .build/release/sparrowc
DEMO_DIR := .build/demo
# A regex of XCTests to skip in `make test` (none are heavy today), e.g. SKIP_TESTS='Bench'.
SKIP_TESTS ?=
SWIFT_TEST_FLAGS := $(if $(SKIP_TESTS),--skip '$(SKIP_TESTS)',)
CONFORMANCE := Tests/Conformance/run_conformance.py

.PHONY: setup build demo test conformance-llvm test-python bench-setup

setup:
	@scripts/setup.sh

# One release build (with -enable-testing) serves the XCTests and the driver the scripts run.
# The test bundle is built as its product, not with --build-tests, which would also build
# swift-protobuf's protoc from C++ sources (630 steps) that nothing here uses.
RELEASE := -c release -Xswiftc -enable-testing

build:
	swift build $(RELEASE) --product sparrowc

bench-setup: setup
	@.venv/bin/python -c "import openvino" 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check "openvino>=2024.6"

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
	@echo "== sparsity: a BERT-base-sized feed-forward stack pruned 2:4 and to 4x4 blocks (90 %)"
	$(PY) examples/sparse_demo.py --sparrowc $(SPARROWC) $(DEMO_DIR)

# Cost (pytorch-converted + simple, same loaded run): one interpreter pass 16 s, the three
# levels 49 s, the LLVM target 75 s (JIT-compiling each case at O3). The LLVM run in `make
# test` leaves out `light` (nine full CNNs, minutes each to JIT-compile on a loaded 2-core
# machine); `make conformance-llvm` runs every suite.
LLVM_CI_SUITES := --suite pytorch-converted --suite pytorch-operator --suite simple --suite node

test: setup
	swift build $(RELEASE) --product SparrowPackageTests
	swift build $(RELEASE) --product sparrowc
	swift test $(RELEASE) --skip-build $(SWIFT_TEST_FLAGS)
	scripts/check_cli.sh $(SPARROWC) $(PY)
	scripts/check_tune.sh $(SPARROWC) $(PY)
	$(PY) $(CONFORMANCE) --sparrowc $(SPARROWC) --cross-level
	$(PY) $(CONFORMANCE) --sparrowc $(SPARROWC) --backend llvm --timeout 120 $(LLVM_CI_SUITES)
	$(PY) Tests/Conformance/pass_tests_differential.py --sparrowc $(SPARROWC)
	$(MAKE) mutation MUTATION_SPARROWC=$(SPARROWC)
	$(PY) Tests/Differential/regressions.py --sparrowc $(SPARROWC)
	$(PY) Tests/Models/check_sparsity.py --sparrowc $(SPARROWC)
	$(PY) Tests/Models/check_portable.py --sparrowc $(SPARROWC)
	SPARROWC=$(SPARROWC) $(PY) -m pytest -q python/tests
	$(PY) Tests/Models/check_int8.py --sparrowc $(SPARROWC)
	$(PY) Tests/Models/check_int8.py --sparrowc $(SPARROWC) --backend llvm
	$(PY) Tests/Models/check_quantize.py --sparrowc $(SPARROWC)
	INT8_PIPELINE=-O2 $(PY) Tests/Models/check_int8.py --sparrowc $(SPARROWC) --backend llvm
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# The `sparrow` Python package (python/): InferenceSession vs onnxruntime, cache, errors.
test-python: setup build
	SPARROWC=$(SPARROWC) $(PY) -m pytest -q python/tests

conformance-llvm: setup build
	$(PY) $(CONFORMANCE) --sparrowc $(SPARROWC) --backend llvm --timeout 900

# --- Reliability: mutation harness, libFuzzer, sanitizers, differential testing ---------
# (Tests/Mutation, Tests/Fuzz, Tests/Sanitizers, Tests/Differential; each script's
# docstring says more; Tests/Fuzz/RESULTS.md has the long runs.)
MUTATION_COUNT ?= 250
# `make fuzz`: seconds per target; `make test` runs the smoke length. The instrumented
# build lives in .build-fuzz and is incremental (a clean one takes a few minutes).
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 30
N ?= 1000
SPARROWC_DEBUG := .build/debug/sparrowc
# `make test` points the harness at its release driver; alone, `make mutation` builds debug.
MUTATION_SPARROWC ?= $(SPARROWC_DEBUG)

.PHONY: mutation fuzz test-asan test-tsan differential

# Broken models must fail with a message naming the file: never a crash, hang or silence.
mutation: setup
	$(if $(filter $(SPARROWC_DEBUG),$(MUTATION_SPARROWC)),swift build --product sparrowc,)
	$(PY) Tests/Mutation/mutate.py --sparrowc $(MUTATION_SPARROWC) --count $(MUTATION_COUNT)
	$(PY) Tests/Mutation/external_data_security.py --sparrowc $(MUTATION_SPARROWC)
	$(PY) Tests/Mutation/memory_limit.py --sparrowc $(MUTATION_SPARROWC)

fuzz: setup
	PY=$(PY) Tests/Fuzz/fuzz.sh $(FUZZ_SECONDS)

# AddressSanitizer: unit tests (own build folder), the conformance suite and the mutation
# harness with the ASan driver; then generated code itself instrumented
# (`compile --sanitize address`) and called from C built with -fsanitize=address,undefined.
# (swiftc has no -sanitize=undefined on Linux; debug Swift traps on overflow and
# out-of-bounds, which the harnesses turn into failures.)
test-asan: setup
	swift build --build-path .build-asan --product SparrowPackageTests -Xswiftc -sanitize=address
	swift build --build-path .build-asan --product sparrowc -Xswiftc -sanitize=address
	ASAN_OPTIONS=detect_leaks=0 swift test --build-path .build-asan --skip-build
	ASAN_OPTIONS=detect_leaks=0 $(PY) $(CONFORMANCE) --sparrowc .build-asan/debug/sparrowc --timeout 600
	ASAN_OPTIONS=detect_leaks=0 $(PY) Tests/Mutation/mutate.py --sparrowc .build-asan/debug/sparrowc --count 100 --address-space-limit 0
	swift build --product sparrowc
	$(PY) Tests/Sanitizers/run_sanitized.py --sparrowc $(SPARROWC_DEBUG) --sanitizer address

# ThreadSanitizer: the generated thread pool, with the generated code instrumented
# (`compile --sanitize thread`), zoo models run with 2 threads from a -fsanitize=thread C
# driver; then the Swift side (interpreter, JIT) with --threads 2 under a TSan build.
test-tsan: setup
	swift build --product sparrowc
	$(PY) Tests/Sanitizers/run_sanitized.py --sparrowc $(SPARROWC_DEBUG) --sanitizer thread --threads 2
	swift build --build-path .build-tsan --product SparrowPackageTests -Xswiftc -sanitize=thread
	swift build --build-path .build-tsan --product sparrowc -Xswiftc -sanitize=thread
	TSAN_OPTIONS=halt_on_error=1 swift test --build-path .build-tsan --skip-build --filter 'SparrowLLVMTests|SparrowInterpreterTests'
	TSAN_OPTIONS=halt_on_error=1 $(PY) Tests/Differential/random_graphs.py --sparrowc .build-tsan/debug/sparrowc --count 50 --threads 2

# Random valid graphs: interpreter and LLVM at every -O level and sparsity mode vs onnxruntime.
differential: setup
	swift build --product sparrowc
	$(PY) Tests/Differential/regressions.py --sparrowc $(SPARROWC_DEBUG)
	$(PY) Tests/Differential/random_graphs.py --sparrowc $(SPARROWC_DEBUG) --count $(N)
