//===--- GridSample.swift - GridSample as gathers over separable taps -----===//
//
// X [N, C, D1..Dk] sampled at grid [N, O1..Ok, k] (last entry = x, along the last axis):
// per spatial axis s, the grid coordinate is denormalized to a pixel position
// (align_corners: (g + 1) / 2 * (L - 1), else ((g + 1) * L - 1) / 2), rounded half to
// even for `nearest`; outside [lo, hi] (lo, hi = 0, L-1 or -0.5, L-0.5) it is clamped
// (`border`) or reflected (`reflection`). Each axis contributes taps (1 nearest, 2 linear,
// 4 cubic with Keys' a = -0.75) with weights and pixel indices; an index outside the
// image reads 0 (`zeros`), the edge (`border`) or its reflection. Every combination of
// taps is one gather_elements over the flattened image, weighted and summed. This follows
// the ONNX reference tap by tap; it is a frontend decomposition, not a kernel (fine for
// small grids: 2^k, 4^k gathers).

import SparrowIR

let gridSampleConverters: [String: Converter] = ["GridSample": convertGridSample]

enum Interpolation { case nearest, linear, cubic }
enum Padding { case zeros, border, reflection }

/// One tap of a separable interpolation along one axis: its weight (nil = 1), the pixel
/// index it reads (a float in [0, length - 1]) and whether the read is inside (nil = always).
typealias AxisTap = (weight: ValueID?, index: ValueID, valid: ValueID?)

/// The taps reading position `p` along an axis of `length` pixels; [lo, hi] is the
/// reflection range.
func taps(_ a: Arithmetic, _ p: ValueID, length: Double, lo: Double, hi: Double,
          _ interpolation: Interpolation, _ padding: Padding) throws -> [AxisTap] {
  let n = a.n
  // Pixel index `i` (a float) read with the padding rule: (index in range, valid mask).
  func pixel(_ i: ValueID) throws -> (ValueID, ValueID?) {
    switch padding {
    case .zeros:
      let inside = try n.emit1(.not, [try a.outside(i, 0, length - 1)])
      return (try a.clamp(i, 0, length - 1), inside)
    case .border: return (try a.clamp(i, 0, length - 1), nil)
    case .reflection:
      let r = try a.reflect(i, lo, hi)
      return (try a.clamp(try a.truncate(r), 0, length - 1), nil)
    }
  }
  var taps: [AxisTap] = []
  switch interpolation {
  case .nearest:
    let (i, valid) = try pixel(try a.truncate(p))
    taps = [(nil, i, valid)]
  case .linear:
    let base = try a.floor(p)
    let t = try a.sub(p, base)
    for (offset, w) in [(0.0, try a.sub(a.c(1), t)), (1.0, t)] {
      let (i, valid) = try pixel(try a.add(base, a.c(offset)))
      taps.append((w, i, valid))
    }
  case .cubic:
    let base = try a.floor(p)
    let t = try a.sub(p, base)
    for (offset, w) in zip([-1.0, 0, 1, 2], try cubicWeights(a, t)) {
      let (i, valid) = try pixel(try a.add(base, a.c(offset)))
      taps.append((w, i, valid))
    }
  }
  return taps
}

