//===--- InterpreterComparison.swift - the LLVM target against the oracle ---===//
//
// Every LLVM test that checks numbers runs the module on the interpreter (the oracle) and
// on the JIT with the same inputs and compares with `compareOutputs`, the project's one
// tolerance rule (Targets/Support/OutputComparison.swift).

import Foundation
import SparrowIR
import SparrowInterpreter
import SparrowTargetSupport
import XCTest
@testable import SparrowLLVM

/// Seeded inputs in [-1, 1) for every argument (f32; i64 arguments get indices in [-2, 8)).
func seededInputs(for f: Function, seed: UInt64) -> [Tensor] {
  var seed = seed
  return f.arguments.map { v -> Tensor in
    let t = f.type(of: v)
    if t.element == .i64 {
      return Tensor(shape: t.shape, scalars: seededFloats(t.count, seed: &seed).map { Int64(($0 + 1) * 4.99) - 2 })
    }
    return Tensor(shape: t.shape, scalars: seededFloats(t.count, seed: &seed))
  }
}

/// Runs `module` through the LLVM JIT and the interpreter on `inputs` (default: seeded)
/// and asserts every output agrees by `compareOutputs`. The JIT code is compiled with
/// every parallel region forking and run with 1, 2 and 3 threads: the outputs must be the
/// same bytes (every partition keeps each sum's order).
func compareWithInterpreter(_ module: Module, inputs: [Tensor]? = nil, seed: UInt64 = 4321,
                            rtol: Double = OutputTolerance.rtol,
                            file: StaticString = #filePath, line: UInt = #line) throws {
  let f = module.main
  let inputs = inputs ?? seededInputs(for: f, seed: seed)
  let want = try Interpreter.run(module, inputs: inputs)
  let model = try withEveryRegionForking { try JITModel(module) }
  let got = try model.run(inputs)
  for threads in [2, 3] {
    let again = try model.run(inputs, threads: threads)
    XCTAssertEqual(again.map(\.bytes), got.map(\.bytes), "\(threads) threads differ from 1", file: file, line: line)
  }
  XCTAssertEqual(got.count, want.count, file: file, line: line)
  if let mismatch = compareOutputs(want, got, names: f.results.map { f.name(of: $0) }, rtol: rtol) {
    XCTFail("LLVM target differs from the interpreter: \(mismatch)", file: file, line: line)
  }
}

/// Runs `body` (a compile) with the fork threshold at 0: every parallel region forks.
func withEveryRegionForking<R>(_ body: () throws -> R) rethrows -> R {
  setenv("SPARROW_FORK_THRESHOLD_NS", "0", 1)
  defer { unsetenv("SPARROW_FORK_THRESHOLD_NS") }
  return try body()
}
