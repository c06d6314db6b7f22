//===--- STFT.swift - STFT as framed matmuls with DFT matrices -----------===//
//
// signal [B, L, 1 or 2] cut into F = 1 + (L - N) / step frames of N samples (N = the
// window's length or frame_length; step known at compile time), weighted by the window,
// then X[k] = Σ x[n] e^(-2πi kn/N) as two matmuls with constant cos/sin matrices [N, K]
// (K = N/2 + 1 when onesided): Re = xr·C + xi·S, Im = xi·C - xr·S. Output [B, F, K, 2].
// MelWeightMatrix has only scalar inputs, which must be known: its triangular filters are
// computed at import (the reference's mel scale and integer bin edges).

import Foundation
import SparrowIR

let stftConverters: [String: Converter] = ["STFT": convertSTFT, "MelWeightMatrix": convertMelWeightMatrix]

private func convertMelWeightMatrix(_ n: ONNXNode) throws -> [ValueID] {
  let why = "Sparrow computes the filter bank at import"
  let scalars = try (0..<5).map { try n.compileTimeInput($0, "parameter", because: why).double(at: 0) }
  guard scalars.allSatisfy({ $0.isFinite && abs($0) < 1e9 }) else {
    throw n.error("MelWeightMatrix parameters \(scalars) must be finite")
  }
  let (melBins, dftLength, sampleRate) = (Int(scalars[0]), Int(scalars[1]), scalars[2])
  guard melBins > 0, dftLength > 0, sampleRate > 0, melBins <= 1 << 14, dftLength <= 1 << 20 else {
    throw n.error("MelWeightMatrix parameters \(scalars) are out of range")
  }
  let spectrogramBins = dftLength / 2 + 1
  func mel(_ hz: Double) -> Double { 2595 * log1p(hz / 700) / log(10) }
  let (low, high) = (mel(scalars[3]), mel(scalars[4]))
  let step = (high - low) / Double(melBins + 2)
  let edges = (0..<(melBins + 2)).map { i -> Int in
    let hz = 700 * expm1((Double(i) * step + low) / 2595 * log(10))
    let bin = (Double(dftLength + 1) * hz / sampleRate).rounded(.down)
    return bin.isFinite && abs(bin) < 1e12 ? Int(bin) : -1
  }
  guard edges.allSatisfy({ $0 >= 0 && $0 < spectrogramBins }) else {
    throw n.error("MelWeightMatrix edges \(edges) fall outside the \(spectrogramBins) spectrogram bins")
  }
  var w = [Double](repeating: 0, count: spectrogramBins * melBins)
  for i in 0..<melBins {
    let (left, center, right) = (edges[i], edges[i + 1], edges[i + 2])
    if center == left {
      w[center * melBins + i] = 1
    } else {
      for j in left...center { w[j * melBins + i] = Double(j - left) / Double(center - left) }
    }
    if right > center {
      for j in center..<right { w[j * melBins + i] = Double(right - j) / Double(right - center) }
    }
  }
  let element = try n.elementTypeAttribute("output_datatype") ?? .f32
  return [n.constant(fromScalars(TensorType(element, [spectrogramBins, melBins]), .floats(w)), "filters")]
}

private func convertSTFT(_ n: ONNXNode) throws -> [ValueID] {
  let signal = try n.input(0)
  let ss = n.shape(signal)
  guard ss.count == 3, ss[2] == 1 || ss[2] == 2 else {
    throw n.error("STFT needs a signal [B, L, 1 or 2], got \(n.type(signal))")
  }
  let element = n.type(signal).element
  let step = try n.constantInput(1, "frame_step").int64(at: 0)
  let window = n.optionalInput(2)
  let length: Int
  if let w = window {
    length = n.shape(w).first ?? 0
  } else {
    guard let frame = try n.optionalConstantInput(3, "frame_length") else {
      throw n.error("STFT needs a window or a frame_length")
    }
    length = Int(frame.int64(at: 0))
  }
  guard step > 0, length > 0, length <= ss[1] else {
    throw n.error("STFT frame length \(length) and step \(step) do not fit a signal of \(ss[1]) samples")
  }
  let frames = 1 + (ss[1] - length) / Int(step)
  guard frames <= maxUnrolledIterations else {
    throw n.error("STFT with \(frames) frames; Sparrow cuts at most \(maxUnrolledIterations)")
  }
  let onesided = try n.int("onesided", 1) != 0
  let bins = onesided ? length / 2 + 1 : length
  var framed = try n.concat(try (0..<frames).map { f in
    try n.unsqueeze(try n.slice(signal, axis: 1, f * Int(step), f * Int(step) + length), at: 1)
  }, axis: 1)  // [B, F, N, c]
  if let w = window { framed = try n.emit1(.mul, [framed, try n.reshape(w, [length, 1])]) }
  func matrix(_ f: (Double) -> Double, _ name: String) -> ValueID {
    let values = (0..<length).flatMap { i in (0..<bins).map { k in f(2 * Double.pi * Double(k * i % length) / Double(length)) } }
    return n.constant(fromScalars(TensorType(element, [length, bins]), .floats(values)), name)
  }
  let (cosine, sine) = (matrix(cos, "cos"), matrix(sin, "sin"))
  let real = try n.take(framed, axis: 3, 0)
  var re = try n.emit1(.matmul, [real, cosine])
  var im = try n.emit1(.neg, [try n.emit1(.matmul, [real, sine])])
  if ss[2] == 2 {
    let imaginary = try n.take(framed, axis: 3, 1)
    re = try n.emit1(.add, [re, try n.emit1(.matmul, [imaginary, sine])])
    im = try n.emit1(.add, [im, try n.emit1(.matmul, [imaginary, cosine])])
  }
  return [try n.concat([try n.unsqueeze(re, at: 3), try n.unsqueeze(im, at: 3)], axis: 3)]
}
