//===--- ElementaryMath.swift - libm functions for Float and Double -----===//

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension Float: ElementaryMath {
  static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
  static func exp(_ x: Float) -> Float { expf(x) }
  static func tanh(_ x: Float) -> Float { tanhf(x) }
}

extension Double: ElementaryMath {
  static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
  static func exp(_ x: Double) -> Double { Glibc.exp(x) }
  static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
}
