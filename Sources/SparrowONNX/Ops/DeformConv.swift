//===--- DeformConv.swift - DeformConv as sampled columns and a GEMM ------===//
//
// 2-D deformable convolution decomposed into IR ops: each kernel tap (ki, kj) of output
// position (i, j) reads the input at (i*sh - ph + ki*dh + Δh, j*sw - pw + kj*dw + Δw),
// Δ from `offset` per offset group, bilinearly with zeros outside (GridSample's taps,
// `GridSample.swift`), times the optional mask; the sampled columns [N, C*kh*kw, OH*OW]
// meet the weights [groups, OC/g, C/g*kh*kw] in one batched matmul, plus the bias.

import SparrowIR

let deformConvConverters: [String: Converter] = ["DeformConv": convertDeformConv]

private func convertDeformConv(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0), w = try n.input(1), offset = try n.input(2)
  let xs = n.shape(x), ws = n.shape(w), os = n.shape(offset)
  guard xs.count == 4, ws.count == 4, os.count == 4, os[0] == xs[0] else {
    throw n.error("DeformConv supports 2-D inputs: X [N, C, H, W], W [OC, C/g, kh, kw], offset [N, 2*G*kh*kw, OH, OW]; got \(n.type(x)), \(n.type(w)), \(n.type(offset))")
  }
  let (batch, channels, height, width) = (xs[0], xs[1], xs[2], xs[3])
  let (outChannels, kh, kw) = (ws[0], ws[2], ws[3])
  let group = try n.int("group", 1), offsetGroup = try n.int("offset_group", 1)
  let strides = try n.ints("strides") ?? [1, 1], dilations = try n.ints("dilations") ?? [1, 1]
  let pads = try n.ints("pads") ?? [0, 0, 0, 0]
  let kernel = kh * kw
  let (outH, outW) = (os[2], os[3])
  guard group > 0, offsetGroup > 0, channels == ws[1] * group, outChannels % group == 0,
        channels % offsetGroup == 0, os[1] == 2 * offsetGroup * kernel,
        strides.count == 2, dilations.count == 2, pads.count == 4 else {
    throw n.error("DeformConv shapes and attributes do not fit: X \(n.type(x)), W \(n.type(w)), offset \(n.type(offset))")
  }
  let element = n.type(x).element
  let a = Arithmetic(n: n, element: element)
  let points = kernel * outH * outW
  let offsets = try n.reshape(offset, [batch, offsetGroup, kh, kw, 2, outH, outW])
  var axisTaps: [[AxisTap]] = []
  for axis in 0..<2 {
    let (stride, dilation, pad) = (strides[axis], dilations[axis], pads[axis])
    let base = (0..<kh).flatMap { ki in (0..<kw).flatMap { kj in (0..<outH).flatMap { i in (0..<outW).map { j in
      Double(axis == 0 ? i * stride - pad + ki * dilation : j * stride - pad + kj * dilation)
    } } } }
    let start = n.constant(fromScalars(TensorType(element, [1, 1, kh, kw, outH, outW]), .floats(base)), "base")
    let p = try n.reshape(try a.add(start, try n.take(offsets, axis: 4, axis)), [batch * offsetGroup, points])
    let length = Double(axis == 0 ? height : width)
    axisTaps.append(try taps(a, p, length: length, lo: 0, hi: length - 1, .linear, .zeros))
  }
  let perOffsetGroup = channels / offsetGroup
  let image = try n.reshape(x, [batch * offsetGroup, perOffsetGroup, height * width])
  var sampled = try n.reshape(try gatherTaps(a, image, axisTaps, spatial: [height, width]),
                              [batch, offsetGroup, perOffsetGroup, kernel, outH * outW])
  if let mask = n.optionalInput(4) {
    sampled = try a.mul(sampled, try n.reshape(mask, [batch, offsetGroup, 1, kernel, outH * outW]))
  }
  let perGroup = channels / group
  let columns = try n.reshape(sampled, [batch, group, perGroup * kernel, outH * outW])
  let weights = try n.reshape(w, [1, group, outChannels / group, perGroup * kernel])
  var y = try n.reshape(try n.emit1(.matmul, [weights, columns]), [batch, outChannels, outH, outW])
  if let bias = n.optionalInput(3) { y = try a.add(y, try n.reshape(bias, [1, outChannels, 1, 1])) }
  return [y]
}
