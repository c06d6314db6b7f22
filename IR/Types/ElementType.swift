//===--- ElementType.swift - scalar element types of tensors ------------===//
//
// The text names (`f32`, `i64`, `bool` ...) appear in `tensor<2x3xf32>`; the ONNX codes are
// TensorProto.DataType values and also the `dtype` field of the generated C ABI.

public enum ElementType: String, CaseIterable, Hashable, Sendable {
  case f32, f16, bf16, f64, i64, i32, i16, i8, u64, u32, u16, u8, bool

  /// Bytes per element in a dense buffer.
  public var byteSize: Int {
    switch self {
    case .f64, .i64, .u64: return 8
    case .f32, .i32, .u32: return 4
    case .f16, .bf16, .i16, .u16: return 2
    case .i8, .u8, .bool: return 1
    }
  }

  public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 }
  public var isSignedInteger: Bool { self == .i64 || self == .i32 || self == .i16 || self == .i8 }
  public var isUnsignedInteger: Bool { self == .u64 || self == .u32 || self == .u16 || self == .u8 }
  public var isInteger: Bool { isSignedInteger || isUnsignedInteger }

  /// ONNX `TensorProto.DataType` code.
  public var onnxCode: Int32 {
    switch self {
    case .f32: return 1
    case .u8: return 2
    case .i8: return 3
    case .u16: return 4
    case .i16: return 5
    case .i32: return 6
    case .i64: return 7
    case .bool: return 9
    case .f16: return 10
    case .f64: return 11
    case .u32: return 12
    case .u64: return 13
    case .bf16: return 16
    }
  }

  public init?(onnxCode: Int32) {
    guard let t = ElementType.allCases.first(where: { $0.onnxCode == onnxCode }) else { return nil }
    self = t
  }
}
