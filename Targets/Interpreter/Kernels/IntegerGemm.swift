//===--- IntegerGemm.swift - qconv and qmatmul, the exact integer reference --===//
//
//   acc[c] = bias[c] + sum_k (x[k] - zx) * (w[k, c] - zw[c])        (i32, wrapping)
//   quantized result: y = saturate(roundHalfEven(steps(Float(acc) * m[c])) + zy)
//   f32 result:       y = steps(Float(acc) * (sx * sw[c]))
//
// `Requantization` (IR/Types/Quantization.swift) defines the arithmetic; generated kernels
// must agree with this file bit for bit. Simple loops: columns (x - zx) as i32, weights
// (w - zw) as i32, one multiply-add per term. qconv runs 2-D NCHW convs (NHWC ones
// between transposes, as the float conv does); padding contributes 0 (real zero).

import SparrowIR

func evaluateIntegerOp(_ k: KernelArgs) throws -> [TensorRef] {
  let qs = k.operandQuantizations
  precondition(qs.count == k.inputs.count && qs[0] != nil && qs[1] != nil,
               "\(k.kind) needs its operands' quantizations")
  let steps = k.attributes.epilogue
  let output = k.resultQuantizations.first ?? nil
  if k.kind == .qconv && k.attributes.convLayout == .nhwc {
    return try channelsLast(k, output: output)
  }
  let (acc, channels, inner) = k.kind == .qconv ? try convAccumulators(k) : matmulAccumulators(k)
  let multipliers = Requantization.multipliers(input: qs[0]!, weight: qs[1]!, output: output,
                                               channels: channels)
  let residuals = Array(k.inputs.dropFirst(3))
  if let output {
    return [try requantized(k, acc, channels: channels, inner: inner, multipliers, steps,
                            residuals: residuals, residualQuantizations: Array(qs.dropFirst(3)),
                            output: output)]
  }
  // f32: scale, then the steps on real values as the float epilogue runs them.
  var y = makeTensor(k.type(), of: Float.self) { p in
    for i in 0..<acc.count { p[i] = Float(acc[i]) * multipliers[(i / inner) % channels] }
  }.ref
  var next = zip(residuals, qs.dropFirst(3)).makeIterator()
  for step in steps {
    if step == .add {
      let (r, q) = next.next()!
      y = try elementwise(.add, Attributes(.add), [y, q.map { dequantized(r, $0) } ?? r], into: nil)
    } else if step == .silu {
      let s = try elementwise(.sigmoid, Attributes(.sigmoid), [y], into: nil)
      y = try elementwise(.mul, Attributes(.mul), [y, s], into: nil)
    } else {
      let (kind, attributes) = step.unaryOp!
      y = try elementwise(kind, attributes, [y], into: nil)
    }
  }
  return [y]
}

/// The accumulators in output order, their channel count and the elements per channel
/// run (`(i / inner) % channels` is element i's channel).
private typealias Accumulators = (acc: [Int32], channels: Int, inner: Int)

/// x - zero point (per slice along the quantized axis) as i32.
func centered(_ t: TensorRef, _ q: Quantization) -> [Int32] {
  let values: [Int32]
  switch t.element {
  case .u8: values = t.array(of: UInt8.self).map(Int32.init)
  case .i8: values = t.array(of: Int8.self).map(Int32.init)
  default: preconditionFailure("quantized \(t.element) operand")
  }
  guard let axis = q.axis else { return values.map { $0 &- Int32(q.zeroPoints[0]) } }
  let inner = t.shape[(axis + 1)...].reduce(1, *), size = t.shape[axis]
  return values.indices.map { values[$0] &- Int32(q.zeroPoint(($0 / inner) % size)) }
}

private func matmulAccumulators(_ k: KernelArgs) -> Accumulators {
  let (a, b) = (k.inputs[0], k.inputs[1])
  let kk = b.shape[0], n = b.shape[1], rows = a.count / max(kk, 1)
  let xa = centered(a, k.operandQuantizations[0]!)
  let wb = centered(b, k.operandQuantizations[1]!)
  let bias = k.inputs[2].array(of: Int32.self)
  var acc = [Int32](repeating: 0, count: rows * n)
  for r in 0..<rows {
    for j in 0..<n { acc[r * n + j] = bias[j] }
    for p in 0..<kk {
      let av = xa[r * kk + p]
      if av == 0 { continue }
      for j in 0..<n { acc[r * n + j] = acc[r * n + j] &+ av &* wb[p * n + j] }
    }
  }
  return (acc, n, 1)
}

