//===--- ShapeRules+Spatial.swift - conv, pooling, einsum, recurrent -----===//

/// Output size of a sliding window along one axis.
public func windowOutputSize(input: Int, kernel: Int, stride: Int, padBegin: Int, padEnd: Int,
                             dilation: Int, ceilMode: Bool) -> Int {
  let span = (kernel - 1) * dilation + 1
  let padded = input + padBegin + padEnd - span
  if padded < 0 { return 0 }
  var out = (ceilMode ? (padded + stride - 1) / stride : padded / stride) + 1
  // With ceil_mode the last window must start inside the input or the begin padding.
  if ceilMode && (out - 1) * stride >= input + padBegin { out -= 1 }
  return out
}

func checkWindow(_ a: Attributes, spatial: Int, kernel: [Int]) throws {
  let strides = a.ints("strides"), pads = a.ints("pads"), dil = a.ints("dilations")
  // Bounds keep the window arithmetic far from overflow for any input size.
  let limit = 1 << 24
  try expect(kernel.count == spatial && kernel.allSatisfy { $0 > 0 && $0 <= limit },
             "kernel \(kernel) does not match \(spatial) spatial axes")
  try expect(strides.count == spatial && strides.allSatisfy { $0 > 0 && $0 <= limit }, "bad strides \(strides)")
  try expect(dil.count == spatial && dil.allSatisfy { $0 > 0 && $0 <= limit }, "bad dilations \(dil)")
  try expect(pads.count == 2 * spatial && pads.allSatisfy { $0 >= 0 && $0 <= limit },
             "bad pads \(pads) (want [begin..., end...])")
}

func convType(_ x: [TensorType], _ a: Attributes) throws -> TensorType {
  switch a.convLayout {
  case .nchw: return try channelsFirstConvType(x, a)
  case .nhwc:
    // The rule in NCHW terms, with the input and result axes permuted around it.
    let input = x[0]
    try expect(input.rank >= 3, "conv input \(input) has no spatial axes")
    var channelsFirst = x
    channelsFirst[0] = TensorType(input.element, ConvLayout.channelsFirst(input.shape))
    let out = try channelsFirstConvType(channelsFirst, a)
    try expect(ConvLayout.mayRunChannelsLast(a, input: channelsFirst[0], weight: x[1]),
               "conv layout \"nhwc\" needs a 2-D conv with group 1 and algorithm gemm1x1, im2col or winograd2/4, "
               + "or a depthwise one without a channel multiplier, and a dense weight (got \(input.rank - 2)-D, group "
               + "\(a.int("group")), algorithm \(a.convAlgorithm.map { "\"\($0.rawValue)\"" } ?? "unchosen"), weight \(x[1]))")
    return TensorType(out.element, ConvLayout.channelsLast(out.shape))
  }
}

private func channelsFirstConvType(_ x: [TensorType], _ a: Attributes) throws -> TensorType {
  let (input, w) = (x[0], x[1])
  try expect(input.rank >= 3 && w.rank == input.rank, "conv input \(input) and weight \(w) ranks do not fit")
  let g = a.int("group")
  let spatial = input.rank - 2
  let kernel = Array(w.shape[2...])
  try checkWindow(a, spatial: spatial, kernel: kernel)
  try expect(g >= 1 && input.shape[1] == (try checkedProduct(w.shape[1], g)) && w.shape[0] % g == 0,
             "conv channels do not fit: input \(input), weight \(w), group \(g)")
  if x.count == 3 { try expect(x[2].shape == [w.shape[0]], "conv bias \(x[2]) must be [\(w.shape[0])]") }
  let (s, p, d) = (a.ints("strides"), a.ints("pads"), a.ints("dilations"))
  let out = (0..<spatial).map {
    windowOutputSize(input: input.shape[2 + $0], kernel: kernel[$0], stride: s[$0],
                     padBegin: p[$0], padEnd: p[spatial + $0], dilation: d[$0], ceilMode: false)
  }
  try a.convAlgorithm?.check(a, input: input, weight: w)
  try checkKeptPositions(a, outputPlane: out)
  return TensorType(input.element, [input.shape[0], w.shape[0]] + out)
}

