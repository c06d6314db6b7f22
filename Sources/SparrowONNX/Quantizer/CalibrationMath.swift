//===--- CalibrationMath.swift - ranges, scales and zero points for static PTQ ---===//
//
// The arithmetic of `sparrowc quantize`, as onnxruntime's quantizer does it (so a file
// quantized here and one quantized there read alike):
// - activations: uint8, asymmetric. The calibrated range [lo, hi] is widened to hold 0,
//   scale = (hi - lo) / 255, zero point = round(-lo / scale) (half to even), so real 0 is
//   exact (zero padding, ReLU's floor);
// - weights: int8, symmetric per output channel: scale[c] = max|w[c]| / 127, zero point
//   0, q = clamp(round(w / scale[c]), -127, 127). With zero point 0 a zero weight stays
//   exactly 0: pruned (2:4, block, unstructured) weights keep their pattern;
// - biases: int32 with scale sx * sw[c] (accumulator units), zero point 0;
// - a scale of 0 (an all-zero tensor or channel) becomes 1.
// Ranges come from min-max or a percentile of the observed values. The percentile keeps a
// streaming histogram (2048 bins over a range that doubles when a value falls outside,
// merging bins pairwise), so calibration needs one pass and bounded memory; its error is
// below one bin width.

import SparrowIR

/// How activation ranges are calibrated (`--calibration minmax|percentile[:P]`).
public enum CalibrationMethod: Equatable, Sendable, CustomStringConvertible {
  case minMax
  /// The range from the (100 - P)th to the Pth percentile of the observed values.
  case percentile(Double)

  public static let defaultPercentile = 99.99

  /// Parses `minmax`, `percentile` or `percentile:99.9`; nil for anything else.
  public init?(parsing text: String) {
    if text == "minmax" { self = .minMax; return }
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
    guard parts.first == "percentile" else { return nil }
    guard parts.count == 2 else { self = .percentile(Self.defaultPercentile); return }
    guard let p = Double(parts[1]), p > 50, p <= 100 else { return nil }
    self = .percentile(p)
  }

  public var description: String {
    switch self {
    case .minMax: return "minmax"
    case .percentile(let p): return "percentile:\(p)"
    }
  }
}

/// A closed real interval.
public struct RealRange: Equatable, Sendable {
  public var lower: Float
  public var upper: Float
  public init(_ lower: Float, _ upper: Float) { self.lower = lower; self.upper = upper }

  public func union(_ other: RealRange) -> RealRange {
    RealRange(min(lower, other.lower), max(upper, other.upper))
  }
}

/// Streaming statistics of one tensor's values over every calibration sample.
public struct RangeObserver: Sendable {
  public let method: CalibrationMethod
  private(set) var minimum = Float.infinity
  private(set) var maximum = -Float.infinity
  private var histogram: StreamingHistogram?

  public init(method: CalibrationMethod) { self.method = method }

  public mutating func observe(_ values: UnsafeBufferPointer<Float>) {
    for v in values where v.isFinite {
      minimum = min(minimum, v)
      maximum = max(maximum, v)
    }
    guard case .percentile = method, minimum <= maximum else { return }
    if histogram == nil { histogram = StreamingHistogram(lower: minimum, upper: maximum) }
    histogram!.add(values)
  }

  public mutating func observe(_ values: [Float]) {
    values.withUnsafeBufferPointer { observe($0) }
  }

  /// The calibrated range (before widening to hold 0); [0, 0] when nothing finite was seen.
  public var range: RealRange {
    guard minimum <= maximum else { return RealRange(0, 0) }
    switch method {
    case .minMax:
      return RealRange(minimum, maximum)
    case .percentile(let p):
      let h = histogram!
      let lo = h.quantile((100 - p) / 100), hi = h.quantile(p / 100)
      return RealRange(max(minimum, min(lo, hi)), min(maximum, max(lo, hi)))
    }
  }
}

/// Counts over `bins` equal bins starting at `lower`; a value outside doubles the width
/// (toward that side) until it fits.
struct StreamingHistogram: Sendable {
  static let bins = 2048
  private(set) var lower: Double
  private(set) var width: Double
  private(set) var counts: [Int]
  private(set) var total = 0

  init(lower: Float, upper: Float) {
    self.lower = Double(lower)
    let span = Double(upper) - Double(lower)
    width = span > 0 ? span / Double(Self.bins) * (1 + 1e-9) : max(abs(Double(lower)), 1) * 1e-6
    counts = [Int](repeating: 0, count: Self.bins)
  }

