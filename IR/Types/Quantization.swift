//===--- Quantization.swift - uniform affine quantization as part of a type ===//
//
//   tensor<1x64x56x56xu8, #quant<0.0235:128>>                 per tensor: real = 0.0235 * (q - 128)
//   tensor<64x64x1x1xi8, #quant<axis=0, 0.011:0, 0.009:0, ...>> per axis 0 (one scale per slice)
//   tensor<64x576xi8, #nm<2,4>, #quant<axis=0, ...>>           with a sparse layout too
//
// As MLIR's `!quant.uniform<i8:f32, s:zp>`: the element type is the storage type (u8, i8,
// u16, i16, i32), the expressed type is f32, and `scale * (q - zero_point)` is the real
// value an element stands for. Quantization is a property of the type, as sparsity is:
// the buffer holds plain integers (targets and the interpreter see the storage type;
// `TensorType.dense` drops the encoding), and ops that compute on quantized values
// (`qconv`, `qmatmul`) read scales and zero points from their operand and result types.
//
// Which ops take and produce quantized types (ShapeRules+Quantization.swift):
// - `constant` (weights, chosen by the writer), `quantize_linear` (its scale and zero
//   point operands, which must agree with the type) and `qconv` / `qmatmul` (chosen)
//   may write a quantized result type;
// - data movement that only moves elements (reshape, transpose, concat, split, slice,
//   gather, expand, tile, depth/space, max_pool ...) carries a per-tensor
//   quantization from operand to result: moving integers moves the real values;
// - `dequantize_linear` takes a quantized operand;
// - every other op refuses quantized operands (dequantize first), so no op can mistake a
//   quantized tensor for plain integers.
//
// The requantizing arithmetic shared by every target (`Requantization` below) is defined
// here once, so the interpreter and generated kernels agree bit for bit.

/// The scales and zero points of a quantized tensor type.
public struct Quantization: Hashable, Sendable, CustomStringConvertible {
  /// One scale per tensor, or one per slice along `axis`.
  public var scales: [Float]
  /// Zero points in storage units, as many as `scales`.
  public var zeroPoints: [Int]
  /// The quantized axis; nil means per tensor.
  public var axis: Int?

  /// Per-tensor quantization.
  public init(scale: Float, zeroPoint: Int) {
    self.scales = [scale]
    self.zeroPoints = [zeroPoint]
    self.axis = nil
  }

  /// Per-axis quantization: slice `i` along `axis` has `scales[i]`, `zeroPoints[i]`.
  public init(axis: Int, scales: [Float], zeroPoints: [Int]) {
    self.scales = scales
    self.zeroPoints = zeroPoints
    self.axis = axis
  }

  public var isPerTensor: Bool { axis == nil }

  /// The scale of slice `i` along the axis (every slice has the one scale when per tensor).
  public func scale(_ i: Int) -> Float { axis == nil ? scales[0] : scales[i] }
  /// The zero point of slice `i`.
  public func zeroPoint(_ i: Int) -> Int { axis == nil ? zeroPoints[0] : zeroPoints[i] }

  /// `#quant<0.02:128>` or `#quant<axis=0, 0.1:0, 0.2:0>`.
  public var description: String {
    let pairs = zip(scales, zeroPoints).map { "\(formatFloat($0)):\($1)" }.joined(separator: ", ")
    return axis.map { "#quant<axis=\($0), \(pairs)>" } ?? "#quant<\(pairs)>"
  }

  /// Why this quantization cannot encode a tensor of `type`'s element and shape, or nil.
  public func problem(for type: TensorType) -> String? {
    guard let range = type.element.quantizedStorageRange else {
      return "quantized storage must be u8, i8, u16, i16 or i32, got \(type.element)"
    }
    guard !scales.isEmpty, scales.count == zeroPoints.count else {
      return "a quantization needs as many zero points as scales"
    }
    if let bad = scales.first(where: { !($0.isFinite && $0 > 0) }) {
      return "quantization scales must be positive and finite, got \(formatFloat(bad))"
    }
    if let bad = zeroPoints.first(where: { !range.contains($0) }) {
      return "zero point \(bad) is out of the \(type.element) range \(range.lowerBound)...\(range.upperBound)"
    }
    if let axis {
      guard axis >= 0 && axis < type.rank else {
        return "quantization axis \(axis) out of range for rank \(type.rank)"
      }
      guard scales.count == type.shape[axis] else {
        return "per-axis quantization has \(scales.count) scales for \(type.shape[axis]) slices along axis \(axis)"
      }
    } else if scales.count != 1 {
      return "per-tensor quantization takes one scale, got \(scales.count)"
    }
    return nil
  }
}

extension ElementType {
  /// The values a quantized storage element can hold (nil: not a quantized storage type).
  public var quantizedStorageRange: ClosedRange<Int>? {
    switch self {
    case .u8: return 0...255
    case .i8: return -128...127
    case .u16: return 0...65535
    case .i16: return -32768...32767
    case .i32: return Int(Int32.min)...Int(Int32.max)
    default: return nil
    }
  }
}

/// The arithmetic of integer ops with a quantized or f32 result, shared by every target.
///
/// An integer op accumulates `acc = sum((x - zx) * (w - zw[c])) + bias[c]` exactly in i32
/// (bias in accumulator units: real bias / (sx * sw[c])). Then, per output channel c:
/// - quantized result (scale sy, zero point zy): `t = Float(acc) * multiplier[c]` with
///   `multiplier[c] = (sx * sw[c]) / sy` in f32; epilogue steps run in these output units
///   (`relu`: max(t, 0); `clip:a:b`: clamp to [a / sy, b / sy]; `add`: t += Float(r - zr) *
///   (sr / sy)); the result is `saturate(roundHalfEven(t) + zy)`;
/// - f32 result: `v = Float(acc) * (sx * sw[c])`, then any epilogue step on real values.
public enum Requantization {
  /// Epilogue steps an integer op with a quantized result accepts.
  public static func acceptsQuantized(_ step: EpilogueStep) -> Bool {
    switch step {
    case .relu, .clip, .add: return true
    default: return false
    }
  }

  /// `(sx * sw[c]) / sy` for each of `channels` output channels (sy = 1 for f32 results).
  public static func multipliers(input: Quantization, weight: Quantization, output: Quantization?,
                                 channels: Int) -> [Float] {
    (0..<channels).map { c in
      let product = input.scales[0] * weight.scale(c)
      return output.map { product / $0.scales[0] } ?? product
    }
  }

  /// The residual factor `sr / sy` of an `add` step (sr alone for f32 results).
  public static func residualFactor(_ residual: Quantization, output: Quantization?) -> Float {
    output.map { residual.scales[0] / $0.scales[0] } ?? residual.scales[0]
  }

  /// `saturate(roundHalfEven(t) + zeroPoint)` into `range`.
  @inlinable
  public static func store(_ t: Float, zeroPoint: Int, range: ClosedRange<Int>) -> Int {
    let r = t.rounded(.toNearestOrEven)
    guard r.isFinite else { return r > 0 ? range.upperBound : range.lowerBound }
    let q = Double(r) + Double(zeroPoint)
    return Int(Swift.min(Swift.max(q, Double(range.lowerBound)), Double(range.upperBound)))
  }
}