/// Elementwise helpers over one node's emitted values.
struct Arithmetic {
  let n: ONNXNode
  let element: ElementType
  func c(_ v: Double) -> ValueID { n.scalar(v, element, "c") }
  func op(_ k: OpKind, _ a: ValueID, _ b: ValueID) throws -> ValueID { try n.emit1(k, [a, b]) }
  func add(_ a: ValueID, _ b: ValueID) throws -> ValueID { try op(.add, a, b) }
  func sub(_ a: ValueID, _ b: ValueID) throws -> ValueID { try op(.sub, a, b) }
  func mul(_ a: ValueID, _ b: ValueID) throws -> ValueID { try op(.mul, a, b) }
  func div(_ a: ValueID, _ b: ValueID) throws -> ValueID { try op(.div, a, b) }
  func floor(_ a: ValueID) throws -> ValueID { try n.emit1(.floor, [a]) }
  /// Rounds toward zero.
  func truncate(_ a: ValueID) throws -> ValueID {
    try select(try op(.less, a, c(0)), try n.emit1(.ceil, [a]), try floor(a))
  }
  func select(_ m: ValueID, _ a: ValueID, _ b: ValueID) throws -> ValueID { try n.emit1(.where, [m, a, b]) }
  func clamp(_ a: ValueID, _ lo: Double, _ hi: Double) throws -> ValueID {
    try n.emit1(.clip, [a], ["min": .float(Float(lo)), "max": .float(Float(hi))])
  }
  func outside(_ a: ValueID, _ lo: Double, _ hi: Double) throws -> ValueID {
    try n.emit1(.or, [try op(.less, a, c(lo)), try op(.greater, a, c(hi))])
  }
  /// Reflects `x` by the nearer border until it lies in [lo, hi] (the reference's rule).
  func reflect(_ x: ValueID, _ lo: Double, _ hi: Double) throws -> ValueID {
    let range = hi - lo
    func folded(_ dx: ValueID, evenBase: Double, evenSign: Double, oddBase: Double, oddSign: Double) throws -> ValueID {
      let count = try floor(try div(dx, c(range)))
      let r = try sub(dx, try mul(count, c(range)))
      let half = try floor(try div(count, c(2)))
      let even = try op(.equal, try sub(count, try mul(half, c(2))), c(0))
      return try select(even, try add(c(evenBase), try mul(r, c(evenSign))), try add(c(oddBase), try mul(r, c(oddSign))))
    }
    let below = try folded(try sub(c(lo), x), evenBase: lo, evenSign: 1, oddBase: hi, oddSign: -1)
    let above = try folded(try sub(x, c(hi)), evenBase: hi, evenSign: -1, oddBase: lo, oddSign: 1)
    return try select(try op(.less, x, c(lo)), below, try select(try op(.greater, x, c(hi)), above, x))
  }
}

private func convertGridSample(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0), grid = try n.input(1)
  let xs = n.shape(x), gs = n.shape(grid)
  let k = xs.count - 2
  guard k >= 1, k <= 3, gs.count == k + 2, gs[0] == xs[0], gs.last == k else {
    throw n.error("GridSample needs X [N, C, D1..Dk] (k = 1 to 3) and grid [N, O1..Ok, k], got \(n.type(x)) and \(n.type(grid))")
  }
  let element = n.type(x).element
  guard element.isFloat, n.type(grid).element == element else {
    throw n.error("GridSample needs X and grid of the same floating type, got \(n.type(x)) and \(n.type(grid))")
  }
  let interpolation: Interpolation
  switch try n.string("mode", n.opset >= 20 ? "linear" : "bilinear") {
  case "nearest": interpolation = .nearest
  case "linear", "bilinear": interpolation = .linear
  case "cubic", "bicubic": interpolation = .cubic
  case let other: throw n.error("GridSample mode '\(other)' is not nearest, linear or cubic")
  }
  let padding: Padding
  switch try n.string("padding_mode", "zeros") {
  case "zeros": padding = .zeros
  case "border": padding = .border
  case "reflection": padding = .reflection
  case let other: throw n.error("GridSample padding_mode '\(other)' is not zeros, border or reflection")
  }
  let alignCorners = try n.int("align_corners", 0) != 0
  let (batch, channels) = (xs[0], xs[1])
  let spatial = Array(xs[2...]), outSpatial = Array(gs[1...k])
  let points = outSpatial.reduce(1, *), pixels = spatial.reduce(1, *)
  let a = Arithmetic(n: n, element: element)
  let flatGrid = try n.reshape(grid, [batch, points, k])

  // Per axis: the taps' (weight, index, valid) triples, each [N, P].
  var axisTaps: [[AxisTap]] = []
  for s in 0..<k {
    let length = Double(spatial[s])
    let g = try n.take(flatGrid, axis: 2, k - 1 - s)
    var p = alignCorners
      ? try a.mul(try a.add(g, a.c(1)), a.c((length - 1) / 2))
      : try a.div(try a.sub(try a.mul(try a.add(g, a.c(1)), a.c(length)), a.c(1)), a.c(2))
    if interpolation == .nearest { p = try n.emit1(.round, [p]) }
    let (lo, hi) = alignCorners ? (0.0, length - 1) : (-0.5, length - 0.5)
    switch padding {
    case .zeros: break
    case .border: p = try a.select(try a.outside(p, lo, hi), try a.clamp(p, 0, length - 1), p)
    case .reflection: p = try a.reflect(p, lo, hi)
    }
    axisTaps.append(try taps(a, p, length: length, lo: lo, hi: hi, interpolation, padding))
  }

  let sum = try gatherTaps(a, try n.reshape(x, [batch, channels, pixels]), axisTaps, spatial: spatial)
  return [try n.reshape(sum, [batch, channels] + outSpatial)]
}

