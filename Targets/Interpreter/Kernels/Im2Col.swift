//===--- Im2Col.swift - sliding-window geometry, im2col and col2im -------===//
//
// Convolutions and pooling over 1, 2 or 3 spatial axes share one geometry, normalized to
// three axes (depth, height, width) by unit axes in front, so every loop is written once.
// im2col lays out one image's windows as rows [channel * kernel, output positions]; the
// GEMM against the weights is then the convolution. col2im scatters such rows back (the
// transposed convolution).

import SparrowIR

/// Window geometry over exactly three spatial axes.
struct WindowGeometry {
  var input: [Int]
  var output: [Int]
  var kernel: [Int]
  var strides: [Int]
  var dilations: [Int]
  var padBegin: [Int]
  var padEnd: [Int]

  /// From per-axis attributes over `spatial` = 1...3 axes (pads are [begin..., end...]).
  init(input: [Int], output: [Int], kernel: [Int], strides: [Int], dilations: [Int], pads: [Int]) {
    let n = input.count
    precondition((1...3).contains(n) && output.count == n && kernel.count == n
                 && strides.count == n && dilations.count == n && pads.count == 2 * n)
    let lead = { (v: [Int], fill: Int) in [Int](repeating: fill, count: 3 - n) + v }
    self.input = lead(input, 1)
    self.output = lead(output, 1)
    self.kernel = lead(kernel, 1)
    self.strides = lead(strides, 1)
    self.dilations = lead(dilations, 1)
    self.padBegin = lead(Array(pads[..<n]), 0)
    self.padEnd = lead(Array(pads[n...]), 0)
  }

  var inputSize: Int { input.reduce(1, *) }
  var outputSize: Int { output.reduce(1, *) }
  var kernelSize: Int { kernel.reduce(1, *) }

  /// True when the window is one element that maps output to input one to one.
  var isPointwise: Bool {
    kernelSize == 1 && strides.allSatisfy { $0 == 1 } && padBegin.allSatisfy { $0 == 0 }
      && input == output
  }

  /// The output columns `lo..<hi` whose width-axis input index is inside the input for
  /// kernel offset `kw`, and that offset (input index = ow * stride + offset).
  func validColumns(kw: Int) -> (lo: Int, hi: Int, offset: Int) {
    let s = strides[2], iw = input[2], ow = output[2]
    let offset = kw * dilations[2] - padBegin[2]
    let lo = offset >= 0 ? 0 : min(ow, (-offset + s - 1) / s)
    let span = iw - offset
    let hi = span <= 0 ? lo : max(lo, min(ow, (span + s - 1) / s))
    return (lo, hi, offset)
  }

  /// Input index along axis 0 or 1 for output index `o` and kernel index `k`, or nil when
  /// it falls into the padding.
  @inline(__always)
  func inputIndex(axis: Int, output o: Int, kernel k: Int) -> Int? {
    let i = o * strides[axis] - padBegin[axis] + k * dilations[axis]
    return i >= 0 && i < input[axis] ? i : nil
  }
}

/// Writes the windows of `channels` input planes (`x`: [channels, input...]) into `col`:
/// [channels * kernelSize, outputSize], zeros where windows cover padding.
func im2col<T: KernelNumber>(_ x: UnsafePointer<T>, channels: Int, _ g: WindowGeometry,
                             into col: UnsafeMutablePointer<T>) {
  let (oh, ow) = (g.output[1], g.output[2])
  let (ih, iw) = (g.input[1], g.input[2])
  var row = col
  for c in 0..<channels {
    let plane = x + c * g.inputSize
    for kd in 0..<g.kernel[0] {
      for kh in 0..<g.kernel[1] {
        for kw in 0..<g.kernel[2] {
          let (lo, hi, offset) = g.validColumns(kw: kw)
          let sw = g.strides[2]
          for od in 0..<g.output[0] {
            let id = g.inputIndex(axis: 0, output: od, kernel: kd)
            for oh_ in 0..<oh {
              let dst = row + (od * oh + oh_) * ow
              guard let id, let ih_ = g.inputIndex(axis: 1, output: oh_, kernel: kh) else {
                dst.update(repeating: T.zero, count: ow)
                continue
              }
              let src = plane + (id * ih + ih_) * iw + offset
              dst.update(repeating: T.zero, count: lo)
              if sw == 1 {
                (dst + lo).update(from: src + lo, count: hi - lo)
              } else {
                for o in lo..<hi { dst[o] = src[o * sw] }
              }
              (dst + hi).update(repeating: T.zero, count: ow - hi)
            }
          }
          row += g.outputSize
        }
      }
    }
  }
}

/// The adjoint of `im2col`: adds each row of `col` ([channels * kernelSize, outputSize])
/// into the planes `x` ([channels, input...]) it was read from.
func col2im<T: KernelNumber>(_ col: UnsafePointer<T>, channels: Int, _ g: WindowGeometry,
                             addingInto x: UnsafeMutablePointer<T>) {
  let (oh, ow) = (g.output[1], g.output[2])
  let (ih, iw) = (g.input[1], g.input[2])
  let one = T(converting: 1)
  var row = col
  for c in 0..<channels {
    let plane = x + c * g.inputSize
    for kd in 0..<g.kernel[0] {
      for kh in 0..<g.kernel[1] {
        for kw in 0..<g.kernel[2] {
          let (lo, hi, offset) = g.validColumns(kw: kw)
          let sw = g.strides[2]
          for od in 0..<g.output[0] {
            guard let id = g.inputIndex(axis: 0, output: od, kernel: kd) else { continue }
            for oh_ in 0..<oh {
              guard let ih_ = g.inputIndex(axis: 1, output: oh_, kernel: kh) else { continue }
              let src = row + (od * oh + oh_) * ow
              let dst = plane + (id * ih + ih_) * iw + offset
              for o in lo..<hi { dst[o * sw] = T.multiplyAdd(dst[o * sw], src[o], one) }
            }
          }
          row += g.outputSize
        }
      }
    }
  }
}