  mutating func add(_ values: UnsafeBufferPointer<Float>) {
    for v in values where v.isFinite {
      let x = Double(v)
      while x < lower { grow(downward: true) }
      while x >= lower + width * Double(Self.bins) { grow(downward: false) }
      counts[min(Self.bins - 1, Int((x - lower) / width))] += 1
      total += 1
    }
  }

  /// Doubles the bin width: adjacent bins merge, the range extends on one side.
  private mutating func grow(downward: Bool) {
    let n = Self.bins
    var merged = [Int](repeating: 0, count: n)
    let offset = downward ? n / 2 : 0
    for i in 0..<n { merged[offset + i / 2] += counts[i] }
    if downward { lower -= width * Double(n) }
    width *= 2
    counts = merged
  }

  /// The value below which a fraction `q` of the samples lies (linear within a bin).
  func quantile(_ q: Double) -> Float {
    guard total > 0 else { return 0 }
    let target = q * Double(total)
    var seen = 0.0
    for (i, c) in counts.enumerated() where c > 0 {
      if seen + Double(c) >= target {
        let inside = (target - seen) / Double(c)
        return Float(lower + width * (Double(i) + inside))
      }
      seen += Double(c)
    }
    return Float(lower + width * Double(Self.bins))
  }
}

/// uint8 asymmetric quantization of an activation.
public struct ActivationQuantization: Equatable, Sendable {
  public var scale: Float
  public var zeroPoint: UInt8

  /// From a calibrated range, widened to hold 0 (onnxruntime's `compute_scale_zp`).
  public init(range: RealRange) {
    let lo = Double(min(range.lower, 0)), hi = Double(max(range.upper, 0))
    var s = Float((hi - lo) / 255)
    if !(s > 0) || !s.isFinite { s = 1 }
    scale = s
    let zp = (-lo / Double(s)).rounded(.toNearestOrEven)
    zeroPoint = UInt8(max(0, min(255, zp)))
  }

  public init(scale: Float, zeroPoint: UInt8) { self.scale = scale; self.zeroPoint = zeroPoint }

  /// What QuantizeLinear computes for `x`.
  public func quantize(_ x: Float) -> UInt8 {
    let q = (x / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
    return UInt8(max(0, min(255, q)))
  }
}

/// int8 symmetric per-channel quantization of a constant weight.
public struct WeightQuantization: Equatable, Sendable {
  public let shape: [Int]
  public let axis: Int
  public let scales: [Float]
  public let values: [Int8]

  /// Quantizes `weights` (row-major, `shape`) with one scale per slice along `axis`.
  public init(weights: [Float], shape: [Int], axis: Int) {
    precondition(axis >= 0 && axis < shape.count && weights.count == shape.reduce(1, *))
    let channels = shape[axis]
    let inner = shape[(axis + 1)...].reduce(1, *)
    var absMax = [Float](repeating: 0, count: channels)
    for (i, w) in weights.enumerated() {
      let c = (i / inner) % channels
      absMax[c] = max(absMax[c], abs(w))
    }
    let scales = absMax.map { m -> Float in
      let s = m / 127
      return s > 0 && s.isFinite ? s : 1
    }
    var values = [Int8](repeating: 0, count: weights.count)
    for (i, w) in weights.enumerated() {
      let q = (w / scales[(i / inner) % channels]).rounded(.toNearestOrEven)
      values[i] = Int8(max(-127, min(127, q)))
    }
    self.shape = shape
    self.axis = axis
    self.scales = scales
    self.values = values
  }
}

/// The int32 bias of a conv or GEMM: round(b[c] / (sx * sw[c])), with its scales.
public func quantizeBias(_ bias: [Float], inputScale: Float, weightScales: [Float])
    -> (values: [Int32], scales: [Float]) {
  precondition(bias.count == weightScales.count)
  let scales = weightScales.map { s -> Float in
    let product = inputScale * s
    return product > 0 && product.isFinite ? product : 1
  }
  let values = zip(bias, scales).map { b, s -> Int32 in
    let q = (Double(b) / Double(s)).rounded(.toNearestOrEven)
    return Int32(max(Double(Int32.min), min(Double(Int32.max), q.isFinite ? q : 0)))
  }
  return (values, scales)
}
