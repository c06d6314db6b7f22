//===--- Resize.swift - Resize and Upsample -------------------------------===//
//
// The IR's resize always carries the output `sizes`; `scales` is kept when the model
// gives them (coordinates map through the scales, as ONNX specifies). Upsample and
// opset-10 Resize are asymmetric resizes (nearest rounds down).

import SparrowIR

let resizeConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["Upsample"] = { n in
    let x = try n.input(0)
    let scales = n.opset < 9 ? try n.floats("scales") ?? [] : try n.constantInput(1, "scales").doubles.map(Float.init)
    return [try emitResize(n, x, scales: scales, sizes: nil, roi: nil, legacy: true)]
  }
  t["Resize"] = { n in
    let x = try n.input(0)
    let rank = n.shape(x).count
    if n.opset < 11 {
      let scales = try n.constantInput(1, "scales").doubles.map(Float.init)
      return [try emitResize(n, x, scales: scales, sizes: nil, roi: nil, legacy: true)]
    }
    let roi = try n.optionalConstantInput(1, "roi").map { $0.doubles.map(Float.init) }
    var scales = try n.optionalConstantInput(2, "scales").map { $0.doubles.map(Float.init) }
    var sizes = try n.optionalConstantInput(3, "sizes")?.ints
    if scales?.isEmpty == true { scales = nil }
    if sizes?.isEmpty == true { sizes = nil }
    // Opset 18 `axes`: scales/sizes name only some axes.
    if let axesList = try n.ints("axes") {
      let axes = try n.axes(axesList, rank: rank)
      if let s = scales {
        guard s.count == axes.count else { throw n.error("Resize has \(s.count) scales for \(axes.count) axes") }
        var full = [Float](repeating: 1, count: rank)
        for (i, a) in axes.enumerated() { full[a] = s[i] }
        scales = full
      }
      if let s = sizes {
        guard s.count == axes.count else { throw n.error("Resize has \(s.count) sizes for \(axes.count) axes") }
        var full = n.shape(x)
        for (i, a) in axes.enumerated() { full[a] = s[i] }
        sizes = full
      }
      if var r = roi, r.count == 2 * axes.count {
        var full = [Float](repeating: 0, count: rank) + [Float](repeating: 1, count: rank)
        for (i, a) in axes.enumerated() { full[a] = r[i]; full[rank + a] = r[axes.count + i] }
        r = full
        return [try emitResize(n, x, scales: scales, sizes: sizes, roi: r, legacy: false)]
      }
    }
    let policy = try n.string("keep_aspect_ratio_policy", "stretch")
    if let s = sizes, policy != "stretch" {
      let input = n.shape(x)
      let axes = try n.ints("axes").map { try n.axes($0, rank: rank) } ?? Array(0..<rank)
      let ratios = axes.map { Float(s[$0]) / Float(input[$0]) }
      guard let scale = policy == "not_larger" ? ratios.min() : ratios.max() else { return [x] }
      var out = input
      for a in axes { out[a] = Int((Float(input[a]) * scale).rounded()) }
      var sc = [Float](repeating: 1, count: rank)
      for a in axes { sc[a] = scale }
      return [try emitResize(n, x, scales: sc, sizes: out, roi: roi, legacy: false)]
    }
    return [try emitResize(n, x, scales: scales, sizes: sizes, roi: roi, legacy: false)]
  }
  return t
}()

private func emitResize(_ n: ONNXNode, _ x: ValueID, scales: [Float]?, sizes: [Int]?, roi: [Float]?,
                        legacy: Bool) throws -> ValueID {
  let input = n.shape(x)
  var a: [String: AttributeValue] = [:]
  let out: [Int]
  if let s = sizes {
    guard s.count == input.count else { throw n.error("Resize sizes \(s) do not match rank \(input.count)") }
    out = s
    if let sc = scales, sc.count == input.count { a["scales"] = .floats(sc) }
  } else if let sc = scales {
    guard sc.count == input.count, zip(input, sc).allSatisfy({ $1 > 0 && Double($0) * Double($1) < Double(1 << 31) }) else {
      throw n.error("Resize scales \(sc) do not fit rank \(input.count)")
    }
    out = zip(input, sc).map { Int((Float($0) * $1).rounded(.down)) }
    a["scales"] = .floats(sc)
  } else {
    throw n.error("Resize needs scales or sizes")
  }
  a["sizes"] = .ints(out)
  var mode = try n.string("mode", "nearest")
  if mode == "bilinear" || mode == "trilinear" { mode = "linear" }
  guard ["nearest", "linear", "cubic"].contains(mode) else { throw n.error("unknown Resize mode '\(mode)'") }
  a["mode"] = .string(mode)
  if legacy {
    a["coordinate_transformation_mode"] = .string("asymmetric")
    a["nearest_mode"] = .string("floor")
  } else {
    a["coordinate_transformation_mode"] = .string(try n.string("coordinate_transformation_mode", "half_pixel"))
    a["nearest_mode"] = .string(try n.string("nearest_mode", "round_prefer_floor"))
    a["cubic_coeff_a"] = .float(try n.float("cubic_coeff_a", -0.75))
    a["exclude_outside"] = .bool(try n.int("exclude_outside", 0) != 0)
    a["extrapolation_value"] = .float(try n.float("extrapolation_value", 0))
    if try n.int("antialias", 0) != 0 && mode != "nearest" { a["antialias"] = .bool(true) }
    if let r = roi, r.count == 2 * input.count { a["roi"] = .floats(r) }
  }
  let cropping = try !legacy && n.string("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize"
  let mapsToItself = out == input && (scales ?? []).allSatisfy({ $0 == 1 }) && !cropping
  if mapsToItself { return x }
  return try n.emit1(.resize, [x], a)
}
