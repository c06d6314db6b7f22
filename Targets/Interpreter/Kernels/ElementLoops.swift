//===--- ElementLoops.swift - typed views and loops shared by the kernels ---===//
//
// Kernels are written once per kind of element and instantiated per Swift type:
// `KernelFloat` (Float, Double: the math functions), `KernelInteger` (every integer
// type). f16 and bf16 tensors are widened to f32, computed, and rounded back
// (`computingInFloat`). `makeTensor` and `map` are the building blocks of tight loops: no
// per-element `double(at:)`, closures inlined at each call site.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SparrowIR

/// Floating-point element types with the math functions the kernels need.
protocol KernelFloat: BinaryFloatingPoint, KernelNumber {
  static func exp(_ x: Self) -> Self
  /// e^x within a few ulp, for sigmoid and softmax: Float's is a branch-free polynomial
  /// the compiler vectorizes (inputs below -87.3 give ~1e-38 instead of a denormal or 0).
  static func fastExp(_ x: Self) -> Self
  static func expMinusOne(_ x: Self) -> Self
  /// tanh within a few ulp; Float's is branch-free (vectorizes) through `fastExp`.
  static func fastTanh(_ x: Self) -> Self
  static func log(_ x: Self) -> Self
  static func logOnePlus(_ x: Self) -> Self
  static func pow(_ x: Self, _ y: Self) -> Self
  static func sin(_ x: Self) -> Self
  static func cos(_ x: Self) -> Self
  static func tan(_ x: Self) -> Self
  static func asin(_ x: Self) -> Self
  static func acos(_ x: Self) -> Self
  static func atan(_ x: Self) -> Self
  static func sinh(_ x: Self) -> Self
  static func cosh(_ x: Self) -> Self
  static func tanh(_ x: Self) -> Self
  static func asinh(_ x: Self) -> Self
  static func acosh(_ x: Self) -> Self
  static func atanh(_ x: Self) -> Self
  static func erf(_ x: Self) -> Self
  /// erf within 5e-7 absolute (for gelu); Float's is branch-free (Abramowitz-Stegun 7.1.26).
  static func fastErf(_ x: Self) -> Self
  /// C `fmod`: the remainder with the sign of `x`.
  static func fmod(_ x: Self, _ y: Self) -> Self
}

extension Float: KernelFloat {
  @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
  @inline(__always) static func fastExp(_ x: Float) -> Float {
    // e^x = 2^n * e^r, n = round(x / ln 2), |r| <= ln 2 / 2 (Cody-Waite split of ln 2).
    let x = Swift.min(Swift.max(x, -87.33654), 88.37626)  // n stays in [-126, 127]
    let t = x * 1.44269504 + 12582912  // 1.5 * 2^23: rounds n into the low mantissa bits
    let n = t - 12582912
    let r = (x - n * 0.693145751953125) - n * 1.428606765330187e-06
    let p = 1 + r * (1 + r * (0.5 + r * (0.16666667 + r * (0.041666668 + r * (0.008333334 + r * 0.0013888889)))))
    return p * Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) << 23)
  }
  @inline(__always) static func expMinusOne(_ x: Float) -> Float { expm1f(x) }
  @inline(__always) static func fastTanh(_ x: Float) -> Float {
    // Small |x|: the odd Taylor series to x^11 (error < 1e-7 below 0.4); else
    // 1 - 2 / (e^2|x| + 1) with the sign restored.
    let a = Swift.abs(x), x2 = x * x
    let series = x * (1 + x2 * (-0.33333334 + x2 * (0.13333334 + x2 * (-0.053968254
                 + x2 * (0.021869488 + x2 * -0.008863236)))))
    let large = 1 - 2 / (fastExp(Swift.min(2 * a, 88)) + 1)
    return a < 0.4 ? series : (x < 0 ? -large : large)
  }
  @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
  @inline(__always) static func logOnePlus(_ x: Float) -> Float { log1pf(x) }
  @inline(__always) static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
  static func sin(_ x: Float) -> Float { sinf(x) }
  static func cos(_ x: Float) -> Float { cosf(x) }
  static func tan(_ x: Float) -> Float { tanf(x) }
  static func asin(_ x: Float) -> Float { asinf(x) }
  static func acos(_ x: Float) -> Float { acosf(x) }
  static func atan(_ x: Float) -> Float { atanf(x) }
  static func sinh(_ x: Float) -> Float { sinhf(x) }
  static func cosh(_ x: Float) -> Float { coshf(x) }
  @inline(__always) static func tanh(_ x: Float) -> Float { tanhf(x) }
  static func asinh(_ x: Float) -> Float { asinhf(x) }
  static func acosh(_ x: Float) -> Float { acoshf(x) }
  static func atanh(_ x: Float) -> Float { atanhf(x) }
  @inline(__always) static func erf(_ x: Float) -> Float { erff(x) }
  @inline(__always) static func fastErf(_ x: Float) -> Float {
    let a = Swift.abs(x)
    let t = 1 / (1 + 0.3275911 * a)
    let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    let y = 1 - p * fastExp(-a * a)
    return x < 0 ? -y : y
  }
  static func fmod(_ x: Float, _ y: Float) -> Float { fmodf(x, y) }
}

