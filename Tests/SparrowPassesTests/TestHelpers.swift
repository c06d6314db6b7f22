//===--- TestHelpers.swift - building small modules and checking passes -----===//

import SparrowIR
import SparrowInterpreter
import SparrowLLVM
import SparrowPasses
import SparrowTargetSupport
import SparrowTestSupport
import XCTest

/// A module with one function `@main` built by `body`, which returns the results.
func makeModule(_ body: (inout Builder) throws -> [ValueID]) rethrows -> Module {
  var b = Builder(module: Module(name: "test"), function: Function(name: "main"))
  let results = try body(&b)
  return b.finish(results: results)
}

func f32(_ shape: [Int]) -> TensorType { TensorType(.f32, shape) }

/// A float tensor of `shape` filled with `value`.
func splat(_ value: Float, _ shape: [Int] = []) -> Tensor {
  Tensor(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
}

/// Runs `pipeline` (a `--passes` string) on a copy of `module`, verifying after each pass.
func optimized(_ module: Module, _ pipeline: String) throws -> Module {
  var m = module
  try PassManager(passes: parsePipeline(pipeline)).run(&m)
  return m
}

/// The op mnemonics of `@main`, in order.
func opKinds(_ m: Module) -> [String] { m.main.ops.map(\.kind.rawValue) }

/// The result names of `@main`.
func resultNames(_ m: Module) -> [String] { m.main.results.map { m.main.name(of: $0) } }

/// Asserts `before` and `after` give the same outputs on the interpreter, and that the
/// LLVM target runs `after` to the interpreter's outputs (the differential leg of issue 5;
/// skipped for modules with non-f32 values, which that target does not take).
func assertEquivalent(_ before: Module, _ after: Module, file: StaticString = #filePath, line: UInt = #line) {
  do {
    if let mismatch = try checkNumericalEquivalence(before: before, after: after) {
      XCTFail("not equivalent: \(mismatch)", file: file, line: line)
    }
  } catch {
    XCTFail("interpreter failed: \(error)", file: file, line: line)
  }
  let f = after.main
  let values = f.arguments + f.results + f.ops.flatMap { $0.operands + $0.results }
  guard values.allSatisfy({ f.type(of: $0).element == .f32 }) else { return }
  do {
    try SparrowTestSupport.assertEquivalent(after, inputs: randomInputs(for: f, seed: 0), file: file, line: line)
  } catch {
    XCTFail("LLVM target failed on the optimized module: \(error)", file: file, line: line)
  }
}
