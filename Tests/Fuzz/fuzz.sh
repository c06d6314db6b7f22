#!/bin/bash
# Builds the libFuzzer targets and runs each for a bounded time.
#
#   Tests/Fuzz/fuzz.sh [SECONDS] [TARGET ...]     (default: FUZZ_SECONDS or 60; all targets)
#
# The library modules are built once with `-sanitize=fuzzer,address` (coverage + ASan)
# into .build-fuzz/ (its own build folder, so the normal build is untouched); each
# Targets/Fuzz<X>.swift is linked against their objects with libFuzzer's main. Seed
# corpora are generated at run time (make_corpus.py: the builtin mutation seed models,
# the conformance models if Tests/Conformance/data exists, .sir golden files, .npy and
# safetensors files) under .build-fuzz/corpus/<target>/ (never committed). Crashes are
# written to Tests/Fuzz/crashes/<target>/ (git-ignored); the script exits non-zero if
# any target crashed. The exec count of every run is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-${FUZZ_SECONDS:-60}}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(ONNX DumpIR SIR Npy Safetensors)
PY=${PY:-.venv/bin/python}
BUILD=.build-fuzz
FLAGS=(-Xswiftc -sanitize=fuzzer,address)

# The fuzz targets import SparrowONNX, SparrowPasses (DumpIR) and SparrowIO.
for m in SparrowONNX SparrowPasses SparrowIO; do swift build --build-path $BUILD --target $m "${FLAGS[@]}"; done
DEBUG=$BUILD/debug
OBJECTS=()
for m in SparrowIR SparrowIO SparrowTargetSupport SparrowInterpreter SparrowPasses SparrowONNX SwiftProtobuf; do
  OBJECTS+=($(find $DEBUG/$m.build -name '*.o'))
done
mkdir -p $BUILD/fuzzers
for t in "${TARGETS[@]}"; do
  src=Tests/Fuzz/Targets/Fuzz$t.swift
  exe=$BUILD/fuzzers/fuzz-$t
  if [ ! -x $exe ] || [ $src -nt $exe ] || [ -n "$(find $DEBUG/ -name '*.o' -newer $exe -print -quit)" ]; then
    echo "linking $exe"
    swiftc -sanitize=fuzzer,address -parse-as-library -g -I $DEBUG/Modules -I Sources/COpenBLAS \
      "$src" "${OBJECTS[@]}" -lopenblas -o $exe 2> >(grep -v 'ld.gold: warning' >&2)
  fi
done

$PY Tests/Fuzz/make_corpus.py $BUILD/corpus "${TARGETS[@]}"
status=0
summary=()
for t in "${TARGETS[@]}"; do
  mkdir -p Tests/Fuzz/crashes/$t $BUILD/corpus/$t
  log=$BUILD/fuzz-$t.log
  echo "fuzzing $t for ${SECONDS_EACH}s"
  set +e
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    $BUILD/fuzzers/fuzz-$t $BUILD/corpus/$t -max_total_time=$SECONDS_EACH -rss_limit_mb=4096 \
    -malloc_limit_mb=4096 -timeout=20 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix=Tests/Fuzz/crashes/$t/ > $log 2>&1
  rc=$?
  set -e
  execs=$(grep -m1 'stat::number_of_executed_units' $log | awk '{print $2}')
  if [ $rc -ne 0 ]; then
    status=1
    summary+=("$t: CRASH (exit $rc) after ${execs:-?} execs; see $log and Tests/Fuzz/crashes/$t/")
    grep -m3 -E 'ERROR|Fatal error|SUMMARY' $log || true
  else
    summary+=("$t: ok, ${execs:-?} execs in ${SECONDS_EACH}s")
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
