#!/bin/bash
# Checks the driver's contract on the example model: exit codes (0 ok, 1 bad input,
# 2 bad usage), one-line diagnostics without stack traces, dump-ir formats, pass flags.
#   scripts/check_cli.sh SPARROWC PYTHON
set -uo pipefail
cd "$(dirname "$0")/.."
sparrowc=${1:-.build/release/sparrowc}
py=${2:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" examples/make_tiny.py "$work" >/dev/null || { echo "check_cli: cannot build the example model" >&2; exit 1; }
model=$work/tiny.onnx
failures=0

# expect CODE DESCRIPTION COMMAND... : runs the command, checks its exit code and that
# stderr has no stack trace.
expect() {
  local want=$1 what=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $what: exit $got, expected $want"; sed 's/^/  | /' "$work/err" | head -5
    failures=$((failures + 1))
  elif grep -qE "Stack dump|Fatal error|#[0-9]+ 0x" "$work/err"; then
    echo "FAIL $what: stack trace on stderr"; failures=$((failures + 1))
  fi
}

expect 0 "passes listing" "$sparrowc" passes
grep -q "constant-fold" "$work/out" || { echo "FAIL passes listing lacks constant-fold"; failures=$((failures + 1)); }
expect 0 "help" "$sparrowc" --help
# The top-level help is the command list (the passes are `sparrowc passes`), usage first.
head -1 "$work/out" | grep -q "OVERVIEW" && grep -q "sparrowc passes" "$work/out" && ! grep -q "constant-fold" "$work/out" \
  || { echo "FAIL --help: expected the overview and commands, not the pass list"; failures=$((failures + 1)); }
expect 2 "unknown subcommand" "$sparrowc" frobnicate
expect 2 "unknown pass" "$sparrowc" dump-ir "$model" --passes dce,nosuchpass
expect 2 "bad pass option" "$sparrowc" dump-ir "$model" --passes "constant-fold{max-elements=x}"
expect 2 "unknown --print-ir-after pass" "$sparrowc" dump-ir "$model" --print-ir-after nosuchpass
expect 1 "missing model file" "$sparrowc" dump-ir "$work/missing.onnx"
[ "$(wc -l <"$work/err")" -eq 1 ] || { echo "FAIL missing model: expected one diagnostic line"; failures=$((failures + 1)); }
printf 'not a model' >"$work/bad.onnx"
expect 1 "corrupt model" "$sparrowc" dump-ir "$work/bad.onnx"
expect 1 "missing input" "$sparrowc" run "$model" --output-dir "$work/o"
expect 0 "dump-ir text -O0" "$sparrowc" dump-ir "$model" -O0
expect 0 "dump-ir dot" "$sparrowc" dump-ir "$model" --format dot
grep -q "^digraph" "$work/out" || { echo "FAIL dump-ir dot: no digraph"; failures=$((failures + 1)); }
expect 0 "dump-ir json" "$sparrowc" dump-ir "$model" --format json
"$py" -c "import json,sys; json.load(open(sys.argv[1]))" "$work/out" 2>/dev/null \
  || { echo "FAIL dump-ir json: not valid JSON"; failures=$((failures + 1)); }
expect 0 "stats, print-ir-after-all, check-passes" "$sparrowc" dump-ir "$model" -O2 --stats \
  --print-ir-after-all --check-passes
grep -q "IR Dump After dce" "$work/err" && grep -q "^total" "$work/err" \
  || { echo "FAIL --print-ir-after-all/--stats output missing"; failures=$((failures + 1)); }
# Names a user can trace: the model's nodes and initializers survive -O2 (conv1 absorbs
# relu1), in the IR text, inspect --json and the profile.
expect 0 "dump-ir -O2 origins" "$sparrowc" dump-ir "$model" -O2
grep -q 'loc(nodes \["conv1", "relu1"\])' "$work/out" \
  || { echo "FAIL dump-ir: the fused conv does not list nodes conv1 and relu1"; failures=$((failures + 1)); }
expect 0 "inspect --json origins" "$sparrowc" inspect "$model" --json
"$py" -c "
import json, sys
layers = json.load(open(sys.argv[1]))['layers']
conv = [l for l in layers if l['op'] == 'conv'][0]
assert conv['nodes'] == ['conv1', 'relu1'], conv
assert 'conv1.weight' in conv['weights'] and 'conv1.bias' in conv['weights'], conv
" "$work/out" || { echo "FAIL inspect --json: nodes/weights"; failures=$((failures + 1)); }
expect 0 "bench --profile origins" "$sparrowc" bench "$model" --backend llvm --iterations 2 --warmup 1 --profile
grep -q "\[conv1, relu1\]" "$work/out" || { echo "FAIL bench --profile: no model node names"; failures=$((failures + 1)); }
expect 0 "run" "$sparrowc" run "$model" --input "image=$work/image.npy" --output-dir "$work/o"
"$py" examples/compare.py "$work/expected_probs.npy" "$work/o/probs.npy" >/dev/null 2>&1 \
  || { echo "FAIL run: output differs from onnxruntime"; failures=$((failures + 1)); }

# Artifacts: byte-identical rebuilds from two processes; a failed compile leaves the
# previous output untouched and no file (partial or temporary) behind.
mkdir -p "$work/art"
for kind in so obj; do
  expect 0 "compile --emit $kind" "$sparrowc" compile "$model" --emit "$kind" -o "$work/art/one.$kind" --header "$work/art/one.h"
  expect 0 "compile --emit $kind again" "$sparrowc" compile "$model" --emit "$kind" -o "$work/art/two.$kind" --header "$work/art/two.h"
  cmp -s "$work/art/one.$kind" "$work/art/two.$kind" || { echo "FAIL compile --emit $kind: rebuild is not byte-identical"; failures=$((failures + 1)); }
done
cmp -s "$work/art/one.h" "$work/art/two.h" || { echo "FAIL compile: header rebuild is not byte-identical"; failures=$((failures + 1)); }
printf 'previous' >"$work/art/keep.so"
expect 1 "compile of a corrupt model" "$sparrowc" compile "$work/bad.onnx" -o "$work/art/keep.so" --header "$work/art/keep.h"
"$py" -c "
import onnx, sys
from onnx import helper, TensorProto as T
g = helper.make_graph([helper.make_node('Einsum', ['x'], ['y'], equation='i->i')], 'c', [helper.make_tensor_value_info('x', T.FLOAT, [4])],
                      [helper.make_tensor_value_info('y', T.FLOAT, [4])])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]), sys.argv[1])" "$work/einsum.onnx"
expect 1 "compile of an op the LLVM target lacks" "$sparrowc" compile "$work/einsum.onnx" -o "$work/art/keep.so" --header "$work/art/keep.h"
expect 2 "compile with a bad --name" "$sparrowc" compile "$model" --name "9x" -o "$work/art/keep.so"
[ "$(cat "$work/art/keep.so")" = previous ] || { echo "FAIL failed compile replaced the previous output"; failures=$((failures + 1)); }
# Link failure (cc cannot write next to the output: the folder is read-only).
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p "$work/ro" && chmod a-w "$work/ro"
  expect 1 "compile into a read-only folder" "$sparrowc" compile "$model" -o "$work/ro/x.so"
  chmod u+w "$work/ro"
fi
expect 1 "compile into a missing folder" "$sparrowc" compile "$model" -o "$work/missing/x.so"
leftovers=$(cd "$work/art" && ls -A | grep -vxE 'one\.(so|obj|h)|two\.(so|obj|h)|keep\.so' || true)
[ -z "$leftovers" ] || { echo "FAIL compile left files behind: $leftovers"; failures=$((failures + 1)); }

if [ "$failures" -ne 0 ]; then echo "check_cli: $failures failure(s)"; exit 1; fi
echo "check_cli: all driver checks passed"