/// Keys' cubic convolution weights (a = -0.75) of the taps at -1, 0, 1, 2 for offset t in [0, 1).
private func cubicWeights(_ a: Arithmetic, _ t: ValueID) throws -> [ValueID] {
  let alpha = -0.75
  // Outer taps, distance d in [1, 2]: ((alpha * (d) - 5 alpha) * d + 8 alpha) * d - 4 alpha.
  func outer(_ d: ValueID) throws -> ValueID {
    let inner = try a.add(try a.mul(try a.sub(try a.mul(d, a.c(alpha)), a.c(5 * alpha)), d), a.c(8 * alpha))
    return try a.sub(try a.mul(inner, d), a.c(4 * alpha))
  }
  // Inner taps, distance d in [0, 1]: ((alpha + 2) * d - (alpha + 3)) * d * d + 1.
  func near(_ d: ValueID) throws -> ValueID {
    let inner = try a.sub(try a.mul(d, a.c(alpha + 2)), a.c(alpha + 3))
    return try a.add(try a.mul(try a.mul(inner, d), d), a.c(1))
  }
  let oneMinus = try a.sub(a.c(1), t)
  return [try outer(try a.add(t, a.c(1))), try near(t), try near(oneMinus), try outer(try a.sub(a.c(2), t))]
}

/// Σ over every combination of per-axis taps of weight · image[flat index]: `image` is
/// [N, C, pixels] (pixels = Π spatial), the taps' values [N, P]; returns [N, C, P].
func gatherTaps(_ a: Arithmetic, _ image: ValueID, _ axisTaps: [[AxisTap]], spatial: [Int]) throws -> ValueID {
  let n = a.n, element = a.element
  let (batch, channels) = (n.shape(image)[0], n.shape(image)[1])
  let k = spatial.count
  let points = n.shape(axisTaps[0][0].index)[1]
  let strides = (0..<k).map { s in spatial[(s + 1)...].reduce(1, *) }
  var sum: ValueID?
  var combination = [Int](repeating: 0, count: k)
  while true {
    var flatIndex: ValueID?, weight: ValueID?
    for s in 0..<k {
      let tap = axisTaps[s][combination[s]]
      let index = try a.mul(try n.emit1(.cast, [tap.index], ["to": .type(.i64)]), n.scalar(Double(strides[s]), .i64, "stride"))
      flatIndex = try flatIndex.map { try a.add($0, index) } ?? index
      var w = tap.weight
      if let valid = tap.valid {
        let mask = try n.emit1(.cast, [valid], ["to": .type(element)])
        w = try w.map { try a.mul($0, mask) } ?? mask
      }
      if let w { weight = try weight.map { try a.mul($0, w) } ?? w }
    }
    let index = try n.emit1(.expand, [try n.reshape(flatIndex!, [batch, 1, points])], ["shape": .ints([batch, channels, points])])
    var value = try n.emit1(.gather_elements, [image, index], ["axis": .int(2)])
    if let weight { value = try a.mul(value, try n.reshape(weight, [batch, 1, points])) }
    sum = try sum.map { try a.add($0, value) } ?? value
    var s = k - 1
    while s >= 0 {
      combination[s] += 1
      if combination[s] < axisTaps[s].count { break }
      combination[s] = 0
      s -= 1
    }
    if s < 0 { break }
  }
  return sum!
}
