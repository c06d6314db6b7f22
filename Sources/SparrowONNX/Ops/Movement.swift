//===--- Movement.swift - reshapes, transposes, concat, split, slice, pad -===//
//
// Shape-like inputs (Reshape's shape, Squeeze/Unsqueeze axes, Slice starts/ends, Pad
// pads, Split sizes, Tile repeats, Expand's shape) became inputs in newer opsets; all
// must be known at import and become explicit attributes. Squeeze, Unsqueeze and
// Flatten are reshapes. Reshape's 0 copies the input dim (unless allowzero) and -1 is
// inferred.

import SparrowIR

let movementConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["Reshape"] = { n in
    let x = try n.input(0)
    let spec = n.opset < 5 ? (try n.ints("shape") ?? []) : try n.constantInput(1, "shape").ints
    let allowZero = try n.opset >= 14 && n.int("allowzero", 0) != 0
    return [try n.reshape(x, try resolveReshape(n, n.shape(x), spec, allowZero: allowZero))]
  }
  t["Flatten"] = { n in
    let x = try n.input(0)
    let s = n.shape(x)
    var axis = try n.int("axis", 1)
    if axis < 0 { axis += s.count }
    guard axis >= 0 && axis <= s.count else { throw n.error("Flatten axis \(axis) out of range for rank \(s.count)") }
    return [try n.reshape(x, [s[..<axis].reduce(1, *), s[axis...].reduce(1, *)])]
  }
  t["Squeeze"] = { n in
    let x = try n.input(0)
    let s = n.shape(x)
    let given = n.opset < 13 ? try n.ints("axes") : try n.optionalConstantInput(1, "axes")?.ints
    let axes = try given.map { try n.axes($0, rank: s.count) } ?? s.indices.filter { s[$0] == 1 }
    for a in axes where s[a] != 1 { throw n.error("cannot squeeze axis \(a) of size \(s[a]) in \(s)") }
    return [try n.reshape(x, s.indices.filter { !axes.contains($0) }.map { s[$0] })]
  }
  t["Unsqueeze"] = { n in
    let x = try n.input(0)
    let s = n.shape(x)
    guard let given = n.opset < 13 ? try n.ints("axes") : try n.constantInput(1, "axes").ints else {
      throw n.error("Unsqueeze needs axes")
    }
    let axes = try n.axes(given, rank: s.count + given.count)
    var out: [Int] = []
    var next = 0
    for i in 0..<(s.count + axes.count) {
      if axes.contains(i) { out.append(1) } else { out.append(s[next]); next += 1 }
    }
    return [try n.reshape(x, out)]
  }
  t["Transpose"] = { n in
    let x = try n.input(0)
    let rank = n.shape(x).count
    let perm = try n.ints("perm").map { try n.axes($0, rank: rank) } ?? Array((0..<rank).reversed())
    if perm == Array(0..<rank) { return [x] }
    return [try n.emit1(.transpose, [x], ["perm": .ints(perm)])]
  }
  t["Expand"] = { n in
    [try n.emit1(.expand, [try n.input(0)], ["shape": .ints(try n.constantInput(1, "shape").ints)])]
  }
  t["Tile"] = { n in
    [try n.emit1(.tile, [try n.input(0)], ["repeats": .ints(try n.constantInput(1, "repeats").ints)])]
  }
  t["Concat"] = { n in
    let xs = try n.inputs()
    guard let first = xs.first else { throw n.error("Concat needs at least one input") }
    let axis = try n.axis(try n.int("axis", 1), rank: n.shape(first).count)
    // Empty operands add nothing (exporters produce them for zero-length pieces).
    let parts = xs.count > 1 ? xs.filter { n.type($0).count > 0 } : xs
    if parts.count == 1 { return [parts[0]] }
    return [try n.emit1(.concat, parts.isEmpty ? xs : parts, ["axis": .int(axis)])]
  }
  t["CenterCropPad"] = { n in
    let x = try n.input(0)
    let s = n.shape(x)
    let target = try n.constantInput(1, "shape").ints
    let axes = try n.axes(try n.ints("axes") ?? Array(0..<s.count), rank: s.count)
    guard target.count == axes.count else { throw n.error("CenterCropPad shape \(target) does not match axes \(axes)") }
    var starts: [Int] = [], ends: [Int] = [], cropAxes: [Int] = []
    var pads = [Int](repeating: 0, count: 2 * s.count)
    for (a, want) in zip(axes, target) {
      if want < s[a] {
        let begin = (s[a] - want) / 2
        starts.append(begin); ends.append(begin + want); cropAxes.append(a)
      } else if want > s[a] {
        pads[a] = (want - s[a]) / 2
        pads[s.count + a] = want - s[a] - pads[a]
      }
    }
    var y = x
    if !cropAxes.isEmpty {
      y = try n.emit1(.slice, [y], ["starts": .ints(starts), "ends": .ints(ends), "axes": .ints(cropAxes),
                                    "steps": .ints([Int](repeating: 1, count: cropAxes.count))])
    }
    if pads.contains(where: { $0 != 0 }) { y = try n.emit1(.pad, [y], ["pads": .ints(pads)]) }
    return [y == x ? try n.emit1(.identity, [x]) : y]
  }
  t["Split"] = convertSplit
  t["Slice"] = convertSlice
  t["Pad"] = convertPad
  return t
}()

