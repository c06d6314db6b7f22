//===--- Signal.swift - DFT as matrix products ----------------------------===//
//
// With a static length L the DFT along an axis is a product with constant cos/sin
// matrices: (R + iI)(cos + i·s·sin) with s = -1 forward, +1 inverse (scaled by 1/L).
// The signal axis is moved last, multiplied, and moved back; real and imaginary parts
// are stacked on the trailing axis of size 2.

import Foundation
import SparrowIR

let signalConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["DFT"] = convertDFT
  return t
}()

private func convertDFT(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0)
  let shape = n.shape(x)
  let rank = shape.count
  guard rank >= 2, shape[rank - 1] == 1 || shape[rank - 1] == 2 else {
    throw n.error("DFT input \(shape) must end in a dimension of 1 (real) or 2 (complex)")
  }
  let element = n.type(x).element
  guard element == .f32 else { throw n.error("DFT supports f32 signals, got \(element)") }
  var axis = try n.int("axis", 1)
  if n.opset >= 20 {
    axis = try n.optionalConstantInput(2, "axis")?.ints.first ?? -2
  }
  if axis < 0 { axis += rank }
  guard axis >= 0 && axis < rank - 1 else { throw n.error("DFT axis \(axis) must be a signal axis of \(shape)") }
  let inverse = try n.int("inverse", 0) != 0
  let onesided = try n.int("onesided", 0) != 0
  let complexInput = shape[rank - 1] == 2
  // Inverse one-sided (irfft): a half spectrum in, a real signal of length L out.
  let halfInverse = inverse && onesided
  let length = try n.optionalConstantInput(1, "dft_length")?.ints.first
    ?? (halfInverse ? 2 * (shape[axis] - 1) : shape[axis])
  guard length > 0 else { throw n.error("DFT length must be positive") }
  let inLength = halfInverse ? length / 2 + 1 : length
  let outLength = halfInverse ? length : onesided ? length / 2 + 1 : length

  // Real and imaginary parts without the trailing axis, signal axis last.
  let signalRank = rank - 1
  var perm = Array(0..<signalRank)
  perm.swapAt(axis, signalRank - 1)
  func part(_ index: Int) throws -> ValueID {
    var p = try n.emit1(.slice, [x], ["starts": .ints([index]), "ends": .ints([index + 1]),
                                     "axes": .ints([rank - 1]), "steps": .ints([1])])
    p = try n.reshape(p, Array(shape.dropLast()))
    if axis != signalRank - 1 { p = try n.emit1(.transpose, [p], ["perm": .ints(perm)]) }
    // Fit the signal to the DFT length: truncate or zero-pad.
    let have = shape[axis]
    if have > inLength {
      p = try n.emit1(.slice, [p], ["starts": .ints([0]), "ends": .ints([inLength]), "axes": .ints([signalRank - 1]), "steps": .ints([1])])
    } else if have < inLength {
      var pads = [Int](repeating: 0, count: 2 * signalRank)
      pads[2 * signalRank - 1] = inLength - have
      p = try n.emit1(.pad, [p], ["pads": .ints(pads)])
    }
    return p
  }
  let real = try part(0)
  let imag = complexInput ? try part(1) : nil

  let sign: Double = inverse ? 1 : -1
  let scale: Double = inverse ? 1 / Double(length) : 1
  // Row j of the matrices collects every frequency k whose value is input j: k itself,
  // and for irfft also the mirrored L - k (conjugate, so its sine term flips sign).
  var cosM = [Double](repeating: 0, count: inLength * outLength), sinM = cosM
  for k in 0..<length {
    let (j, conjugate) = k < inLength ? (k, false) : (length - k, true)
    if k >= inLength && !halfInverse { continue }
    for m in 0..<outLength {
      let angle = 2 * Double.pi * Double((k * m) % length) / Double(length)
      cosM[j * outLength + m] += cos(angle) * scale
      sinM[j * outLength + m] += (conjugate ? -1 : 1) * sign * sin(angle) * scale
    }
  }
  let c = n.constant(Tensor(shape: [inLength, outLength], scalars: cosM.map(Float.init)), "cos")
  let s = n.constant(Tensor(shape: [inLength, outLength], scalars: sinM.map(Float.init)), "sin")
  // (R + iI)(C + iS) = (RC - IS) + i(RS + IC)
  var yr = try n.emit1(.matmul, [real, c])
  var yi = try n.emit1(.matmul, [real, s])
  if let imag {
    yr = try n.emit1(.sub, [yr, try n.emit1(.matmul, [imag, s])])
    yi = try n.emit1(.add, [yi, try n.emit1(.matmul, [imag, c])])
  }
  func restore(_ v: ValueID) throws -> ValueID {
    var v = v
    if axis != signalRank - 1 { v = try n.emit1(.transpose, [v], ["perm": .ints(perm)]) }
    return try n.reshape(v, n.shape(v) + [1])
  }
  if halfInverse { return [try restore(yr)] }
  return [try n.emit1(.concat, [try restore(yr), try restore(yi)], ["axis": .int(rank - 1)])]
}
