//===--- Gemm.swift - Gemm, MatMul, Conv, ConvTranspose, Einsum, Det -----===//
//
// Conv windows are resolved by `resolveWindow`. ConvTranspose's `output_shape` becomes
// pads (and extra output_padding when the requested size needs more than the full
// output). Col2Im is a grouped ConvTranspose whose one-hot weights put each column entry
// at its block offset. Det expands matrices up to 3x3 into products of their entries.
// Integer and QLinear products are computed through f32 (exact for the usual
// 8-bit ranges): dequantize, multiply, quantize or cast back.

import SparrowIR

let gemmConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["Gemm"] = { n in
    var operands = [try n.input(0), try n.input(1)]
    let beta = try n.float("beta", 1)
    if let c = n.optionalInput(2), beta != 0 { operands.append(c) }
    return [try n.emit1(.gemm, operands, ["alpha": .float(try n.float("alpha", 1)), "beta": .float(beta),
                                          "transA": .bool(try n.int("transA", 0) != 0),
                                          "transB": .bool(try n.int("transB", 0) != 0)])]
  }
  t["MatMul"] = { n in [try n.emit1(.matmul, [try n.input(0), try n.input(1)])] }
  t["Conv"] = { n in
    let x = try n.input(0), w = try n.input(1)
    let xs = n.shape(x), ws = n.shape(w)
    guard xs.count >= 3, ws.count == xs.count else { throw n.error("Conv input \(xs) and weight \(ws) do not fit") }
    let win = try resolveWindow(n, input: Array(xs[2...]), kernel: Array(ws[2...]))
    var operands = [x, w]
    if let b = n.optionalInput(2) { operands.append(b) }
    var a = win.attributes
    a["group"] = .int(try n.int("group", 1))
    return [try n.emit1(.conv, operands, a)]
  }
  t["ConvTranspose"] = convertConvTranspose
  t["Einsum"] = { n in
    [try n.emit1(.einsum, try n.inputs(), ["equation": .string(try n.string("equation", ""))])]
  }
  t["MatMulInteger"] = { n in
    let a = try integerOperand(n, 0, zeroPoint: 2), b = try integerOperand(n, 1, zeroPoint: 3)
    let y = try n.emit1(.matmul, [a, b])
    return [try n.emit1(.cast, [y], ["to": .type(.i32)])]
  }
  t["ConvInteger"] = { n in
    let x = try integerOperand(n, 0, zeroPoint: 2), w = try integerOperand(n, 1, zeroPoint: 3)
    let xs = n.shape(x), ws = n.shape(w)
    guard xs.count >= 3, ws.count == xs.count else { throw n.error("ConvInteger input \(xs) and weight \(ws) do not fit") }
    let win = try resolveWindow(n, input: Array(xs[2...]), kernel: Array(ws[2...]))
    var a = win.attributes
    a["group"] = .int(try n.int("group", 1))
    let y = try n.emit1(.conv, [x, w], a)
    return [try n.emit1(.cast, [y], ["to": .type(.i32)])]
  }
  t["QLinearMatMul"] = { n in
    let a = try dequantized(n, 0, 1, 2), b = try dequantized(n, 3, 4, 5)
    let y = try n.emit1(.matmul, [a, b])
    return [try n.emit1(.quantize_linear, [y, try n.input(6), try n.input(7)], ["axis": .int(1)])]
  }
  t["QLinearConv"] = { n in
    let x = try dequantized(n, 0, 1, 2), w = try dequantized(n, 3, 4, 5, axis: 0)
    let xs = n.shape(x), ws = n.shape(w)
    guard xs.count >= 3, ws.count == xs.count else { throw n.error("QLinearConv input \(xs) and weight \(ws) do not fit") }
    let win = try resolveWindow(n, input: Array(xs[2...]), kernel: Array(ws[2...]))
    var a = win.attributes
    a["group"] = .int(try n.int("group", 1))
    var operands = [x, w]
    if let b = n.optionalInput(8) {
      // Bias is int32 with scale x_scale * w_scale (per output channel).
      let bf = try n.emit1(.cast, [b], ["to": .type(.f32)])
      let scale = try n.emit1(.mul, [try n.input(1), try n.input(4)])
      operands.append(try n.emit1(.mul, [bf, scale]))
    }
    let y = try n.emit1(.conv, operands, a)
    return [try n.emit1(.quantize_linear, [y, try n.input(6), try n.input(7)], ["axis": .int(1)])]
  }
  t["Col2Im"] = convertCol2Im
  t["Det"] = convertDet
  return t
}()

