//===--- ResizeTaps.swift - per-axis input taps of an ONNX Resize ---------===//
//
// Resize is separable: each axis maps every output index to input taps (index, weight).
// Nearest picks one tap per axis; linear and cubic blend two or four (more with
// `antialias`, which stretches a downsampling filter by 1 / scale). The coordinate
// transform uses `scales` when given (as ONNX does), else sizes / input. `outside` lists
// the output indices whose source coordinate falls outside the input (tf_crop_and_resize
// writes `extrapolation_value` there). Shared by the interpreter and the LLVM target.

import SparrowIR

/// The taps of every axis of the resize `attributes` from `input` to `output` shape.
public func resizeAxes(_ attributes: Attributes, input: [Int], output: [Int]) throws -> [ResizeAxis] {
  let a = attributes
  let rank = input.count
  let scales = a.has("scales") ? a.floats("scales").map(Double.init)
    : (0..<rank).map { input[$0] == 0 ? 1 : Double(output[$0]) / Double(input[$0]) }
  guard scales.count == rank, scales.allSatisfy({ $0 > 0 }) else {
    throw Diagnostic("'resize' does not support scales \(scales)")
  }
  let transform = a.string("coordinate_transformation_mode")
  let roi = a.has("roi") ? a.floats("roi").map(Double.init) : []
  if transform == "tf_crop_and_resize" && roi.count != 2 * rank {
    throw Diagnostic("resize with tf_crop_and_resize needs roi of \(2 * rank) values, got \(roi.count)")
  }
  return try (0..<rank).map { axis in
    let coordinate = try CoordinateTransform(transform, input: input[axis], output: output[axis],
                                             scale: scales[axis],
                                             roi: roi.isEmpty ? nil : (roi[axis], roi[rank + axis]))
    return try ResizeAxis(mode: a.string("mode"), coordinate, input: input[axis], output: output[axis],
                          scale: scales[axis], attributes: a)
  }
}

/// Maps an output coordinate to the input coordinate along one axis.
public struct CoordinateTransform {
  public let map: (Double) -> Double

  public init(_ mode: String, input: Int, output: Int, scale: Double, roi: (Double, Double)?) throws {
    let (n, m) = (Double(input), Double(output))
    switch mode {
    case "half_pixel": map = { ($0 + 0.5) / scale - 0.5 }
    case "pytorch_half_pixel": map = { output > 1 ? ($0 + 0.5) / scale - 0.5 : 0 }
    case "align_corners":
      // ONNX divides by the unrounded output length input * scale, not by `output`.
      let length = n * scale
      map = { length == 1 ? 0 : $0 * (n - 1) / (length - 1) }
    case "asymmetric": map = { $0 / scale }
    case "half_pixel_symmetric":
      let adjustment = m / (scale * n)
      let offset = n / 2 * (1 - adjustment)
      map = { offset + ($0 + 0.5) / scale - 0.5 }
    case "tf_crop_and_resize":
      let (start, end) = roi ?? (0, 1)
      map = { output > 1 ? start * (n - 1) + $0 * (end - start) * (n - 1) / (m - 1)
                         : 0.5 * (start + end) * (n - 1) }
    default: throw Diagnostic("'resize' does not support coordinate_transformation_mode '\(mode)'")
    }
  }
}

/// One axis of a resize: the input taps of each output index, and the output indices
/// whose source coordinate lies outside the input (used by tf_crop_and_resize).
public struct ResizeAxis {
  public var taps: [[(index: Int, weight: Double)]] = []
  public var outside: Set<Int> = []
  public let identity: Bool