extension Double: KernelFloat {
  static func exp(_ x: Double) -> Double { libmExp(x) }
  static func fastExp(_ x: Double) -> Double { libmExp(x) }
  static func expMinusOne(_ x: Double) -> Double { libmExpm1(x) }
  static func fastTanh(_ x: Double) -> Double { libmTanh(x) }
  static func log(_ x: Double) -> Double { libmLog(x) }
  static func logOnePlus(_ x: Double) -> Double { libmLog1p(x) }
  static func pow(_ x: Double, _ y: Double) -> Double { libmPow(x, y) }
  static func sin(_ x: Double) -> Double { libmSin(x) }
  static func cos(_ x: Double) -> Double { libmCos(x) }
  static func tan(_ x: Double) -> Double { libmTan(x) }
  static func asin(_ x: Double) -> Double { libmAsin(x) }
  static func acos(_ x: Double) -> Double { libmAcos(x) }
  static func atan(_ x: Double) -> Double { libmAtan(x) }
  static func sinh(_ x: Double) -> Double { libmSinh(x) }
  static func cosh(_ x: Double) -> Double { libmCosh(x) }
  static func tanh(_ x: Double) -> Double { libmTanh(x) }
  static func asinh(_ x: Double) -> Double { libmAsinh(x) }
  static func acosh(_ x: Double) -> Double { libmAcosh(x) }
  static func atanh(_ x: Double) -> Double { libmAtanh(x) }
  static func erf(_ x: Double) -> Double { libmErf(x) }
  static func fastErf(_ x: Double) -> Double { libmErf(x) }
  static func fmod(_ x: Double, _ y: Double) -> Double { libmFmod(x, y) }
}

// The C library's double functions under names a `Double` member cannot shadow.
private func libmExp(_ x: Double) -> Double { exp(x) }
private func libmExpm1(_ x: Double) -> Double { expm1(x) }
private func libmLog(_ x: Double) -> Double { log(x) }
private func libmLog1p(_ x: Double) -> Double { log1p(x) }
private func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
private func libmSin(_ x: Double) -> Double { sin(x) }
private func libmCos(_ x: Double) -> Double { cos(x) }
private func libmTan(_ x: Double) -> Double { tan(x) }
private func libmAsin(_ x: Double) -> Double { asin(x) }
private func libmAcos(_ x: Double) -> Double { acos(x) }
private func libmAtan(_ x: Double) -> Double { atan(x) }
private func libmSinh(_ x: Double) -> Double { sinh(x) }
private func libmCosh(_ x: Double) -> Double { cosh(x) }
private func libmTanh(_ x: Double) -> Double { tanh(x) }
private func libmAsinh(_ x: Double) -> Double { asinh(x) }
private func libmAcosh(_ x: Double) -> Double { acosh(x) }
private func libmAtanh(_ x: Double) -> Double { atanh(x) }
private func libmErf(_ x: Double) -> Double { erf(x) }
private func libmFmod(_ x: Double, _ y: Double) -> Double { fmod(x, y) }