/// Input `i` as f32 minus its zero point (input `zeroPoint`, absent means 0).
private func integerOperand(_ n: ONNXNode, _ i: Int, zeroPoint: Int) throws -> ValueID {
  let x = try n.emit1(.cast, [try n.input(i)], ["to": .type(.f32)])
  guard let zp = n.optionalInput(zeroPoint) else { return x }
  var z = try n.emit1(.cast, [zp], ["to": .type(.f32)])
  // A per-row (A) or per-column (B) zero point of rank 1 aligns with the matrix rows for A.
  if i == 0, n.shape(z).count == 1, n.shape(z)[0] > 1, n.shape(x).count >= 2 {
    z = try n.reshape(z, [n.shape(z)[0], 1])
  }
  if i == 1, n.opType == "ConvInteger", n.shape(z).count == 1, n.shape(z)[0] > 1 {
    z = try n.reshape(z, [n.shape(z)[0]] + [Int](repeating: 1, count: n.shape(x).count - 1))
  }
  return try n.emit1(.sub, [x, z])
}

/// dequantize_linear of inputs (x, scale, zero point), per-axis when the scale is a vector.
func dequantized(_ n: ONNXNode, _ x: Int, _ scale: Int, _ zp: Int, axis: Int = 1) throws -> ValueID {
  let v = try n.input(x)
  let s = try n.input(scale)
  let z = n.optionalInput(zp) ?? n.constant(Tensor(zeros: TensorType(n.type(v).element, n.shape(s))), "zero_point")
  let ax = n.shape(s).count == 1 && n.shape(s)[0] > 1 ? axis : 1
  return try n.emit1(.dequantize_linear, [v, s, z], ["axis": .int(min(ax, max(n.shape(v).count - 1, 0)))])
}

private func convertConvTranspose(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0), w = try n.input(1)
  let xs = n.shape(x), ws = n.shape(w)
  guard xs.count >= 3, ws.count == xs.count else { throw n.error("ConvTranspose input \(xs) and weight \(ws) do not fit") }
  let spatial = xs.count - 2
  let input = Array(xs[2...])
  let kernel = try n.ints("kernel_shape") ?? Array(ws[2...])
  let strides = try n.ints("strides") ?? [Int](repeating: 1, count: spatial)
  let dilations = try n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
  var outputPadding = try n.ints("output_padding") ?? [Int](repeating: 0, count: spatial)
  guard kernel.count == spatial, strides.count == spatial, dilations.count == spatial,
        outputPadding.count == spatial else {
    throw n.error("ConvTranspose attributes do not match \(spatial) spatial dims")
  }
  let autoPad = try n.string("auto_pad", "NOTSET")
  var outputShape = try n.ints("output_shape")
  if let o = outputShape, o.count == xs.count { outputShape = Array(o[2...]) }
  if outputShape == nil, autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
    outputShape = zip(input, strides).map { $0 * $1 }
  }
  var pads: [Int]
  if let out = outputShape {
    guard out.count == spatial else { throw n.error("output_shape does not match \(spatial) spatial dims") }
    pads = [Int](repeating: 0, count: 2 * spatial)
    for i in 0..<spatial {
      let full = strides[i] * (input[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1
      let total = full - out[i]
      if total < 0 {
        outputPadding[i] -= total
        continue
      }
      let half = total / 2
      pads[i] = autoPad == "SAME_UPPER" ? half : total - half
      pads[spatial + i] = autoPad == "SAME_UPPER" ? total - half : half
    }
  } else if autoPad == "VALID" {
    pads = [Int](repeating: 0, count: 2 * spatial)
  } else {
    pads = try n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
    guard pads.count == 2 * spatial else { throw n.error("bad pads \(pads)") }
  }
  var operands = [x, w]
  if let b = n.optionalInput(2) { operands.append(b) }
  return [try n.emit1(.conv_transpose, operands,
                      ["strides": .ints(strides), "pads": .ints(pads), "dilations": .ints(dilations),
                       "group": .int(try n.int("group", 1)), "output_padding": .ints(outputPadding)])]
}

/// Col2Im: the input's [N, C * K, L] columns (K = block size, L block positions) become a
/// [N, C * K, positions...] grid, and a conv_transpose with C groups and one-hot weights
/// (channel c * K + j holds 1 at block offset j) adds every entry into its image pixel.
private func convertCol2Im(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0), xs = n.shape(x)
  let image = try n.constantInput(1, "image_shape").ints
  let block = try n.constantInput(2, "block_shape").ints
  let spatial = image.count
  guard xs.count == 3, spatial >= 1, block.count == spatial, block.allSatisfy({ $0 > 0 }),
        image.allSatisfy({ $0 > 0 }) else {
    throw n.error("Col2Im input \(xs), image_shape \(image) and block_shape \(block) do not fit")
  }
  let k = block.reduce(1, *)
  guard xs[1] % k == 0 else { throw n.error("Col2Im channels \(xs[1]) are not a multiple of the block size \(k)") }
  let channels = xs[1] / k
  let strides = try n.ints("strides") ?? [Int](repeating: 1, count: spatial)
  let dilations = try n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
  let pads = try n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
  guard strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial,
        strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }) else {
    throw n.error("Col2Im attributes do not match \(spatial) spatial dims")
  }
  // The padded image length each block's first entry can start in, and the block count.
  var span: [Int] = [], positions: [Int] = []
  for i in 0..<spatial {
    let padded: Int = image[i] + pads[i] + pads[spatial + i]
    let extent: Int = dilations[i] * (block[i] - 1)
    span.append(padded - extent)
    positions.append(span[i] > 0 ? (span[i] - 1) / strides[i] + 1 : 0)
  }
  guard positions.reduce(1, *) == xs[2], positions.allSatisfy({ $0 > 0 }) else {
    throw n.error("Col2Im has \(xs[2]) blocks, the image holds \(positions.reduce(1, *))")
  }
  let grid = try n.reshape(x, [xs[0], xs[1]] + positions)
  var weights = [Double](repeating: 0, count: xs[1] * k)
  for channel in 0..<xs[1] { weights[channel * k + channel % k] = 1 }
  let w = n.constant(fromScalars(TensorType(n.type(x).element, [xs[1], 1] + block), .floats(weights)), "one_hot")
  // The transposed convolution covers the image up to the last stride's remainder.
  let outputPadding: [Int] = (0..<spatial).map { i in (span[i] - 1) % strides[i] }
  return [try n.emit1(.conv_transpose, [grid, w],
                      ["strides": .ints(strides), "pads": .ints(pads), "dilations": .ints(dilations),
                       "group": .int(channels), "output_padding": .ints(outputPadding)])]
}

