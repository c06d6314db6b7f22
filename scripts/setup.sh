#!/bin/bash
# Installs what building and testing Sparrow needs, only when missing (idempotent, quiet):
#   apt: libopenblas-dev (dense GEMM in the interpreter), llvm-dev (LLVM 14, the llvm target),
#        qemu-user (tests run the default library on an emulated AVX2-only CPU)
#   .venv: onnx, onnxruntime, numpy (test references and the example model; never a
#          runtime dependency of the compiler), pytest (the Python package's tests)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for package in libopenblas-dev llvm-dev qemu-user; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! .venv/bin/python -c "import onnx, onnxruntime, numpy, pytest" >/dev/null 2>&1; then
  echo "setup: creating .venv with onnx, onnxruntime, numpy, pytest"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check \
    "onnx==1.23.*" "onnxruntime==1.32.*" "numpy>=1.26,<3" "pytest>=7"
fi
