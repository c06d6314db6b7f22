//===--- Normalization.swift - batch/layer/instance/group norm, lrn, lp ---===//
//
// Float kernels (f16/bf16 computed in f32). Means and variances accumulate in Double;
// variance is the biased (population) one, as ONNX. Semantics:
// - batch_norm (inference): y = (x - mean) / sqrt(var + eps) * scale + bias, channel = axis 1.
// - layer_norm: statistics over axes axis..<rank; scale and bias broadcast to those axes.
// - instance_norm: per (n, c) over the spatial axes; scale, bias per channel.
// - group_norm: per (n, group) over its C/G channels and the spatial axes; scale and bias
//   per channel (opset 21), or per group when they have `num_groups` elements (opset 18).
// - lrn: x / (bias + alpha / size * sum of squares over the channel window)^beta.
// - lp_norm: x / ||x||_p along `axis` (p = 1 or 2); a zero norm gives 0.
// - mean_variance_norm: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9) over `axes`.

import SparrowIR

func evaluateNormalization(_ k: KernelArgs) throws -> [TensorRef] {
  try computingInFloat(k) { k -> [TensorRef] in
    let e = k.inputs[0].element
    let kernel: TensorRef?
    switch k.kind {
    case .softmax, .log_softmax, .hardmax: kernel = try withFloatType(e, SoftmaxKernel(k: k))
    default: kernel = try withFloatType(e, NormalizationKernel(k: k))
    }
    guard let t = kernel else { throw k.unsupported("\(e)") }
    return [t]
  }
}

/// Mean and 1 / sqrt(variance + epsilon) of `n` contiguous elements.
@inline(__always)
func rowStatistics<T: KernelFloat>(_ x: UnsafePointer<T>, _ n: Int, epsilon: Double) -> (mean: T, invStd: T) {
  var s = 0.0
  for i in 0..<n { s += Double(x[i]) }
  let mean = s / Double(n)
  var q = 0.0
  for i in 0..<n {
    let d = Double(x[i]) - mean
    q += d * d
  }
  return (T(mean), T(1 / (q / Double(n) + epsilon).squareRoot()))
}

private struct NormalizationKernel: FloatKernel {
  let k: KernelArgs

  func run<T: KernelFloat>(_: T.Type) throws -> TensorRef {
    let x = k.inputs[0]
    try checkOperands(x.shape)
    let params = try k.inputs.dropFirst().map { p in
      guard p.element == x.element else { throw k.unsupported("parameters of type \(p.element) with \(x.element) input") }
      return p.array(of: T.self)
    }
    let shape = x.shape
    let epsilon = k.kind.spec.attribute("epsilon") != nil ? Double(k.attributes.float("epsilon")) : 0
    return try x.withElements(T.self) { p in
      try k.result(of: T.self) { y in
        if x.count == 0 { return }
        switch k.kind {
        case .batch_norm:
          let c = shape[1], spatial = shape[2...].reduce(1, *)
          let (scale, bias, mean, variance) = (params[0], params[1], params[2], params[3])
          let a = (0..<c).map { scale[$0] / (variance[$0] + T(epsilon)).squareRoot() }
          let b = (0..<c).map { bias[$0] - mean[$0] * a[$0] }
          for row in 0..<shape[0] * c {
            let (ac, bc) = (a[row % c], b[row % c])
            let (src, dst) = (p + row * spatial, y + row * spatial)
            for i in 0..<spatial { dst[i] = src[i] * ac + bc }
          }
        case .layer_norm:
          let axis = k.attributes.int("axis")
          let normShape = Array(shape[axis...])
          let m = normShape.reduce(1, *)
          let scale = expanded(params[0], k.inputs[1].shape, to: normShape)
          let bias = params.count > 1 ? expanded(params[1], k.inputs[2].shape, to: normShape)
                                      : [T](repeating: 0, count: m)
          for row in 0..<(m == 0 ? 0 : x.count / m) {
            let (src, dst) = (p + row * m, y + row * m)
            let (mean, inv) = rowStatistics(src, m, epsilon: epsilon)
            for i in 0..<m { dst[i] = (src[i] - mean) * inv * scale[i] + bias[i] }
          }
        case .instance_norm:
          let c = shape[1], spatial = shape[2...].reduce(1, *)
          for row in 0..<shape[0] * c {
            let (src, dst) = (p + row * spatial, y + row * spatial)
            let (mean, inv) = rowStatistics(src, spatial, epsilon: epsilon)
            let (s, b) = (params[0][row % c], params[1][row % c])
            for i in 0..<spatial { dst[i] = (src[i] - mean) * inv * s + b }
          }
        case .group_norm:
          try groupNorm(p, y, shape, params[0], params[1], epsilon)
        case .lrn: lrn(p, y, shape)
        case .lp_norm: try lpNorm(x, p, y)
        case .mean_variance_norm: meanVarianceNorm(x, p, y)
        default: throw k.unsupported("\(T.elementType)")
        }
      }
    }
  }

