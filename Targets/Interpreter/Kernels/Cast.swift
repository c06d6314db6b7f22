//===--- Cast.swift - `cast` between every pair of element types ----------===//
//
// The source is read as one of four wide forms (Float for f32/f16/bf16, Double, Int64
// for signed integers and bool, UInt64 for unsigned) and written through
// `CastDestination`. Semantics (as onnxruntime on x86):
// - float -> integer truncates toward zero; NaN gives 0, out-of-range values saturate at
//   the Int64 range and then wrap to the target width (like `cvttss2si` plus truncation);
// - integer -> narrower integer wraps; anything -> bool is `x != 0` (NaN is true);
// - float -> f16/bf16 rounds to nearest even.

import SparrowIR

/// An element type that `cast` can write.
protocol CastDestination {
  static func cast(_ x: Float) -> Self
  static func cast(_ x: Double) -> Self
  static func cast(_ x: Int64) -> Self
  static func cast(_ x: UInt64) -> Self
}

extension Float: CastDestination {
  static func cast(_ x: Float) -> Float { x }
  static func cast(_ x: Double) -> Float { Float(x) }
  static func cast(_ x: Int64) -> Float { Float(x) }
  static func cast(_ x: UInt64) -> Float { Float(x) }
}

extension Double: CastDestination {
  static func cast(_ x: Float) -> Double { Double(x) }
  static func cast(_ x: Double) -> Double { x }
  static func cast(_ x: Int64) -> Double { Double(x) }
  static func cast(_ x: UInt64) -> Double { Double(x) }
}

extension Bool: CastDestination {
  static func cast(_ x: Float) -> Bool { x != 0 }
  static func cast(_ x: Double) -> Bool { x != 0 }
  static func cast(_ x: Int64) -> Bool { x != 0 }
  static func cast(_ x: UInt64) -> Bool { x != 0 }
}

extension KernelInteger {
  /// C-style float to integer: truncate, NaN to 0, saturate at Int64, wrap to width.
  @inline(__always)
  static func truncating(_ x: Double) -> Self {
    if x.isNaN { return 0 }
    if Self.isSigned || x < 0 {
      let wide = x >= 9.223372036854775807e18 ? Int64.max : x <= -9.223372036854775808e18 ? Int64.min : Int64(x)
      return Self(truncatingIfNeeded: wide)
    }
    let wide = x >= 1.8446744073709551615e19 ? UInt64.max : UInt64(x)
    return Self(truncatingIfNeeded: wide)
  }
  static func cast(_ x: Float) -> Self { truncating(Double(x)) }
  static func cast(_ x: Double) -> Self { truncating(x) }
  static func cast(_ x: Int64) -> Self { Self(truncatingIfNeeded: x) }
  static func cast(_ x: UInt64) -> Self { Self(truncatingIfNeeded: x) }
}

extension Int64: CastDestination {}
extension Int32: CastDestination {}
extension Int16: CastDestination {}
extension Int8: CastDestination {}
extension UInt64: CastDestination {}
extension UInt32: CastDestination {}
extension UInt16: CastDestination {}
extension UInt8: CastDestination {}

/// `cast` of `x` to the element type of `type`.
func castTensor(_ x: some TensorBytes, to type: TensorType) -> Tensor {
  if x.element == type.element { return Tensor(type: type, bytes: x.bytes) }
  switch type.element {
  case .f16, .bf16:
    let wide = x.element == .f32 ? Tensor(type: x.type, bytes: x.bytes) : castTensor(x, to: type.with(element: .f32))
    return wide.narrowed(to: type.element).tensor
  case .f32: return cast(x, to: type, Float.self)
  case .f64: return cast(x, to: type, Double.self)
  case .bool: return cast(x, to: type, Bool.self)
  case .i64: return cast(x, to: type, Int64.self)
  case .i32: return cast(x, to: type, Int32.self)
  case .i16: return cast(x, to: type, Int16.self)
  case .i8: return cast(x, to: type, Int8.self)
  case .u64: return cast(x, to: type, UInt64.self)
  case .u32: return cast(x, to: type, UInt32.self)
  case .u16: return cast(x, to: type, UInt16.self)
  case .u8: return cast(x, to: type, UInt8.self)
  }
}

private func cast<D: CastDestination & TensorElement>(_ x: some TensorBytes, to type: TensorType,
                                                      _: D.Type) -> Tensor {
  switch x.element {
  case .f32: return mapTensor(x, Float.self, to: type) { D.cast($0) }
  case .f16, .bf16: return cast(x.widenedToFloat(), to: type, D.self)
  case .f64: return mapTensor(x, Double.self, to: type) { D.cast($0) }
  case .bool: return mapTensor(x.asBytes, UInt8.self, to: type) { D.cast(Int64($0 != 0 ? 1 : 0)) }
  case .i64: return mapTensor(x, Int64.self, to: type) { D.cast($0) }
  case .i32: return mapTensor(x, Int32.self, to: type) { D.cast(Int64($0)) }
  case .i16: return mapTensor(x, Int16.self, to: type) { D.cast(Int64($0)) }
  case .i8: return mapTensor(x, Int8.self, to: type) { D.cast(Int64($0)) }
  case .u64: return mapTensor(x, UInt64.self, to: type) { D.cast($0) }
  case .u32: return mapTensor(x, UInt32.self, to: type) { D.cast(UInt64($0)) }
  case .u16: return mapTensor(x, UInt16.self, to: type) { D.cast(UInt64($0)) }
  case .u8: return mapTensor(x, UInt8.self, to: type) { D.cast(UInt64($0)) }
  }
}