/// Integer element types.
protocol KernelInteger: FixedWidthInteger, TensorElement {}
extension Int64: KernelInteger {}
extension Int32: KernelInteger {}
extension Int16: KernelInteger {}
extension Int8: KernelInteger {}
extension UInt64: KernelInteger {}
extension UInt32: KernelInteger {}
extension UInt16: KernelInteger {}
extension UInt8: KernelInteger {}

/// A kernel written once for Float and Double (see `withFloatType`).
protocol FloatKernel {
  associatedtype Output
  func run<T: KernelFloat>(_ type: T.Type) throws -> Output
}

/// A kernel written once for every integer type (see `withIntegerType`).
protocol IntegerKernel {
  associatedtype Output
  func run<T: KernelInteger>(_ type: T.Type) throws -> Output
}

/// Runs `kernel` for f32 or f64; nil for any other element type.
func withFloatType<K: FloatKernel>(_ element: ElementType, _ kernel: K) throws -> K.Output? {
  switch element {
  case .f32: return try kernel.run(Float.self)
  case .f64: return try kernel.run(Double.self)
  default: return nil
  }
}

/// Runs `kernel` for an integer element type; nil for floats and bool.
func withIntegerType<K: IntegerKernel>(_ element: ElementType, _ kernel: K) throws -> K.Output? {
  switch element {
  case .i64: return try kernel.run(Int64.self)
  case .i32: return try kernel.run(Int32.self)
  case .i16: return try kernel.run(Int16.self)
  case .i8: return try kernel.run(Int8.self)
  case .u64: return try kernel.run(UInt64.self)
  case .u32: return try kernel.run(UInt32.self)
  case .u16: return try kernel.run(UInt16.self)
  case .u8: return try kernel.run(UInt8.self)
  default: return nil
  }
}

// MARK: - Building tensors

/// A tensor of `type` whose elements `fill` writes (every element, exactly once).
@inline(__always)
func makeTensor<T: TensorElement>(_ type: TensorType, of: T.Type,
                                  _ fill: (UnsafeMutablePointer<T>) throws -> Void) rethrows -> Tensor {
  precondition(T.elementType == type.element || (T.self == UInt16.self && type.element.byteSize == 2),
               "filling \(type) with \(T.self)")
  let bytes = try [UInt8](unsafeUninitializedCapacity: type.byteCount) { buffer, initialized in
    // An empty tensor has no storage: any aligned address serves, nothing is accessed.
    let p = UnsafeMutableRawPointer(buffer.baseAddress) ?? UnsafeMutableRawPointer(bitPattern: 64)!
    try fill(p.bindMemory(to: T.self, capacity: type.count))
    initialized = type.byteCount
  }
  return Tensor(type: type, bytes: bytes)
}

extension TensorBytes {
  /// A typed pointer to the elements (valid inside `body` only).
  @inline(__always)
  func withElements<T: TensorElement, R>(_: T.Type, _ body: (UnsafePointer<T>) throws -> R) rethrows -> R {
    precondition(T.elementType == type.element, "reading \(type.element) tensor as \(T.elementType)")
    return try withUnsafeBytes { raw in
      try body(raw.baseAddress.map { $0.assumingMemoryBound(to: T.self) }
               ?? UnsafePointer(bitPattern: MemoryLayout<T>.alignment)!)
    }
  }
}

/// y[i] = f(x[i]) for i in 0..<n.
@inline(__always)
func map<A, R>(_ n: Int, _ x: UnsafePointer<A>, _ y: UnsafeMutablePointer<R>, _ f: (A) -> R) {
  for i in 0..<n { y[i] = f(x[i]) }
}

