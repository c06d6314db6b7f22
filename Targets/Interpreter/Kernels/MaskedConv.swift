//===--- MaskedConv.swift - convs that compute only kept output positions ---===//
//
// A conv with `kept_positions` (see IR/Ops/ActivationMask.swift), per image:
//   columns[C*kh*kw, P] = im2col of the kept positions only (P = kept count; for a 1x1
//                         stride-1 conv that is a gather of input columns)
//   sums[M, P]          = W[M, C*kh*kw] * columns                      (one GEMM)
//   y[m, kept[p]]       = sums[m, p] + bias[m];  y[m, masked] = bias[m]
// The epilogue then runs over every position (Epilogue.swift), and `masked_fill`, when
// present, overwrites the masked positions after it (`applyingMaskedFill`). An NHWC
// masked conv runs this NCHW kernel between transposes (Conv.swift).

import SparrowIR

/// The core of a masked conv (no epilogue): 2-D, group 1, f32.
func evaluateMaskedConv(_ k: KernelArgs, _ mask: ActivationMask) throws -> [Tensor] {
  let x = k.inputs[0], w = k.inputs[1]
  guard x.element == .f32, k.inputs.allSatisfy({ $0.element == .f32 }) else {
    throw k.unsupported("element type \(x.element) with kept_positions")
  }
  let out = k.type()
  let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (filters, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
  let (oh, ow) = (out.shape[2], out.shape[3])
  let strides = k.attributes.ints("strides"), dilations = k.attributes.ints("dilations")
  let pads = k.attributes.ints("pads")
  let kept = mask.kept, depth = channels * kh * kw
  // Input offset (within one channel plane) of each kept position and kernel tap; -1 in padding.
  var taps = [Int](repeating: -1, count: kh * kw * kept.count)
  for i in 0..<kh {
    for j in 0..<kw {
      for (p, position) in kept.enumerated() {
        let iy = position / ow * strides[0] - pads[0] + i * dilations[0]
        let ix = position % ow * strides[1] - pads[1] + j * dilations[1]
        if iy >= 0 && iy < height && ix >= 0 && ix < width { taps[(i * kw + j) * kept.count + p] = iy * width + ix }
      }
    }
  }
  var columns = [Float](repeating: 0, count: depth * kept.count)
  var sums = [Float](repeating: 0, count: filters * kept.count)
  let bias = k.inputs.count >= 3 ? k.inputs[2].array(of: Float.self) : [Float](repeating: 0, count: filters)
  return [Tensor.computed(out, of: Float.self) { y in
    x.withElementPointer(of: Float.self) { px in
      w.withElementPointer(of: Float.self) { pw in
        taps.withUnsafeBufferPointer { taps in
          columns.withUnsafeMutableBufferPointer { columns in
            sums.withUnsafeMutableBufferPointer { sums in
              for n in 0..<batch where !kept.isEmpty {
                let image = px + n * channels * height * width
                for c in 0..<channels {
                  let source = image + c * height * width
                  for tap in 0..<kh * kw {
                    let row = columns.baseAddress! + (c * kh * kw + tap) * kept.count
                    let offsets = taps.baseAddress! + tap * kept.count
                    for p in 0..<kept.count { row[p] = offsets[p] < 0 ? 0 : source[offsets[p]] }
                  }
                }
                gemm(transA: false, transB: false, m: filters, n: kept.count, k: depth, alpha: Float(1),
                     a: pw, lda: depth, b: columns.baseAddress!, ldb: kept.count, beta: Float(0),
                     c: sums.baseAddress!, ldc: kept.count)
                for m in 0..<filters {
                  let row = sums.baseAddress! + m * kept.count
                  let plane = y + (n * filters + m) * oh * ow
                  for (p, position) in kept.enumerated() { plane[position] = row[p] }
                }
              }
              // Masked positions keep the sum 0 they start with (`computed` zero-fills);
              // then the bias everywhere.
              for plane in 0..<batch * filters {
                let values = y + plane * oh * ow, b = bias[plane % filters]
                for i in 0..<oh * ow { values[i] += b }
              }
            }
          }
        }
      }
    }
  }]
}

/// Runs a conv with `masked_fill` without it, then stores the fill at its masked positions.
func applyingMaskedFill(_ k: KernelArgs, _ fill: Float, _ mask: ActivationMask,
                        run: (KernelArgs) throws -> [Tensor]) throws -> [Tensor] {
  var attributes = k.attributes
  attributes.values["masked_fill"] = nil
  let y = try run(KernelArgs(kind: k.kind, attributes: attributes, refs: k.inputs,
                             resultTypes: k.resultTypes))[0]
  let masked = mask.masked
  var values = y.array(of: Float.self)
  if k.attributes.convLayout == .nhwc {  // [N, H, W, C]: a row of C per position
    let channels = y.shape[3]
    for image in 0..<y.shape[0] {
      for position in masked {
        let row = (image * mask.planeSize + position) * channels
        for c in 0..<channels { values[row + c] = fill }
      }
    }
  } else {
    for plane in 0..<y.shape[0] * y.shape[1] {
      for position in masked { values[plane * mask.planeSize + position] = fill }
    }
  }
  return [Tensor(shape: y.shape, scalars: values)]
}
