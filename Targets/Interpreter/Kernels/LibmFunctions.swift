//===--- LibmFunctions.swift - libm functions for Float and Double -----===//
//
// Generic float kernels (pooling, recurrent cells) call these as `T.pow`, `T.exp` ...

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few transcendental functions the float kernels need.
protocol LibmFunctions {
  static func pow(_ x: Self, _ y: Self) -> Self
  static func exp(_ x: Self) -> Self
  static func tanh(_ x: Self) -> Self
  /// log(1 + x).
  static func log1p(_ x: Self) -> Self
}

// Free-function names that a static member of the same name cannot shadow.
private func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
private func libmExp(_ x: Double) -> Double { exp(x) }
private func libmTanh(_ x: Double) -> Double { tanh(x) }
private func libmLog1p(_ x: Double) -> Double { log1p(x) }

extension Float: LibmFunctions {
  static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
  static func exp(_ x: Float) -> Float { expf(x) }
  static func tanh(_ x: Float) -> Float { tanhf(x) }
  static func log1p(_ x: Float) -> Float { log1pf(x) }
}

extension Double: LibmFunctions {
  static func pow(_ x: Double, _ y: Double) -> Double { libmPow(x, y) }
  static func exp(_ x: Double) -> Double { libmExp(x) }
  static func tanh(_ x: Double) -> Double { libmTanh(x) }
  static func log1p(_ x: Double) -> Double { libmLog1p(x) }
}
