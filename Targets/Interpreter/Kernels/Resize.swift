//===--- Resize.swift - nearest, linear and cubic resize over any axes ---===//
//
// Resize is separable: each axis maps every output index to input taps (index, weight).
// Nearest picks one tap per axis and moves bytes (any element type); linear and cubic
// apply the taps axis by axis in Double (f32/f64). The output size is `sizes`; the
// coordinate transform uses `scales` when given (as ONNX does), else sizes / input.
// With tf_crop_and_resize an output whose source coordinate falls outside the input on
// any axis is `extrapolation_value`. With `antialias`, a downsampling linear or cubic axis
// stretches its filter by 1 / scale (more taps, each weighted at scale * distance).

import SparrowIR

func evaluateResize(_ k: KernelArgs) throws -> [Tensor] {
  let x = k.inputs[0], out = k.type()
  let a = k.attributes
  let rank = x.shape.count
  let mode = a.string("mode")
  let scales = a.has("scales") ? a.floats("scales").map(Double.init)
    : (0..<rank).map { x.shape[$0] == 0 ? 1 : Double(out.shape[$0]) / Double(x.shape[$0]) }
  guard scales.count == rank, scales.allSatisfy({ $0 > 0 }) else { throw k.unsupported("scales \(scales)") }
  guard out.count == 0 || x.count > 0 else { throw k.unsupported("resizing an empty tensor \(x.type)") }
  let transform = a.string("coordinate_transformation_mode")
  let roi = a.has("roi") ? a.floats("roi").map(Double.init) : []
  if transform == "tf_crop_and_resize" && roi.count != 2 * rank {
    throw Diagnostic("resize with tf_crop_and_resize needs roi of \(2 * rank) values, got \(roi.count)")
  }
  var axes: [ResizeAxis] = []
  for axis in 0..<rank {
    let coordinate = try CoordinateTransform(transform, input: x.shape[axis], output: out.shape[axis],
                                             scale: scales[axis],
                                             roi: roi.isEmpty ? nil : (roi[axis], roi[rank + axis]), k)
    axes.append(try ResizeAxis(mode: mode, coordinate, input: x.shape[axis], output: out.shape[axis],
                               scale: scales[axis], attributes: a, k))
  }
  let outside = axes.map(\.outside)
  let extrapolation = Double(a.float("extrapolation_value"))
  if mode == "nearest" {
    let maps = axes.map { $0.taps.map { $0[0].index } }
    var y = gatherAxes(x, maps: maps, fill: [], as: out)
    if transform == "tf_crop_and_resize" { fillOutside(&y, outside, with: extrapolation) }
    return [y]
  }
  guard let t = kernelFloatType(x.element) else { throw k.unsupported("\(mode) resize of \(x.element)") }
  // f32 named statically so the loops are specialized for it.
  var y = x.element == .f32 ? interpolate(x, axes, as: out, Float.self) : interpolate(x, axes, as: out, t)
  if transform == "tf_crop_and_resize" { fillOutside(&y, outside, with: extrapolation) }
  return [y]
}

/// Maps an output coordinate to the input coordinate along one axis.
private struct CoordinateTransform {
  let map: (Double) -> Double

  init(_ mode: String, input: Int, output: Int, scale: Double, roi: (Double, Double)?,
       _ k: KernelArgs) throws {
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
    default: throw k.unsupported("coordinate_transformation_mode '\(mode)'")
    }
  }
}

/// One axis of a resize: the input taps of each output index, and the output indices
/// whose source coordinate lies outside the input (used by tf_crop_and_resize).
private struct ResizeAxis {
  var taps: [[(index: Int, weight: Double)]] = []
  var outside: Set<Int> = []
  let identity: Bool

  init(mode: String, _ transform: CoordinateTransform, input: Int, output: Int, scale: Double,
       attributes a: Attributes, _ k: KernelArgs) throws {
    let nearest = a.string("nearest_mode")
    let cubicA = Double(a.float("cubic_coeff_a"))
    let excludeOutside = a.bool("exclude_outside")
    let clampIndex = { (i: Int) in min(max(i, 0), input - 1) }
    let floorIndex = { (x: Double) in x.isFinite ? Int(min(max(x.rounded(.down), -4), Double(input + 4))) : 0 }
    guard ["nearest", "linear", "cubic"].contains(mode) else { throw k.unsupported("mode '\(mode)'") }
    guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearest) else {
      throw k.unsupported("nearest_mode '\(nearest)'")
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

/// Applies the taps axis by axis (skipping identity axes).
private func interpolate<T: KernelFloat>(_ x: some TensorBytes, _ axes: [ResizeAxis], as out: TensorType,
                                         _: T.Type) -> Tensor {
  var shape = x.shape
  var values = x.withUnsafeBuffer(of: T.self) { $0.map { Double($0) } }
  for (axis, resize) in axes.enumerated() where !resize.identity {
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    let (n, m) = (shape[axis], resize.taps.count)
    // Taps flattened: output j reads (index, weight) pairs starts[j]..<starts[j + 1].
    var indices: [Int] = [], weights: [Double] = [], starts = [0]
    for row in resize.taps {
      for (index, weight) in row where weight != 0 { indices.append(index); weights.append(weight) }
      starts.append(indices.count)
    }
    var next = [Double](repeating: 0, count: outer * m * inner)
    values.withUnsafeBufferPointer { src in
      next.withUnsafeMutableBufferPointer { dst in
        for o in 0..<outer {
          for j in 0..<m {
            let d = dst.baseAddress! + (o * m + j) * inner
            for t in starts[j]..<starts[j + 1] {
              let s = src.baseAddress! + (o * n + indices[t]) * inner
              let w = weights[t]
              for i in 0..<inner { d[i] += w * s[i] }
            }
          }
        }
      }
    }
    values = next
    shape[axis] = m
  }
  return Tensor.computed(out, of: T.self) { y in
    values.withUnsafeBufferPointer { v in
      for i in 0..<v.count { y[i] = T(v[i]) }
    }
  }
}

/// Sets elements whose index is outside on any axis to `value`.
private func fillOutside(_ y: inout Tensor, _ outside: [Set<Int>], with value: Double) {
  if outside.allSatisfy(\.isEmpty) { return }
  let bytes = elementBytes(value, as: y.element)
  let es = bytes.count
  let strides = contiguousStrides(y.shape)
  for flat in 0..<y.count {
    var rest = flat
    var out = false
    for (axis, s) in strides.enumerated() {
      if outside[axis].contains(rest / s) { out = true; break }
      rest %= s
    }
    if out { y.bytes.replaceSubrange((flat * es)..<((flat + 1) * es), with: bytes) }
  }
}
