//===--- Conv.swift - conv and conv_transpose over 1-3 spatial axes ------===//
//
// conv, per image and group, switching on the conv's algorithm (ReferenceConvMethod):
//   gemm1x1:                    y_g = W_g[Mg, Cg] * x_g[Cg, HW]         (GEMM, no copy)
//   depthwise:                  a direct loop, one kernel tap at a time
//   im2col, winograd2/4, direct: y_g = W_g[Mg, Cg*K] * im2col(x_g)[Cg*K, OHW]
//                               (the reference computes every algorithm's exact sum)
// conv_transpose, per image and group: col = W_g^T[Mg*K, Cg] * x_g[Cg, HW], then col2im
// adds the columns into the output planes. Biases are added last.

import SparrowIR

func evaluateConv(_ k: KernelArgs) throws -> [TensorRef] {
  if k.kind == .conv && k.attributes.convLayout == .nhwc { return try evaluateChannelsLastConv(k) }
  // f16 is convolved in f32 and the result rounded back once.
  return try computingInFloat(k, evaluateWideConv)
}

private func evaluateWideConv(_ k: KernelArgs) throws -> [TensorRef] {
  if let mask = ActivationMask(k.attributes, output: k.type().shape) {
    return try evaluateMaskedConv(k.allocatingResults, mask).map(\.ref)
  }
  let x = k.inputs[0]
  guard let t = kernelNumberType(x.element), k.inputs.allSatisfy({ $0.element == x.element }) else {
    throw k.unsupported("element type \(x.element)")
  }
  guard (1...3).contains(x.shape.count - 2) else {
    throw k.unsupported("\(x.shape.count - 2) spatial axes (1 to 3 are supported)")
  }
  // f32 is named statically so the kernels are specialized for it (the opened type `t`
  // would run them as unspecialized generics).
  switch k.kind {
  case .conv: return [x.element == .f32 ? conv(k, Float.self) : conv(k, t)]
  case .conv_transpose: return [(x.element == .f32 ? convTranspose(k, Float.self) : convTranspose(k, t)).ref]
  default: preconditionFailure("\(k.kind) is not a convolution")
  }
}

/// conv with `layout = "nhwc"`: the NCHW conv between two transposes, so the reference
/// keeps one obviously right kernel (the LLVM target runs NHWC natively).
private func evaluateChannelsLastConv(_ k: KernelArgs) throws -> [TensorRef] {
  func transposed(_ x: TensorRef, _ perm: [Int], into type: TensorType,
                  at destinations: [UnsafeMutableRawPointer?] = []) throws -> TensorRef {
    try dispatchKernel(KernelArgs(kind: .transpose, attributes: Attributes(.transpose, ["perm": .ints(perm)]),
                                  refs: [x], resultTypes: [type], destinations: destinations))[0]
  }
  let x = k.inputs[0], out = k.type()
  let input = try transposed(x, ConvLayout.toChannelsFirst,
                             into: TensorType(x.element, ConvLayout.channelsFirst(x.shape)))
  var attributes = k.attributes
  attributes.convLayout = .nchw
  let y = try evaluateConv(KernelArgs(kind: .conv, attributes: attributes, refs: [input] + k.inputs.dropFirst(),
                                      resultTypes: [TensorType(out.element, ConvLayout.channelsFirst(out.shape))],
                                      scratch: k.scratch))[0]
  return [try transposed(y, ConvLayout.toChannelsLast, into: out, at: k.destinations)]
}

private func geometry(_ k: KernelArgs, input: [Int], output: [Int], kernel: [Int]) -> WindowGeometry {
  WindowGeometry(input: input, output: output, kernel: kernel,
                 strides: k.attributes.ints("strides"), dilations: k.attributes.ints("dilations"),
                 pads: k.attributes.ints("pads"))
}

private func conv<T: KernelNumber>(_ k: KernelArgs, _: T.Type) -> TensorRef {
  let x = k.inputs[0], w = k.inputs[1]
  let out = k.type()
  let groups = k.attributes.int("group")
  let (batch, channels, filters) = (x.shape[0], x.shape[1], w.shape[0])
  let (cg, mg) = (channels / groups, filters / groups)
  let g = geometry(k, input: Array(x.shape[2...]), output: Array(out.shape[2...]),
                   kernel: Array(w.shape[2...]))
  let (inSize, outSize, kSize) = (g.inputSize, g.outputSize, g.kernelSize)
  let method = ReferenceConvMethod(k.attributes.resolvedConvAlgorithm(input: x.type, weight: w.type))
  let columns = method == .im2colGemm ? cg * kSize * outSize : 0
  return withColumns(T.self, count: columns, scratch: k.scratch) { col in
  k.result(of: T.self, zeroed: true) { y in
    x.withElementPointer(of: T.self) { px in
      w.withElementPointer(of: T.self) { pw in
        for n in 0..<batch {
          for group in 0..<groups {
            let xg = px + (n * channels + group * cg) * inSize
            let yg = y + (n * filters + group * mg) * outSize
            let wg = pw + group * mg * cg * kSize
            switch method {
            case .pointwiseGemm:
              gemm(transA: false, transB: false, m: mg, n: outSize, k: cg, alpha: T(converting: 1),
                   a: wg, lda: cg, b: xg, ldb: inSize, beta: T.zero, c: yg, ldc: outSize)
            case .depthwiseLoop:
              for f in 0..<mg {
                depthwiseConv(xg, weights: wg + f * kSize, g, addingInto: yg + f * outSize)
              }
            case .im2colGemm:
              im2col(xg, channels: cg, g, into: col)
              gemm(transA: false, transB: false, m: mg, n: outSize, k: cg * kSize,
                   alpha: T(converting: 1), a: wg, lda: cg * kSize, b: col,
                   ldb: outSize, beta: T.zero, c: yg, ldc: outSize)
            }
          }
        }
      }
    }
    if k.inputs.count == 3 { addBias(k.inputs[2], to: y, batch: batch, channels: filters, plane: outSize) }
  }
  }
}