  /// What the shape rules leave unchecked and the loops below rely on.
  private func checkOperands(_ shape: [Int]) throws {
    let name = k.kind.rawValue
    switch k.kind {
    case .instance_norm, .lrn:
      guard shape.count >= 2 else { throw Diagnostic("\(name) needs rank >= 2, got \(shape)") }
      for p in k.inputs.dropFirst() where p.shape != [shape[1]] {
        throw Diagnostic("\(name) parameter \(p.type) does not match \(shape[1]) channels")
      }
    case .layer_norm:
      let norm = Array(shape[k.attributes.int("axis")...])
      for p in k.inputs.dropFirst() {
        let trimmed = Array(p.shape.drop { $0 == 1 }.suffix(norm.count))
        guard p.count == trimmed.reduce(1, *), (try? broadcastShapes([norm, trimmed])) == norm else {
          throw Diagnostic("layer_norm parameter \(p.type) does not broadcast to the normalized shape \(norm)")
        }
      }
    case .mean_variance_norm:
      let axes = k.attributes.ints("axes")
      guard axes.allSatisfy({ $0 >= 0 && $0 < shape.count }), Set(axes).count == axes.count else {
        throw Diagnostic("mean_variance_norm axes \(axes) are invalid for rank \(shape.count)")
      }
    default: break
    }
  }

  private func expanded<T>(_ values: [T], _ shape: [Int], to target: [Int]) -> [T] {
    if shape == target { return values }
    let shape = Array(shape.drop { $0 == 1 }.suffix(target.count))
    let n = target.reduce(1, *)
    return [T](unsafeUninitializedCapacity: n) { buffer, count in
      values.withUnsafeBufferPointer { broadcastCopy($0.baseAddress!, shape, buffer.baseAddress!, target) }
      count = n
    }
  }

  private func groupNorm<T: KernelFloat>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ shape: [Int],
                                         _ scale: [T], _ bias: [T], _ epsilon: Double) throws {
    let groups = k.attributes.int("num_groups")
    let (n, c) = (shape[0], shape[1])
    let spatial = shape[2...].reduce(1, *)
    guard groups > 0 && c % groups == 0 else {
      throw Diagnostic("group_norm: \(c) channels do not split into \(groups) groups")
    }
    let perGroup = c / groups
    let perChannelParams = scale.count == c
    guard perChannelParams || scale.count == groups, bias.count == scale.count else {
      throw Diagnostic("group_norm: scale and bias need \(c) (or \(groups)) elements, got \(scale.count) and \(bias.count)")
    }
    let m = perGroup * spatial
    for row in 0..<n * groups {
      let g = row % groups
      let (src, dst) = (x + row * m, y + row * m)
      let (mean, inv) = rowStatistics(src, m, epsilon: epsilon)
      for j in 0..<perGroup {
        let p = perChannelParams ? g * perGroup + j : g
        let (s, b) = (scale[p], bias[p])
        for i in j * spatial..<(j + 1) * spatial { dst[i] = (src[i] - mean) * inv * s + b }
      }
    }
  }

  private func lrn<T: KernelFloat>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ shape: [Int]) {
    let size = k.attributes.int("size")
    let alpha = Double(k.attributes.float("alpha")), beta = Double(k.attributes.float("beta"))
    let bias = Double(k.attributes.float("bias"))
    let (n, c) = (shape[0], shape.count > 1 ? shape[1] : 1)
    let spatial = shape.dropFirst(2).reduce(1, *)
    let below = (size - 1) / 2, above = size - 1 - below
    for b in 0..<n {
      for ch in 0..<c {
        let lo = max(0, ch - below), hi = min(c - 1, ch + above)
        for s in 0..<spatial {
          var sum = 0.0
          if lo <= hi {
            for j in lo...hi {
              let v = Double(x[(b * c + j) * spatial + s])
              sum += v * v
            }
          }
          let at = (b * c + ch) * spatial + s
          y[at] = T(Double(x[at]) / Double.pow(bias + alpha / Double(size) * sum, beta))
        }
      }
    }
  }

  private func lpNorm<T: KernelFloat>(_ t: TensorRef, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>) throws {
    let p = k.attributes.int("p")
    guard p == 1 || p == 2 else { throw k.unsupported("p = \(p) (only 1 and 2)") }
    let v = ReductionView(t, axis: k.attributes.int("axis"))
    let (outer, n, inner) = (v.outer, v.reduced, v.inner)
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * n * inner + i
        var s = 0.0
        for r in 0..<n {
          let a = Double(x[base + r * inner])
          s += p == 1 ? Swift.abs(a) : a * a
        }
        let norm = p == 1 ? s : s.squareRoot()
        let inv = norm == 0 ? 0 : T(1 / norm)
        for r in 0..<n { y[base + r * inner] = x[base + r * inner] * inv }
      }
    }
  }

  private func meanVarianceNorm<T: KernelFloat>(_ t: TensorRef, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>) {
    let axes = k.attributes.ints("axes")
    let v = ReductionView(t, axes: axes)
    let keptShape = reducedShape(t.shape, axes, keepdims: true)
    let keptType = TensorType(.f64, keptShape)
    let n = Double(v.reduced)
    let mean = reduceView(v, keptType, T.self, initial: 0.0, { $0 + Double($1) }) { $0 / n }
    let square = reduceView(v, keptType, T.self, initial: 0.0, { $0 + Double($1) * Double($1) }) { $0 / n }
    let std = zip(mean.array(of: Double.self), square.array(of: Double.self)).map { m, q in
      Swift.max(q - m * m, 0).squareRoot() + 1e-9
    }
    mean.withElements(Double.self) { pm in
      std.withUnsafeBufferPointer { ps in
        ternaryMap(x, t.shape, pm, keptShape, ps.baseAddress!, keptShape, y, t.shape) { a, m, s in
          T((Double(a) - m) / s)
        }
      }
    }
  }
}
