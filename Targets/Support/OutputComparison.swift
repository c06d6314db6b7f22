//===--- OutputComparison.swift - the one tolerance rule for comparing outputs ---===//
//
// Every comparison of two runs (a pass's before and after, the LLVM target against the
// interpreter, 1 thread against N) uses one rule. Floats agree when
//
//   |a - e| <= atol + rtol * scale     scale = the largest finite |e| of that output
//
// (NaN equals NaN, equal infinities agree); every other element type must match exactly.
// The error of a sum of products is bounded by its terms' magnitudes, not by the result's:
// an element that nearly cancels (0.037 out of terms of size ~1) moves by reordering alone
// (another register tile, K block or Winograd tile on another CPU). So the error is
// measured against the output's scale, as numpy's `allclose` on a normalized tensor would,
// and not element by element. The defaults (rtol 1e-4) hold for f32 GEMMs and convs with
// K up to several thousand; callers pass a looser rtol only for lower-precision types.

import SparrowIR

/// The default tolerances of `compareOutputs`.
public enum OutputTolerance {
  public static let rtol = 1e-4
  public static let atol = 1e-5
}

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

/// Compares two lists of outputs by the rule above; nil when they agree.
public func compareOutputs(_ expected: [Tensor], _ actual: [Tensor], names: [String],
                           rtol: Double = OutputTolerance.rtol,
                           atol: Double = OutputTolerance.atol) -> NumericalMismatch? {
  precondition(expected.count == actual.count, "output counts differ")
  for (i, (e, a)) in zip(expected, actual).enumerated() {
    let name = i < names.count ? names[i] : "#\(i)"
    guard e.type.dense == a.type.dense else {
      return NumericalMismatch(output: name, index: nil, expected: e.type.description,
                               actual: a.type.description)
    }
    if e.element.isFloat {
      var scale = 0.0
      for j in 0..<e.count where e.double(at: j).isFinite { scale = max(scale, abs(e.double(at: j))) }
      for j in 0..<e.count {
        let x = e.double(at: j), y = a.double(at: j)
        if x.isNaN && y.isNaN { continue }
        if x == y { continue }  // equal infinities
        if !(abs(x - y) <= atol + rtol * scale) {
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