/// How the reference computes a conv of each algorithm; the memory plan's scratch rule
/// (InterpreterPlan.swift) asks the same question.
enum ReferenceConvMethod {
  /// The input is the GEMM's B as stored (1x1, stride 1, no padding).
  case pointwiseGemm
  /// One kernel tap at a time per channel (one input channel per group).
  case depthwiseLoop
  /// Columns unfolded into scratch, then a GEMM per group.
  case im2colGemm

  init(_ algorithm: ConvAlgorithm) {
    switch algorithm {
    case .gemm1x1: self = .pointwiseGemm
    case .depthwise: self = .depthwiseLoop
    case .direct, .im2col, .winograd2, .winograd4: self = .im2colGemm
    }
  }
}

/// Runs `body` with `count` uninitialized column elements: the planned scratch when it is
/// large enough, else a temporary buffer.
private func withColumns<T: KernelNumber, R>(_: T.Type, count: Int, scratch: UnsafeMutableRawBufferPointer?,
                                             _ body: (UnsafeMutablePointer<T>) -> R) -> R {
  if let s = scratch, let base = s.baseAddress, s.count >= count * MemoryLayout<T>.stride {
    return body(base.bindMemory(to: T.self, capacity: count))
  }
  var col = columnBuffer(T.self, count: max(count, 1))
  return col.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

/// One input plane convolved with one filter, accumulated into one output plane.
private func depthwiseConv<T: KernelNumber>(_ x: UnsafePointer<T>, weights: UnsafePointer<T>,
                                            _ g: WindowGeometry, addingInto y: UnsafeMutablePointer<T>) {
  let (oh, ow) = (g.output[1], g.output[2])
  let (ih, iw) = (g.input[1], g.input[2])
  let sw = g.strides[2]
  var tap = 0
  for kd in 0..<g.kernel[0] {
    for kh in 0..<g.kernel[1] {
      for kw in 0..<g.kernel[2] {
        let wv = weights[tap]
        tap += 1
        let (lo, hi, offset) = g.validColumns(kw: kw)
        for od in 0..<g.output[0] {
          guard let id = g.inputIndex(axis: 0, output: od, kernel: kd) else { continue }
          for oh_ in 0..<oh {
            guard let ih_ = g.inputIndex(axis: 1, output: oh_, kernel: kh) else { continue }
            let src = x + (id * ih + ih_) * iw + offset
            let dst = y + (od * oh + oh_) * ow
            if sw == 1 {
              for o in lo..<hi { dst[o] = T.multiplyAdd(dst[o], wv, src[o]) }
            } else {
              for o in lo..<hi { dst[o] = T.multiplyAdd(dst[o], wv, src[o * sw]) }
            }
          }
        }
      }
    }
  }
}

private func convTranspose<T: KernelNumber>(_ k: KernelArgs, _: T.Type) -> Tensor {
  let x = k.inputs[0], w = k.inputs[1]
  let out = k.type()
  let groups = k.attributes.int("group")
  let (batch, channels) = (x.shape[0], x.shape[1])
  let (cg, mg) = (channels / groups, w.shape[1])
  let filters = mg * groups
  // The transposed convolution's output is the forward convolution's input.
  let g = geometry(k, input: Array(out.shape[2...]), output: Array(x.shape[2...]),
                   kernel: Array(w.shape[2...]))
  let (inSize, outSize, kSize) = (g.outputSize, g.inputSize, g.kernelSize)
  var col = columnBuffer(T.self, count: mg * kSize * inSize)
  return Tensor.computed(out, of: T.self) { y in
    x.withElementPointer(of: T.self) { px in
      w.withElementPointer(of: T.self) { pw in
        col.withUnsafeMutableBufferPointer { c in
          for n in 0..<batch {
            for group in 0..<groups {
              let xg = px + (n * channels + group * cg) * inSize
              let yg = y + (n * filters + group * mg) * outSize
              let wg = pw + group * cg * mg * kSize
              gemm(transA: true, transB: false, m: mg * kSize, n: inSize, k: cg,
                   alpha: T(converting: 1), a: wg, lda: mg * kSize, b: xg, ldb: inSize,
                   beta: T.zero, c: c.baseAddress!, ldc: inSize)
              col2im(c.baseAddress!, channels: mg, g, addingInto: yg)
            }
          }
        }
      }
    }
    if k.inputs.count == 3 { addBias(k.inputs[2], to: y, batch: batch, channels: filters, plane: outSize) }
  }
}

/// Scratch for im2col/GEMM columns, left uninitialized: every element is written (by
/// im2col or by a GEMM with beta 0) before it is read, and kernel numbers are trivial.
private func columnBuffer<T: KernelNumber>(_: T.Type, count: Int) -> [T] {
  [T](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// y[n, c, ...] += bias[c].
private func addBias<T: KernelNumber>(_ bias: some TensorBytes, to y: UnsafeMutablePointer<T>, batch: Int,
                                      channels: Int, plane: Int) {
  let one = T(converting: 1)
  bias.withElementPointer(of: T.self) { b in
    for n in 0..<batch {
      for c in 0..<channels {
        let p = y + (n * channels + c) * plane
        let v = b[c]
        for i in 0..<plane { p[i] = T.multiplyAdd(p[i], v, one) }
      }
    }
  }
}