/// Det of [..., n, n] for n <= 3 by cofactor expansion: n = 1 is the entry itself, n = 2
/// is ad - bc, n = 3 the rule of Sarrus. Larger matrices are not supported.
private func convertDet(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0), s = n.shape(x)
  guard s.count >= 2, s[s.count - 1] == s[s.count - 2] else {
    throw n.error("Det needs square matrices, got \(n.type(x))")
  }
  let size = s[s.count - 1], batch = Array(s.dropLast(2))
  guard (1...3).contains(size) else {
    throw n.error("Det of \(size)x\(size) matrices is not supported (up to 3x3)")
  }
  let flat = try n.reshape(x, batch + [size * size])
  let entries = try (0..<size * size).map { k in
    try n.reshape(try n.emit1(.slice, [flat], ["starts": .ints([k]), "ends": .ints([k + 1]),
                                               "axes": .ints([batch.count]), "steps": .ints([1])]), batch)
  }
  func entry(_ i: Int, _ j: Int) -> ValueID { entries[i * size + j] }
  func product(_ factors: [ValueID]) throws -> ValueID {
    try factors.dropFirst().reduce(factors[0]) { try n.emit1(.mul, [$0, $1]) }
  }
  switch size {
  case 1: return [try entry(0, 0)]
  case 2:
    let ad = try product([entry(0, 0), entry(1, 1)]), bc = try product([entry(0, 1), entry(1, 0)])
    return [try n.emit1(.sub, [ad, bc])]
  default:
    var plus: [ValueID] = [], minus: [ValueID] = []
    for c in 0..<3 {
      plus.append(try product([entry(0, c), entry(1, (c + 1) % 3), entry(2, (c + 2) % 3)]))
      minus.append(try product([entry(0, c), entry(1, (c + 2) % 3), entry(2, (c + 1) % 3)]))
    }
    return [try n.emit1(.sub, [try n.emit1(.sum, plus), try n.emit1(.sum, minus)])]
  }
}
