//===--- LibmFunctions.swift - libm functions for Float and Double -----===//
//
// Generic float kernels (pooling, recurrent cells) call these as `T.power`, `T.exponential`
// ...; the names are distinct from libm's so neither shadows the other.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few transcendental functions the float kernels need.
protocol LibmFunctions {
  static func power(_ x: Self, _ y: Self) -> Self
  static func exponential(_ x: Self) -> Self
  static func hyperbolicTangent(_ x: Self) -> Self
  /// log(1 + x).
  static func logOnePlus(_ x: Self) -> Self
}

extension Float: LibmFunctions {
  static func power(_ x: Float, _ y: Float) -> Float { powf(x, y) }
  static func exponential(_ x: Float) -> Float { expf(x) }
  static func hyperbolicTangent(_ x: Float) -> Float { tanhf(x) }
  static func logOnePlus(_ x: Float) -> Float { log1pf(x) }
}

extension Double: LibmFunctions {
  static func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
  static func exponential(_ x: Double) -> Double { exp(x) }
  static func hyperbolicTangent(_ x: Double) -> Double { tanh(x) }
  static func logOnePlus(_ x: Double) -> Double { log1p(x) }
}