private func convAccumulators(_ k: KernelArgs) throws -> Accumulators {
  let (x, w) = (k.inputs[0], k.inputs[1])
  guard x.shape.count == 4 else { throw k.unsupported("\(x.shape.count - 2)-D convs") }
  let (batch, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (cout, cinG, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
  let out = k.type().shape
  let (oh, ow) = (out[2], out[3])
  let group = k.attributes.int("group"), coutG = cout / group
  let (s, p, d) = (k.attributes.ints("strides"), k.attributes.ints("pads"), k.attributes.ints("dilations"))
  let xs = centered(x, k.operandQuantizations[0]!)
  let ws = centered(w, k.operandQuantizations[1]!)
  let bias = k.inputs[2].array(of: Int32.self)
  let taps = cinG * kh * kw, positions = oh * ow
  var acc = [Int32](repeating: 0, count: batch * cout * positions)
  var columns = [Int32](repeating: 0, count: taps * positions)
  for n in 0..<batch {
    for g in 0..<group {
      // im2col of this image and group: columns[tap][position], 0 outside the image.
      for c in 0..<cinG {
        let plane = (n * cin + g * cinG + c) * h * wd
        for ky in 0..<kh {
          for kx in 0..<kw {
            let row = ((c * kh + ky) * kw + kx) * positions
            for oy in 0..<oh {
              let iy = oy * s[0] - p[0] + ky * d[0]
              for ox in 0..<ow {
                let ix = ox * s[1] - p[1] + kx * d[1]
                let inside = iy >= 0 && iy < h && ix >= 0 && ix < wd
                columns[row + oy * ow + ox] = inside ? xs[plane + iy * wd + ix] : 0
              }
            }
          }
        }
      }
      for o in 0..<coutG {
        let co = g * coutG + o
        let base = (n * cout + co) * positions
        for q in 0..<positions { acc[base + q] = bias[co] }
        for t in 0..<taps {
          let wv = ws[co * taps + t]
          if wv == 0 { continue }
          let row = t * positions
          for q in 0..<positions { acc[base + q] = acc[base + q] &+ wv &* columns[row + q] }
        }
      }
    }
  }
  return (acc, cout, positions)
}

/// The quantized result: steps in output units, round half to even, saturate.
private func requantized(_ k: KernelArgs, _ acc: [Int32], channels: Int, inner: Int,
                         _ multipliers: [Float], _ steps: [EpilogueStep],
                         residuals: [TensorRef], residualQuantizations: [Quantization?],
                         output: Quantization) throws -> TensorRef {
  let sy = output.scales[0], zy = output.zeroPoints[0]
  let range = k.type().element.quantizedStorageRange!
  let centeredResiduals = zip(residuals, residualQuantizations).map { centered($0, $1!) }
  let factors = residualQuantizations.map { Requantization.residualFactor($0!, output: output) }
  var t = [Float](repeating: 0, count: acc.count)
  for i in 0..<acc.count { t[i] = Float(acc[i]) * multipliers[(i / inner) % channels] }
  var r = 0
  for step in steps {
    switch step {
    case .relu: for i in t.indices { t[i] = max(t[i], 0) }
    case let .clip(lo, hi):
      let (a, b) = (lo / sy, hi / sy)
      for i in t.indices { t[i] = min(max(t[i], a), b) }
    case .add:
      let (values, f) = (centeredResiduals[r], factors[r])
      for i in t.indices { t[i] += Float(values[i]) * f }
      r += 1
    default: throw k.unsupported("epilogue step '\(step)' with a quantized result")
    }
  }
  func fill<T: KernelInteger>(_: T.Type) -> TensorRef {
    makeTensor(k.type(), of: T.self) { p in
      for i in t.indices { p[i] = T(truncatingIfNeeded: Requantization.store(t[i], zeroPoint: zy, range: range)) }
    }.ref
  }
  return k.type().element == .u8 ? fill(UInt8.self) : fill(Int8.self)
}

/// Real values of a quantized tensor as f32.
private func dequantized(_ t: TensorRef, _ q: Quantization) -> TensorRef {
  let values = centered(t, q)
  return Tensor(shape: t.shape, scalars: values.map { Float($0) * q.scales[0] }).ref
}

/// An NHWC qconv: the NCHW one between transposes (input, residuals, result).
private func channelsLast(_ k: KernelArgs, output: Quantization?) throws -> [TensorRef] {
  func transposed(_ t: TensorRef, _ perm: [Int]) throws -> TensorRef {
    try dispatchKernel(KernelArgs(kind: .transpose, attributes: Attributes(.transpose, ["perm": .ints(perm)]),
                                  refs: [t], resultTypes: [TensorType(t.element, perm.map { t.shape[$0] })]))[0]
  }
  var inputs = k.inputs
  inputs[0] = try transposed(inputs[0], ConvLayout.toChannelsFirst)
  for i in 3..<inputs.count { inputs[i] = try transposed(inputs[i], ConvLayout.toChannelsFirst) }
  var attributes = k.attributes
  attributes.convLayout = .nchw
  let result = k.type()
  var inner = KernelArgs(kind: .qconv, attributes: attributes, refs: inputs,
                         resultTypes: [TensorType(result.element, ConvLayout.channelsFirst(result.shape))])
  inner.operandQuantizations = k.operandQuantizations
  inner.resultQuantizations = k.resultQuantizations
  let y = try evaluateIntegerOp(inner)[0]
  return [try transposed(y, ConvLayout.toChannelsLast)]
}