/// The explicit target shape of an ONNX Reshape.
func resolveReshape(_ n: ONNXNode, _ input: [Int], _ spec: [Int], allowZero: Bool) throws -> [Int] {
  var out = spec
  var inferred: Int?
  for (i, d) in spec.enumerated() {
    if d == 0 && !allowZero {
      guard i < input.count else { throw n.error("Reshape shape \(spec): 0 at \(i) has no input dim to copy") }
      out[i] = input[i]
    } else if d == -1 {
      guard inferred == nil else { throw n.error("Reshape shape \(spec) has more than one -1") }
      inferred = i
    } else if d < 0 {
      throw n.error("Reshape shape \(spec) has a negative dim")
    }
  }
  let total = input.reduce(1, *)
  if let i = inferred {
    guard let known = checkedProduct(out.enumerated().filter { $0.offset != i }.map(\.element)),
          known > 0, total % known == 0 else { throw n.error("cannot reshape \(input) to \(spec)") }
    out[i] = total / known
  }
  guard checkedProduct(out) == total else { throw n.error("cannot reshape \(input) to \(spec)") }
  return out
}

private func convertSplit(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0)
  let s = n.shape(x)
  let axis = try n.axis(try n.int("axis", 0), rank: s.count)
  var sizes: [Int]?
  if n.opset < 13 {
    sizes = try n.ints("split")
    if sizes == nil, let t = try n.optionalConstantInput(1, "split") { sizes = t.ints }
  } else {
    sizes = try n.optionalConstantInput(1, "split")?.ints
  }
  if sizes == nil || sizes!.isEmpty {
    let parts = try n.optionalInt("num_outputs") ?? n.outputCount
    guard parts > 0 else { throw n.error("Split has no outputs") }
    let dim = s[axis]
    if n.opset >= 18 {
      let chunk = (dim + parts - 1) / parts
      sizes = (0..<parts).map { max(0, min(chunk, dim - $0 * chunk)) }
    } else {
      guard dim % parts == 0 else { throw n.error("Split of \(dim) into \(parts) equal parts") }
      sizes = [Int](repeating: dim / parts, count: parts)
    }
  }
  return try n.emit(.split, [x], ["axis": .int(axis), "sizes": .ints(sizes!)])
}

private func convertSlice(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0)
  let s = n.shape(x)
  var starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
  if n.opset < 10 {
    guard let st = try n.ints("starts", allowHuge: true), let en = try n.ints("ends", allowHuge: true) else { throw n.error("Slice needs starts and ends") }
    (starts, ends, axes, steps) = (st, en, try n.ints("axes"), nil)
  } else {
    starts = try n.constantInput(1, "starts").ints
    ends = try n.constantInput(2, "ends").ints
    axes = try n.optionalConstantInput(3, "axes")?.ints
    steps = try n.optionalConstantInput(4, "steps")?.ints
  }
  let ax = try n.axes(axes ?? Array(0..<starts.count), rank: s.count)
  let st = steps ?? [Int](repeating: 1, count: starts.count)
  guard ends.count == starts.count, ax.count == starts.count, st.count == starts.count else {
    throw n.error("Slice starts/ends/axes/steps have different lengths")
  }
  guard st.allSatisfy({ $0 != 0 }) else { throw n.error("Slice step 0") }
  // Clamp huge sentinel values (INT64_MAX and friends) so attributes stay printable.
  func clamp(_ v: Int, _ axis: Int) -> Int { min(max(v, -s[axis] - 1), s[axis] + 1) }
  let cs = zip(starts, ax).map { clamp($0, $1) }, ce = zip(ends, ax).map { clamp($0, $1) }
  if zip(zip(cs, ce), zip(ax, st)).allSatisfy({ p in
    p.1.1 == 1 && sliceRange(start: p.0.0, end: p.0.1, step: 1, dim: s[p.1.0]) == (0, s[p.1.0])
  }) { return [x] }
  return [try n.emit1(.slice, [x], ["starts": .ints(cs), "ends": .ints(ce), "axes": .ints(ax), "steps": .ints(st)])]
}

private func convertPad(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0)
  let rank = n.shape(x).count
  var pads: [Int]
  var value: Float = 0
  if n.opset < 11 {
    guard let p = try n.ints(n.opset < 2 ? "paddings" : "pads") ?? n.ints("pads") else { throw n.error("Pad needs pads") }
    pads = p
    value = try n.float("value", 0)
  } else {
    pads = try n.constantInput(1, "pads").ints
    if let v = try n.optionalConstantInput(2, "constant_value") {
      guard v.count == 1 else { throw n.error("Pad constant_value must be a scalar") }
      value = Float(v.double(at: 0))
    }
    if let axesT = try n.optionalConstantInput(3, "axes") {
      let axes = try n.axes(axesT.ints, rank: rank)
      guard pads.count == 2 * axes.count else { throw n.error("Pad has \(pads.count) pads for \(axes.count) axes") }
      var full = [Int](repeating: 0, count: 2 * rank)
      for (i, a) in axes.enumerated() {
        full[a] = pads[i]
        full[rank + a] = pads[axes.count + i]
      }
      pads = full
    }
  }
  guard pads.count == 2 * rank else { throw n.error("Pad has \(pads.count) pads for rank \(rank)") }
  let mode = try n.string("mode", "constant")
  guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw n.error("unknown Pad mode '\(mode)'") }
  if pads.allSatisfy({ $0 == 0 }) { return [x] }
  return [try n.emit1(.pad, [x], ["pads": .ints(pads), "mode": .string(mode), "value": .float(value)])]
}

/// The product of `dims`, or nil when it overflows or passes 2^40.
func checkedProduct(_ dims: [Int]) -> Int? {
  var p = 1
  for d in dims {
    let (r, overflow) = p.multipliedReportingOverflow(by: d)
    guard !overflow, r <= 1 << 40, r >= -(1 << 40) else { return nil }
    p = r
  }
  return p
}
