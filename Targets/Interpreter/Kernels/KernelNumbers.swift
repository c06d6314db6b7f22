//===--- KernelNumbers.swift - element types the arithmetic kernels compute in ---===//
//
// GEMM, convolution and einsum run for every numeric element type: f32 through OpenBLAS,
// the others (f64, integers) through plain loops generic over `KernelNumber`. Integer
// arithmetic wraps (as onnxruntime's does) so user data never traps.

import SparrowIR

/// A scalar the generic (non-BLAS) kernels multiply and accumulate.
protocol KernelNumber: TensorElement, Comparable {
  static var zero: Self { get }
  /// `acc + a * b` (wrapping for integers).
  static func multiplyAdd(_ acc: Self, _ a: Self, _ b: Self) -> Self
  init(converting value: Double)
  var asDouble: Double { get }
}

extension Float: KernelNumber {
  static func multiplyAdd(_ acc: Float, _ a: Float, _ b: Float) -> Float { acc + a * b }
  init(converting value: Double) { self = Float(value) }
  var asDouble: Double { Double(self) }
}
extension Double: KernelNumber {
  static func multiplyAdd(_ acc: Double, _ a: Double, _ b: Double) -> Double { acc + a * b }
  init(converting value: Double) { self = value }
  var asDouble: Double { self }
}

/// Integers wrap on overflow and saturate on conversion from Double.
protocol WrappingKernelInteger: KernelNumber, FixedWidthInteger {}
extension WrappingKernelInteger {
  static var zero: Self { 0 }
  static func multiplyAdd(_ acc: Self, _ a: Self, _ b: Self) -> Self { acc &+ a &* b }
  init(converting value: Double) {
    if value.isNaN { self = 0 } else if value >= Double(Self.max) { self = .max }
    else if value <= Double(Self.min) { self = .min } else { self = Self(value) }
  }
  var asDouble: Double { Double(self) }
}
extension Int64: WrappingKernelInteger {}
extension Int32: WrappingKernelInteger {}
extension Int16: WrappingKernelInteger {}
extension Int8: WrappingKernelInteger {}
extension UInt64: WrappingKernelInteger {}
extension UInt32: WrappingKernelInteger {}
extension UInt16: WrappingKernelInteger {}
extension UInt8: WrappingKernelInteger {}

/// The Swift type of a numeric element type; nil for bool, f16 and bf16.
func kernelNumberType(_ e: ElementType) -> (any KernelNumber.Type)? {
  switch e {
  case .f32: return Float.self
  case .f64: return Double.self
  case .i64: return Int64.self
  case .i32: return Int32.self
  case .i16: return Int16.self
  case .i8: return Int8.self
  case .u64: return UInt64.self
  case .u32: return UInt32.self
  case .u16: return UInt16.self
  case .u8: return UInt8.self
  case .f16, .bf16, .bool: return nil
  }
}

/// The Swift type of a float element type computed natively (f16/bf16 are widened
/// elsewhere); nil for the rest.
func kernelFloatType(_ e: ElementType) -> (any KernelFloat.Type)? {
  switch e {
  case .f32: return Float.self
  case .f64: return Double.self
  default: return nil
  }
}

extension Tensor {
  /// A tensor of `type` whose elements `fill` writes (the buffer starts zeroed).
  static func computed<T: TensorElement>(
    _ type: TensorType, of: T.Type, _ fill: (UnsafeMutablePointer<T>) throws -> Void
  ) rethrows -> Tensor {
    var t = Tensor(zeros: type.dense)
    // An empty tensor has no base address; `fill` then writes nothing, so any aligned
    // non-null pointer will do.
    try t.withUnsafeMutableBuffer(of: T.self) { try fill($0.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)!) }
    return t
  }

}

extension TensorBytes {
  /// Reads the elements through a typed pointer (valid only inside `body`).
  func withElementPointer<T: TensorElement, R>(of: T.Type, _ body: (UnsafePointer<T>) throws -> R) rethrows -> R {
    try withElements(T.self, body)
  }
}