func convTransposeType(_ x: [TensorType], _ a: Attributes) throws -> TensorType {
  let (input, w) = (x[0], x[1])
  try expect(input.rank >= 3 && w.rank == input.rank, "conv_transpose input \(input) and weight \(w) ranks do not fit")
  let g = a.int("group")
  let spatial = input.rank - 2
  let kernel = Array(w.shape[2...])
  let s = a.ints("strides"), d = a.ints("dilations"), op = a.ints("output_padding")
  let p = a.ints("pads")
  try expect(kernel.count == spatial && s.count == spatial && d.count == spatial && op.count == spatial
             && p.count == 2 * spatial, "conv_transpose attributes do not match \(spatial) spatial axes")
  try expect(g >= 1 && input.shape[1] == w.shape[0] && w.shape[0] % g == 0,
             "conv_transpose channels do not fit: input \(input), weight \(w), group \(g)")
  let limit = 1 << 24
  try expect((s + d + kernel).allSatisfy { $0 > 0 && $0 <= limit } && (op + p).allSatisfy { $0 >= 0 && $0 <= limit },
             "conv_transpose strides \(s), dilations \(d), output_padding \(op) or pads \(p) out of range")
  var out: [Int] = []
  for i in 0..<spatial {
    let full: Int = try checkedProduct(s[i], input.shape[2 + i] - 1) + op[i] + (kernel[i] - 1) * d[i] + 1
    out.append(full - p[i] - p[spatial + i])
  }
  try expect(out.allSatisfy { $0 > 0 }, "conv_transpose output \(out) is empty")
  let outChannels = try checkedProduct(w.shape[1], g)
  if x.count == 3 { try expect(x[2].shape == [outChannels], "conv_transpose bias \(x[2]) must be [\(outChannels)]") }
  return TensorType(input.element, [input.shape[0], outChannels] + out)
}

func poolType(_ input: TensorType, _ a: Attributes) throws -> TensorType {
  let spatial = input.rank - 2
  try expect(spatial >= 1, "pooling needs rank >= 3, got \(input)")
  let k = a.ints("kernel")
  try checkWindow(a, spatial: spatial, kernel: k)
  let (s, p, d) = (a.ints("strides"), a.ints("pads"), a.ints("dilations"))
  let ceil = a.bool("ceil_mode")
  let out = (0..<spatial).map {
    windowOutputSize(input: input.shape[2 + $0], kernel: k[$0], stride: s[$0], padBegin: p[$0],
                     padEnd: p[spatial + $0], dilation: d[$0], ceilMode: ceil)
  }
  return TensorType(input.element, Array(input.shape[0..<2]) + out)
}

/// A parsed einsum equation: letters per operand and for the output; "..." is `*`.
public struct EinsumEquation: Sendable {
  public var inputs: [[Character]]
  public var output: [Character]

  public init(_ equation: String) throws {
    // "..." becomes "*" (one character per ellipsis).
    var eq = ""
    var dots = 0
    for c in equation where c != " " {
      if c == "." { dots += 1; if dots == 3 { eq.append("*"); dots = 0 } } else { eq.append(c) }
    }
    let parts = eq.split(separator: ">", omittingEmptySubsequences: false).map { String($0) }
    try expect(parts.count <= 2 && (parts.count == 1 || parts[0].hasSuffix("-")),
               "bad einsum equation '\(equation)'")
    let lhs = parts.count == 2 ? String(parts[0].dropLast()) : parts[0]
    inputs = lhs.split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
    for term in inputs {
      try expect(term.allSatisfy { $0.isLetter || $0 == "*" }, "bad einsum equation '\(equation)'")
    }
    if parts.count == 2 {
      output = Array(parts[1])
    } else {
      var counts: [Character: Int] = [:]
      for term in inputs { for c in term where c != "*" { counts[c, default: 0] += 1 } }
      let once = counts.filter { $0.value == 1 }.keys.sorted()
      output = (inputs.contains { $0.contains("*") } ? ["*"] : []) + once
    }
  }

