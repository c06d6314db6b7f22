//===--- NumericalEquivalence.swift - compare two modules on the interpreter ---===//
//
// The interpreter is the oracle: a pass is right when the IR before and after it give the
// same outputs on seeded inputs, within a tolerance for reassociated float math.

import SparrowIR
import SparrowInterpreter
import SparrowTargetSupport

/// Runs `module`'s entry function on seeded random inputs.
public func runOnInterpreter(_ module: Module, seed: UInt64 = 0) throws -> [Tensor] {
  try Interpreter.run(module, inputs: randomInputs(for: module.main, seed: seed))
}

/// Runs both modules on the same seeded inputs and compares their outputs by the project's
/// tolerance rule (`compareOutputs`). Returns nil when they agree.
public func checkNumericalEquivalence(before: Module, after: Module, seed: UInt64 = 0,
                                      rtol: Double = OutputTolerance.rtol, atol: Double = OutputTolerance.atol) throws -> NumericalMismatch? {
  let expected = try runOnInterpreter(before, seed: seed)
  let actual = try runOnInterpreter(after, seed: seed)
  return compareOutputs(expected, actual, names: outputNames(before), rtol: rtol, atol: atol)
}