/// A unary map from a tensor of `A` to a new tensor of `type` (element `R`).
@inline(__always)
func mapTensor<A: TensorElement, R: TensorElement>(_ x: some TensorBytes, _: A.Type, to type: TensorType,
                                                   _ f: (A) -> R) -> Tensor {
  x.withElements(A.self) { px in makeTensor(type, of: R.self) { py in map(x.count, px, py, f) } }
}

// MARK: - Half precision through Float

extension ElementType {
  /// f16 and bf16: stored narrow, computed in f32.
  var isHalf: Bool { self == .f16 || self == .bf16 }
}

extension TensorBytes {
  var count: Int { type.count }
  var element: ElementType { type.element }

  /// The elements of an f16 or bf16 tensor widened to an f32 tensor.
  func widenedToFloat() -> Tensor {
    precondition(element.isHalf, "widening \(type)")
    let bf16 = element == .bf16
    return withHalfBits { h in
      makeTensor(type.with(element: .f32), of: Float.self) { y in
        if bf16 {
          map(count, h, y) { Float(bitPattern: UInt32($0) << 16) }
        } else {
          #if !(os(macOS) && arch(x86_64))
          map(count, h, y) { Float(Float16(bitPattern: $0)) }
          #else
          map(count, h, y) { Float(float16Bits: $0) }
          #endif
        }
      }
    }
  }

  /// An f32 tensor rounded (to nearest even) to f16 or bf16, written at `destination`
  /// when given.
  func narrowed(to element: ElementType, into destination: UnsafeMutableRawPointer? = nil) -> TensorRef {
    precondition(self.element == .f32 && element.isHalf, "narrowing \(type) to \(element)")
    return withElements(Float.self) { x in
      resultRef(type.with(element: element), of: UInt16.self, at: destination) { h in
        if element == .bf16 {
          map(count, x, h) { $0.bfloat16Bits }
        } else {
          #if !(os(macOS) && arch(x86_64))
          map(count, x, h) { Float16($0).bitPattern }
          #else
          map(count, x, h) { $0.float16Bits }
          #endif
        }
      }
    }
  }
}

extension TensorBytes {
  /// Reads an f16/bf16 tensor as `UInt16` bits (they are not `TensorElement`s of their own
  /// on every platform).
  func withHalfBits<R>(_ body: (UnsafePointer<UInt16>) throws -> R) rethrows -> R {
    precondition(element.byteSize == 2, "reading \(type) as 16-bit")
    return try withUnsafeBytes { raw in
      try body(raw.baseAddress.map { $0.assumingMemoryBound(to: UInt16.self) }
               ?? UnsafePointer(bitPattern: 2)!)
    }
  }
}

/// Runs `body` with f16/bf16 inputs widened to f32 and f16/bf16 result types as f32, then
/// rounds those results back (into the caller's destinations). Other element types pass
/// through unchanged, destinations included.
func computingInFloat(_ k: KernelArgs, _ body: (KernelArgs) throws -> [TensorRef]) rethrows -> [TensorRef] {
  let halfInputs = k.inputs.contains { $0.element.isHalf }
  let halfResults = k.resultTypes.contains { $0.element.isHalf }
  guard halfInputs || halfResults else { return try body(k) }
  let wide = KernelArgs(
    kind: k.kind, attributes: k.attributes,
    refs: k.inputs.map { $0.element.isHalf ? $0.widenedToFloat().ref : $0 },
    resultTypes: k.resultTypes.map { $0.element.isHalf ? $0.with(element: .f32) : $0 },
    destinations: k.resultTypes.indices.map { k.resultTypes[$0].element.isHalf ? nil : k.destination($0) },
    scratch: k.scratch)
  let outs = try body(wide)
  return outs.enumerated().map { i, o in
    let t = k.resultTypes[i]
    return t.element.isHalf ? o.narrowed(to: t.element, into: k.destination(i)) : o
  }
}

/// `computingInFloat` for the kernels that still return owned tensors.
func computingInFloat(_ k: KernelArgs, _ body: (KernelArgs) throws -> [Tensor]) rethrows -> [Tensor] {
  try computingInFloat(k.allocatingResults) { try body($0).map(\.ref) }.map(\.tensor)
}
