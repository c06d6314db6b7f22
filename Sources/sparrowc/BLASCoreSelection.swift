//===--- BLASCoreSelection.swift - OpenBLAS's kernels chosen before it loads ---===//
//
// OpenBLAS reads OPENBLAS_CORETYPE when it loads, before `main`: when it fell back to a
// generic core on a CPU with AVX2 or AVX-512 (BLASCoreChoice in the interpreter says
// when), sparrowc re-executes itself once with the variable set. The second process sees
// it set and runs on. `--stats` and `bench --backend interp` report the core.
//
// SPARROW_TEST_BLAS_CORENAME (tests only) pretends OpenBLAS chose that core, so the
// re-execution can be tested on a CPU OpenBLAS knows.

import Foundation
import SparrowInterpreter
import SparrowTargetSupport

/// Re-executes sparrowc with OPENBLAS_CORETYPE set when OpenBLAS chose a generic core.
func selectBLASCore() {
  let environment = ProcessInfo.processInfo.environment
  let loaded = environment["SPARROW_TEST_BLAS_CORENAME"] ?? BLASCoreChoice.loadedCoreName
  guard let cpu = CPUInfo.host(),
        let core = BLASCoreChoice.coreType(cpu: cpu, coreName: loaded, environment: environment) else { return }
  setenv("OPENBLAS_CORETYPE", core, 1)
  setenv("SPARROW_BLAS_FALLBACK", loaded, 1)
  unsetenv("SPARROW_TEST_BLAS_CORENAME")
  execv("/proc/self/exe", CommandLine.unsafeArgv)  // returns only when it fails: run on as is
  unsetenv("OPENBLAS_CORETYPE")
  unsetenv("SPARROW_BLAS_FALLBACK")
}

/// The OpenBLAS core the interpreter runs and who chose it.
func blasCoreReport() -> String {
  let environment = ProcessInfo.processInfo.environment
  let core = BLASCoreChoice.loadedCoreName
  if let fallback = environment["SPARROW_BLAS_FALLBACK"], let set = environment["OPENBLAS_CORETYPE"] {
    return "OpenBLAS core \(core) (OPENBLAS_CORETYPE=\(set) set by sparrowc: OpenBLAS chose \(fallback) for this CPU)"
  }
  if let set = environment["OPENBLAS_CORETYPE"] { return "OpenBLAS core \(core) (OPENBLAS_CORETYPE=\(set) from the environment)" }
  return "OpenBLAS core \(core) (chosen by OpenBLAS)"
}