  public init(mode: String, _ transform: CoordinateTransform, input: Int, output: Int, scale: Double,
              attributes a: Attributes) throws {
    let nearest = a.string("nearest_mode")
    let cubicA = Double(a.float("cubic_coeff_a"))
    let excludeOutside = a.bool("exclude_outside")
    let clampIndex = { (i: Int) in min(max(i, 0), input - 1) }
    let floorIndex = { (x: Double) in x.isFinite ? Int(min(max(x.rounded(.down), -4), Double(input + 4))) : 0 }
    guard ["nearest", "linear", "cubic"].contains(mode) else {
      throw Diagnostic("'resize' does not support mode '\(mode)'")
    }
    guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearest) else {
      throw Diagnostic("'resize' does not support nearest_mode '\(nearest)'")
    }
    let antialias = a.bool("antialias") && scale < 1 && mode != "nearest"
    for o in 0..<output {
      let x = transform.map(Double(o))
      if x < 0 || x > Double(input - 1) { outside.insert(o) }
      if antialias {
        // The tap left of x (x - 1 when x is integral, as the ONNX reference).
        let f = floorIndex(x), base = Double(f) == x ? f - 1 : f
        let filter = AntialiasFilter(cubicA: mode == "cubic" ? cubicA : nil, scale: scale)
        var row = filter.taps(at: x - Double(base)).map { (index: base + $0.offset, weight: $0.weight) }
        if excludeOutside {
          for j in row.indices where row[j].index < 0 || row[j].index >= input { row[j].weight = 0 }
          let sum = row.reduce(0) { $0 + $1.weight }
          if sum != 0 { for j in row.indices { row[j].weight /= sum } }
        }
        taps.append(row.map { (clampIndex($0.index), $0.weight) })
        continue
      }
      switch mode {
      case "nearest":
        let r: Double
        switch nearest {
        case "round_prefer_floor": r = x == x.rounded(.down) + 0.5 ? x.rounded(.down) : x.rounded()
        case "round_prefer_ceil": r = x == x.rounded(.down) + 0.5 ? x.rounded(.up) : x.rounded()
        case "floor": r = x.rounded(.down)
        default: r = x.rounded(.up)
        }
        taps.append([(clampIndex(floorIndex(r)), 1)])
      case "linear":
        let f = floorIndex(x), t = x - Double(f)
        taps.append([(clampIndex(f), 1 - t), (clampIndex(f + 1), t)])
      default:
        let f = floorIndex(x), t = x - Double(f)
        let c = cubicCoefficients(t, cubicA)
        var row = (0..<4).map { (index: f - 1 + $0, weight: c[$0]) }
        if excludeOutside {
          for j in row.indices where row[j].index < 0 || row[j].index >= input { row[j].weight = 0 }
          let sum = row.reduce(0) { $0 + $1.weight }
          if sum != 0 { for j in row.indices { row[j].weight /= sum } }
        }
        taps.append(row.map { (clampIndex($0.index), $0.weight) })
      }
    }
    identity = input == output && taps.enumerated().allSatisfy { o, row in
      row.allSatisfy { $0.index == o || $0.weight == 0 } && row.reduce(0) { $0 + $1.weight } == 1
    }
  }
}

/// ONNX's antialiasing filter for downsampling by `scale` < 1: the triangle (linear) or
/// Keys cubic kernel evaluated at scale * distance, over every tap it reaches, normalized
/// to sum 1.
private struct AntialiasFilter {
  /// Keys' `a` for cubic; nil for the linear triangle.
  let cubicA: Double?
  let scale: Double

  /// (offset from the base tap, weight) for a source coordinate `ratio` in (0, 1] past it.
  func taps(at ratio: Double) -> [(offset: Int, weight: Double)] {
    let support = cubicA == nil ? 1.0 : 2.0
    let start = Int((-support / scale).rounded(.down)) + 1
    let row = (start..<(2 - start)).map { i in (offset: i, weight: kernel(scale * (Double(i) - ratio))) }
    let sum = row.reduce(0) { $0 + $1.weight }
    return row.map { ($0.offset, $0.weight / sum) }
  }

  private func kernel(_ s: Double) -> Double {
    let x = Swift.abs(s)
    guard let a = cubicA else { return Swift.max(0, 1 - x) }
    if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return 0
  }
}

/// Keys' cubic convolution weights for the taps at floor-1 ... floor+2.
private func cubicCoefficients(_ t: Double, _ a: Double) -> [Double] {
  let far = { (s: Double) in ((a * s - 5 * a) * s + 8 * a) * s - 4 * a }
  let near = { (s: Double) in ((a + 2) * s - (a + 3)) * s * s + 1 }
  return [far(t + 1), near(t), near(1 - t), far(2 - t)]
}
