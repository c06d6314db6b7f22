//===--- Equivalence.swift - the one test oracle: LLVM target against the interpreter ---===//
//
//   try assertEquivalent(module)                  // seeded inputs, the product's tolerance
//   try assertEquivalent(module, inputs: [x])     // given inputs
//
// Every test that checks the LLVM target's numbers runs the module on the interpreter (the
// oracle) and on the JIT with the same inputs and compares with `compareOutputs`, the
// project's one tolerance rule (Targets/Support/OutputComparison.swift). The JIT code is
// compiled with every parallel region forking and run with 1, 2 and 3 threads: the outputs
// must be the same bytes (every partition keeps each sum's order).

import Foundation
import SparrowIR
import SparrowInterpreter
import SparrowLLVM
import SparrowTargetSupport
import XCTest

/// Runs `module` through the LLVM JIT and the interpreter on `inputs` (default: seeded,
/// `seededInputs`) and asserts every output agrees by `compareOutputs`.
public func assertEquivalent(_ module: Module, inputs: [Tensor]? = nil, seed: UInt64 = 4321,
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
public func withEveryRegionForking<R>(_ body: () throws -> R) rethrows -> R {
  setenv("SPARROW_FORK_THRESHOLD_NS", "0", 1)
  defer { unsetenv("SPARROW_FORK_THRESHOLD_NS") }
  return try body()
}
