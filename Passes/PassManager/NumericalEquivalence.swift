//===--- NumericalEquivalence.swift - compare two modules on the interpreter ---===//
//
// The interpreter is the oracle: a pass is right when the IR before and after it give the
// same outputs on seeded inputs, within a tolerance for reassociated float math.

import SparrowIR
import SparrowInterpreter
import SparrowTargetSupport

/// The first output element that differs between two runs.
public struct NumericalMismatch: CustomStringConvertible, Sendable {
  public var output: String
  /// Flat element index, or nil when the output's type differs.
  public var index: Int?
  public var expected: String
  public var actual: String

  public var description: String {
    if let index {
      return "output '\(output)' differs at element \(index): expected \(expected), got \(actual)"
    }
    return "output '\(output)' has type \(actual), expected \(expected)"
  }
}

/// Runs `module`'s entry function on seeded random inputs.
public func runOnInterpreter(_ module: Module, seed: UInt64 = 0) throws -> [Tensor] {
  try Interpreter.run(module, inputs: randomInputs(for: module.main, seed: seed))
}

/// Runs both modules on the same seeded inputs and compares their outputs: floats within
/// `|a - b| <= atol + rtol * |a|` (NaN equals NaN), everything else exactly. Returns nil
/// when they agree.
public func checkNumericalEquivalence(before: Module, after: Module, seed: UInt64 = 0,
                                      rtol: Double = 1e-4, atol: Double = 1e-5) throws -> NumericalMismatch? {
  let expected = try runOnInterpreter(before, seed: seed)
  let actual = try runOnInterpreter(after, seed: seed)
  return compareOutputs(expected, actual, names: outputNames(before), rtol: rtol, atol: atol)
}

/// Compares two lists of outputs element by element (see `checkNumericalEquivalence`).
public func compareOutputs(_ expected: [Tensor], _ actual: [Tensor], names: [String],
                           rtol: Double = 1e-4, atol: Double = 1e-5) -> NumericalMismatch? {
  precondition(expected.count == actual.count, "output counts differ")
  for (i, (e, a)) in zip(expected, actual).enumerated() {
    let name = i < names.count ? names[i] : "#\(i)"
    guard e.type.dense == a.type.dense else {
      return NumericalMismatch(output: name, index: nil, expected: e.type.description,
                               actual: a.type.description)
    }
    if e.element.isFloat {
      for j in 0..<e.count {
        let x = e.double(at: j), y = a.double(at: j)
        if x.isNaN && y.isNaN { continue }
        if x == y { continue }  // equal infinities
        if !(abs(x - y) <= atol + rtol * abs(x)) {
          return NumericalMismatch(output: name, index: j, expected: "\(x)", actual: "\(y)")
        }
      }
    } else if e.bytes != a.bytes {
      let j = (0..<e.count).first { e.int64(at: $0) != a.int64(at: $0) } ?? 0
      return NumericalMismatch(output: name, index: j, expected: "\(e.int64(at: j))",
                               actual: "\(a.int64(at: j))")
    }
  }
  return nil
}
