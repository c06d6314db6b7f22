//===--- Tensor.swift - a dense tensor value: type plus row-major bytes --===//
//
// Used for constants in the IR's pool and for values in the interpreter. Storage is raw
// little-endian bytes so data-movement kernels work for every element type by size;
// math kernels read typed views with `withUnsafeBuffer(of:)` or `array(of:)`.

public protocol TensorElement: Sendable {
  static var elementType: ElementType { get }
}
extension Float: TensorElement { public static var elementType: ElementType { .f32 } }
extension Double: TensorElement { public static var elementType: ElementType { .f64 } }
extension Int64: TensorElement { public static var elementType: ElementType { .i64 } }
extension Int32: TensorElement { public static var elementType: ElementType { .i32 } }
extension Int16: TensorElement { public static var elementType: ElementType { .i16 } }
extension Int8: TensorElement { public static var elementType: ElementType { .i8 } }
extension UInt64: TensorElement { public static var elementType: ElementType { .u64 } }
extension UInt32: TensorElement { public static var elementType: ElementType { .u32 } }
extension UInt16: TensorElement { public static var elementType: ElementType { .u16 } }
extension UInt8: TensorElement { public static var elementType: ElementType { .u8 } }
extension Bool: TensorElement { public static var elementType: ElementType { .bool } }
#if !(os(macOS) && arch(x86_64))
extension Float16: TensorElement { public static var elementType: ElementType { .f16 } }
#endif

public struct Tensor: Sendable, Equatable {
  public var type: TensorType
  public var bytes: [UInt8]

  /// A tensor from raw bytes; `bytes.count` must equal `type.byteCount`.
  public init(type: TensorType, bytes: [UInt8]) {
    precondition(bytes.count == type.byteCount, "tensor byte count \(bytes.count) != \(type)")
    self.type = type
    self.bytes = bytes
  }

  /// A zero-filled tensor.
  public init(zeros type: TensorType) {
    self.type = type
    self.bytes = [UInt8](repeating: 0, count: type.byteCount)
  }

  /// A tensor from typed scalars in row-major order.
  public init<T: TensorElement>(shape: [Int], scalars: [T]) {
    let type = TensorType(T.elementType, shape)
    precondition(scalars.count == type.count, "\(scalars.count) scalars for shape \(shape)")
    self.type = type
    self.bytes = scalars.withUnsafeBytes { [UInt8]($0) }
  }

  /// A rank-0 tensor.
  public init<T: TensorElement>(scalar: T) { self.init(shape: [], scalars: [scalar]) }

  public var shape: [Int] { type.shape }
  public var element: ElementType { type.element }
  public var count: Int { type.count }

  /// Copies the elements out as `T`; `T` must match the element type.
  public func array<T: TensorElement>(of: T.Type) -> [T] {
    precondition(T.elementType == element, "reading \(element) tensor as \(T.elementType)")
    return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
  }

  public func withUnsafeBuffer<T: TensorElement, R>(
    of: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R
  ) rethrows -> R {
    precondition(T.elementType == element, "reading \(element) tensor as \(T.elementType)")
    return try bytes.withUnsafeBytes { try body($0.bindMemory(to: T.self)) }
  }

  public mutating func withUnsafeMutableBuffer<T: TensorElement, R>(
    of: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
  ) rethrows -> R {
    precondition(T.elementType == element, "writing \(element) tensor as \(T.elementType)")
    return try bytes.withUnsafeMutableBytes { try body($0.bindMemory(to: T.self)) }
  }

  /// Element `i` converted to Double (any element type); for shape math and printing.
  public func double(at i: Int) -> Double {
    bytes.withUnsafeBytes { raw in
      let o = i * element.byteSize
      switch element {
      case .f32: return Double(raw.loadUnaligned(fromByteOffset: o, as: Float.self))
      case .f64: return raw.loadUnaligned(fromByteOffset: o, as: Double.self)
      case .f16: return Double(Float(float16Bits: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
      case .bf16: return Double(Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)) << 16))
      case .i64: return Double(raw.loadUnaligned(fromByteOffset: o, as: Int64.self))
      case .i32: return Double(raw.loadUnaligned(fromByteOffset: o, as: Int32.self))
      case .i16: return Double(raw.loadUnaligned(fromByteOffset: o, as: Int16.self))
      case .i8: return Double(raw.loadUnaligned(fromByteOffset: o, as: Int8.self))
      case .u64: return Double(raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
      case .u32: return Double(raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))
      case .u16: return Double(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self))
      case .u8: return Double(raw[o])
      case .bool: return raw[o] != 0 ? 1 : 0
      }
    }
  }

  /// Element `i` as Int64 (integer and bool tensors exactly; floats truncated).
  public func int64(at i: Int) -> Int64 {
    bytes.withUnsafeBytes { raw in
      let o = i * element.byteSize
      switch element {
      case .i64: return raw.loadUnaligned(fromByteOffset: o, as: Int64.self)
      case .u64: return Int64(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
      case .i32: return Int64(raw.loadUnaligned(fromByteOffset: o, as: Int32.self))
      default:
        let d = double(at: i)
        return d.isFinite ? Int64(max(min(d, 9.2e18), -9.2e18)) : 0
      }
    }
  }

  /// All elements as Int (for shape-like tensors).
  public var ints: [Int] { (0..<count).map { Int(int64(at: $0)) } }
  /// All elements as Double.
  public var doubles: [Double] { (0..<count).map { double(at: $0) } }
}

extension Float {
  /// IEEE half bits to Float (portable; no Float16 needed).
  public init(float16Bits h: UInt16) {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1f)
    let mant = UInt32(h & 0x3ff)
    if exp == 0 {
      let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
      self = sign != 0 ? -v : v
    } else if exp == 31 {
      self = Float(bitPattern: sign | 0x7f80_0000 | (mant << 13))
    } else {
      self = Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }
  }

  /// Round-to-nearest-even IEEE half bits.
  public var float16Bits: UInt16 {
    let bits = bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    if isNaN { return sign | 0x7e00 }
    let a = abs(self)
    if a >= 65520 { return sign | 0x7c00 }
    if a < Float(sign: .plus, exponent: -14, significand: 1) {
      // Subnormal half: value / 2^-24, rounded to nearest even.
      let q = (a * Float(sign: .plus, exponent: 24, significand: 1)).rounded(.toNearestOrEven)
      return sign | UInt16(q)
    }
    let exp = Int((bits >> 23) & 0xff) - 127 + 15
    var mant = bits & 0x7f_ffff
    var e = UInt32(exp)
    let rest = mant & 0x1fff
    mant >>= 13
    if rest > 0x1000 || (rest == 0x1000 && (mant & 1) == 1) {
      mant += 1
      if mant == 0x400 { mant = 0; e += 1 }
    }
    return sign | UInt16(e << 10) | UInt16(mant)
  }

  /// bfloat16 bits, round to nearest even.
  public var bfloat16Bits: UInt16 {
    if isNaN { return 0x7fc0 }
    let bits = bitPattern
    let rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
    return UInt16(rounded >> 16)
  }
}
