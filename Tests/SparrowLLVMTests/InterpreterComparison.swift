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

/// Runs `module` through the LLVM JIT (with `threads`) and the interpreter on `inputs`
/// (default: seeded) and asserts every output agrees by `compareOutputs`.
func compareWithInterpreter(_ module: Module, inputs: [Tensor]? = nil, seed: UInt64 = 4321,
                            rtol: Double = OutputTolerance.rtol, threads: Int = 1,
                            file: StaticString = #filePath, line: UInt = #line) throws {
  let f = module.main
  let inputs = inputs ?? seededInputs(for: f, seed: seed)
  let want = try Interpreter.run(module, inputs: inputs)
  let got = try JITModel(module).run(inputs, threads: threads)
  XCTAssertEqual(got.count, want.count, file: file, line: line)
  if let mismatch = compareOutputs(want, got, names: f.results.map { f.name(of: $0) }, rtol: rtol) {
    XCTFail("LLVM target differs from the interpreter: \(mismatch)", file: file, line: line)
  }
}
