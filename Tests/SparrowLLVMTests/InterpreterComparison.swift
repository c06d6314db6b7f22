import Foundation
import SparrowIR
import SparrowInterpreter
import XCTest
@testable import SparrowLLVM

/// Runs `module` (f32 arguments, seeded inputs) through the LLVM JIT and the interpreter
/// and asserts every output matches within `tolerance` (relative, |a - b| / (1 + |b|)).
/// The JIT code is compiled with every parallel region forking and run with 1, 2 and 3
/// threads: the outputs must be the same bytes (every partition keeps each sum's order).
func compareWithInterpreter(_ module: Module, tolerance: Float = 1e-4,
                            file: StaticString = #filePath, line: UInt = #line) throws {
  var seed: UInt64 = 4321
  let f = module.main
  let inputs = f.arguments.map { Tensor(shape: f.type(of: $0).shape, scalars: seededFloats(f.type(of: $0).count, seed: &seed)) }
  let want = try Interpreter.run(module, inputs: inputs)
  let model = try withEveryRegionForking { try JITModel(module) }
  let got = try model.run(inputs)
  for threads in [2, 3] {
    let again = try model.run(inputs, threads: threads)
    XCTAssertEqual(again.map(\.bytes), got.map(\.bytes), "\(threads) threads differ from 1", file: file, line: line)
  }
  XCTAssertEqual(got.count, want.count, file: file, line: line)
  for (g, w) in zip(got, want) {
    let gv = g.array(of: Float.self), wv = w.array(of: Float.self)
    XCTAssertEqual(gv.count, wv.count, file: file, line: line)
    var worst: Float = 0
    for (a, b) in zip(gv, wv) { worst = max(worst, abs(a - b) / (1 + abs(b))) }
    XCTAssert(worst <= tolerance, "max rel diff \(worst)", file: file, line: line)
  }
}

/// Runs `body` (a compile) with the fork threshold at 0: every parallel region forks.
func withEveryRegionForking<R>(_ body: () throws -> R) rethrows -> R {
  setenv("SPARROW_FORK_THRESHOLD_NS", "0", 1)
  defer { unsetenv("SPARROW_FORK_THRESHOLD_NS") }
  return try body()
}