  /// Expands `*` into per-operand letters (uppercase, unused by the equation) given ranks;
  /// returns the labels per operand and output plus each label's size.
  public func resolve(_ shapes: [[Int]]) throws -> (inputs: [[Character]], output: [Character], sizes: [Character: Int]) {
    try expect(shapes.count == inputs.count, "einsum has \(inputs.count) terms but \(shapes.count) operands")
    var ellipsisRank = 0
    for (t, s) in zip(inputs, shapes) where t.contains("*") {
      try expect(t.filter { $0 == "*" }.count == 1 && s.count >= t.count - 1,
                 "einsum term '\(String(t))' does not match shape \(s)")
      ellipsisRank = max(ellipsisRank, s.count - (t.count - 1))
    }
    try expect(ellipsisRank <= 26, "einsum ellipsis covers too many axes")
    let ell = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ".prefix(ellipsisRank))
    var sizes: [Character: Int] = [:]
    var resolved: [[Character]] = []
    for (t, s) in zip(inputs, shapes) {
      var labels: [Character] = []
      for c in t {
        if c == "*" { labels += ell.suffix(s.count - (t.count - 1)) } else { labels.append(c) }
      }
      try expect(labels.count == s.count, "einsum term '\(String(t))' does not match shape \(s)")
      for (c, d) in zip(labels, s) {
        if let old = sizes[c], old != d {
          if old == 1 { sizes[c] = d } else if d != 1 { throw Diagnostic("einsum label \(c) has sizes \(old) and \(d)") }
        } else if sizes[c] == nil { sizes[c] = d }
      }
      resolved.append(labels)
    }
    var out: [Character] = []
    for c in output { if c == "*" { out += ell } else { out.append(c) } }
    for c in out { try expect(sizes[c] != nil, "einsum output label \(c) is not in any input") }
    return (resolved, out, sizes)
  }
}

func einsumType(_ equation: String, _ x: [TensorType]) throws -> TensorType {
  let r = try EinsumEquation(equation).resolve(x.map(\.shape))
  return TensorType(x[0].element, r.output.map { r.sizes[$0]! })
}

func recurrentTypes(_ kind: OpKind, _ x: [TensorType], _ a: Attributes) throws -> [TensorType] {
  let layout = a.int("layout")
  try expect(x[0].rank == 3, "\(kind.rawValue) input must be rank 3, got \(x[0])")
  let (seq, batch) = layout == 0 ? (x[0].shape[0], x[0].shape[1]) : (x[0].shape[1], x[0].shape[0])
  let dirs = a.string("direction") == "bidirectional" ? 2 : 1
  let h = a.int("hidden_size")
  try expect(h >= 0 && h <= 1 << 40, "\(kind.rawValue) hidden_size \(h) out of range")
  let gates = kind == .lstm ? 4 : kind == .gru ? 3 : 1
  try expect(x[1].shape == [dirs, gates * h, layout == 0 ? x[0].shape[2] : x[0].shape[2]],
             "\(kind.rawValue) W \(x[1]) does not match direction/hidden_size")
  try expect(x[2].shape == [dirs, gates * h, h], "\(kind.rawValue) R \(x[2]) does not match hidden_size")
  let e = x[0].element
  let y = layout == 0 ? TensorType(e, [seq, dirs, batch, h]) : TensorType(e, [batch, seq, dirs, h])
  let state = layout == 0 ? TensorType(e, [dirs, batch, h]) : TensorType(e, [batch, dirs, h])
  return kind == .lstm ? [y, state, state] : [y, state]
}
