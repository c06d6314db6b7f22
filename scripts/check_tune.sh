#!/bin/bash
# Checks `sparrowc tune` and `--tuning`: a quick tune writes a description that compile
# reads; the same tuning file gives the same library bytes; a malformed file is a
# one-line diagnostic naming it (exit 1); and the interpreter's OpenBLAS core choice
# (re-executing with OPENBLAS_CORETYPE when OpenBLAS fell back to a generic core).
#   scripts/check_tune.sh SPARROWC PYTHON
set -uo pipefail
cd "$(dirname "$0")/.."
sparrowc=${1:-.build/release/sparrowc}
py=${2:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" examples/make_tiny.py "$work" >/dev/null || { echo "check_tune: cannot build the example model" >&2; exit 1; }
model=$work/tiny.onnx
passed=0
failures=0
fail() { echo "FAIL $1"; [ -f "$work/err" ] && sed 's/^/  | /' "$work/err" | head -5; failures=$((failures + 1)); }
ok() { passed=$((passed + 1)); }

if "$sparrowc" tune --quick -o "$work/machine.json" >"$work/out" 2>"$work/err" \
   && "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['kernels']['denseGemmGflops'] > 0 and d['kernels']['winograd']" "$work/machine.json"; then
  ok
else
  fail "tune --quick writes a description"
fi

for i in 1 2; do
  "$sparrowc" compile "$model" -o "$work/lib$i.so" --tuning "$work/machine.json" 2>"$work/err" || fail "compile --tuning ($i)"
done
cmp -s "$work/lib1.so" "$work/lib2.so" && ok || fail "the same tuning file gives the same library bytes"

# --stats names the description; inspect reads the file too.
"$sparrowc" dump-ir "$model" --tuning "$work/machine.json" --stats >/dev/null 2>"$work/err" \
  && grep -q "target description: .*(tuned) (--tuning" "$work/err" && ok || fail "--stats names the tuning file"
"$sparrowc" inspect "$model" --tuning "$work/machine.json" >/dev/null 2>"$work/err" && ok || fail "inspect --tuning"

printf '{"name": "x", "vectorBits": 512}' >"$work/bad.json"
"$sparrowc" compile "$model" -o "$work/bad.so" --tuning "$work/bad.json" >/dev/null 2>"$work/err"
code=$?
if [ "$code" -eq 1 ] && grep -q "bad.json.*missing key" "$work/err" && [ "$(wc -l <"$work/err")" -eq 1 ] && [ ! -e "$work/bad.so" ]; then
  ok
else
  fail "malformed tuning file: exit $code, expected 1 and one line naming the file"
fi
"$sparrowc" run "$model" --tuning "$work/missing.json" >/dev/null 2>"$work/err"
[ $? -eq 1 ] && grep -q "missing.json" "$work/err" && ok || fail "missing tuning file"

# OpenBLAS core: pretend OpenBLAS fell back to Prescott; on an AVX2/AVX-512 host sparrowc
# re-executes with OPENBLAS_CORETYPE set and reports it. A user's setting is kept.
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  env -u OPENBLAS_CORETYPE SPARROW_TEST_BLAS_CORENAME=Prescott "$sparrowc" bench "$model" --backend interp --iterations 1 \
    >"$work/out" 2>"$work/err"
  grep -Eq "BLAS: OpenBLAS core (Haswell|SkylakeX) \(OPENBLAS_CORETYPE=(Haswell|SkylakeX) set by sparrowc: OpenBLAS chose Prescott" "$work/out" \
    && ok || { cat "$work/out" >>"$work/err"; fail "re-executed with OPENBLAS_CORETYPE on a generic core"; }
  OPENBLAS_CORETYPE=Sandybridge SPARROW_TEST_BLAS_CORENAME=Prescott "$sparrowc" bench "$model" --backend interp --iterations 1 --json \
    >"$work/out" 2>"$work/err"
  grep -q '"blas": "OpenBLAS core Sandybridge (OPENBLAS_CORETYPE=Sandybridge from the environment)"' "$work/out" \
    && ok || { cat "$work/out" >>"$work/err"; fail "a user's OPENBLAS_CORETYPE is kept"; }
fi

echo "check_tune: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
