//===--- ActivationMaskLLVMTests.swift - masked convs: LLVM vs the interpreter ---===//
//
// Convs with `kept_positions` (and `masked_fill`, a fused epilogue with a residual add,
// a sparse weight layout; NCHW and NHWC) through the LLVM target, compared with the
// interpreter, whose masked conv is in turn checked against the unmasked graph in
// SparrowPassesTests.

import SparrowIR
import SparrowInterpreter
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

final class ActivationMaskLLVMTests: XCTestCase {
  private func compare(_ module: Module, file: StaticString = #filePath, line: UInt = #line) throws {
    try assertEquivalent(module, seed: 99, file: file, line: line)
  }

  /// One masked conv: 3x3 or 1x1, keeping every `every`-th position (none for 0), with
  /// options; `channelsLast` gives it `layout = "nhwc"` (activations [N, H, W, C]).
  private func maskedConv(kernel: Int, stride: Int, every: Int, fill: Float?, residual: Bool,
                          layout: SparseLayout? = nil, channelsLast: Bool = false,
                          outChannels: Int = 16) throws -> Module {
    func activation(_ channels: Int, _ size: Int) -> [Int] {
      channelsLast ? [2, size, size, channels] : [2, channels, size, size]
    }
    var b = Builder(module: Module(name: "masked"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, activation(8, 10)))
    var s: UInt64 = 5
    var weights = seededFloats(outChannels * 8 * kernel * kernel, seed: &s)
    if layout != nil {  // 2:4 along input channels at each kernel tap: zero the two smallest
      let taps = kernel * kernel
      for o in 0..<outChannels {
        for tap in 0..<taps {
          for group in 0..<2 {
            let slots = (0..<4).map { ((o * 8 + group * 4 + $0) * taps) + tap }
            for i in slots.sorted(by: { abs(weights[$0]) < abs(weights[$1]) }).prefix(2) { weights[i] = 0 }
          }
        }
      }
    }
    let w = b.constant(Tensor(shape: [outChannels, 8, kernel, kernel], scalars: weights), name: "w", layout: layout)
    let bias = b.constant(Tensor(shape: [outChannels], scalars: seededFloats(outChannels, seed: &s)), name: "b")
    let out = (10 + 2 * (kernel / 2) - kernel) / stride + 1
    let kept = every == 0 ? [] : (0..<out * out).filter { $0 % every == 0 }  // 0: none kept
    var attributes: [String: AttributeValue] = [
      "strides": .ints([stride, stride]), "pads": .ints([Int](repeating: kernel / 2, count: 4)),
      "dilations": .ints([1, 1]), "kept_positions": .ints(kept)]
    if channelsLast { attributes["layout"] = .convLayout(.nhwc) }
    var operands = [x, w, bias]
    if residual {
      operands.append(b.addArgument(name: "r", type: TensorType(.f32, activation(outChannels, out))))
      attributes["epilogue"] = .epilogue([.add, .relu])
    } else {
      attributes["epilogue"] = .epilogue([.sigmoid])
    }
    if let fill { attributes["masked_fill"] = .float(fill) }
    let y = try b.add1(.conv, operands, attributes, name: "y")
    let m = b.finish(results: [y])
    try verify(m)
    return m
  }

  func testMaskedConvsMatchTheInterpreter() throws {
    for (kernel, stride) in [(3, 1), (3, 2), (1, 1)] {
      for every in [0, 1, 2, 3, 100] {
        for fill in [nil, Float(0)] as [Float?] {
          for residual in [false, true] {
            try compare(try maskedConv(kernel: kernel, stride: stride, every: every, fill: fill, residual: residual))
          }
        }
      }
    }
  }

  /// The channels-last kernel (MaskedConvNHWC.swift): strides, pads, 1x1, nothing / every
  /// / some positions kept, fills, the residual epilogue, output channels that leave a
  /// vector tail (20) or fill whole vectors (16).
  func testChannelsLastMaskedConvsMatchTheInterpreter() throws {
    for (kernel, stride) in [(3, 1), (3, 2), (1, 1), (1, 2)] {
      for every in [0, 1, 3, 100] {
        for fill in [nil, Float(0), Float(-1.5)] as [Float?] {
          for residual in [false, true] {
            for outChannels in [16, 20] {
              try compare(try maskedConv(kernel: kernel, stride: stride, every: every, fill: fill, residual: residual,
                                         channelsLast: true, outChannels: outChannels))
            }
          }
        }
      }
    }
  }

  /// NHWC and NCHW masked convs compute the same values (the interpreter runs an NHWC
  /// conv as the NCHW one between transposes, so this also checks the LLVM kernels agree).
  func testChannelsLastMaskedConvMatchesChannelsFirst() throws {
    for residual in [false, true] {
      let first = try maskedConv(kernel: 3, stride: 1, every: 2, fill: nil, residual: residual)
      let last = try maskedConv(kernel: 3, stride: 1, every: 2, fill: nil, residual: residual, channelsLast: true)
      var seed: UInt64 = 7
      let x = seededFloats(2 * 8 * 10 * 10, seed: &seed), r = seededFloats(2 * 16 * 10 * 10, seed: &seed)
      func nhwc(_ v: [Float], _ c: Int) -> [Float] {  // [2, c, 10, 10] -> [2, 10, 10, c]
        (0..<v.count).map { i in let (n, p, ch) = (i / (100 * c), i / c % 100, i % c); return v[(n * c + ch) * 100 + p] }
      }
      let firstInputs = [Tensor(shape: [2, 8, 10, 10], scalars: x)] + (residual ? [Tensor(shape: [2, 16, 10, 10], scalars: r)] : [])
      let lastInputs = [Tensor(shape: [2, 10, 10, 8], scalars: nhwc(x, 8))] + (residual ? [Tensor(shape: [2, 10, 10, 16], scalars: nhwc(r, 16))] : [])
      let want = nhwc(try JITModel(first).run(firstInputs)[0].array(of: Float.self), 16)
      let got = try JITModel(last).run(lastInputs)[0].array(of: Float.self)
      let worst = zip(got, want).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
      XCTAssert(worst <= 1e-4, "max rel diff \(worst)")
    }
  }

  func testMaskedConvWithTwoFourWeights() throws {
    try compare(try maskedConv(kernel: 3, stride: 1, every: 2, fill: nil, residual: true, layout: .nm(n: 2, m: 4)))
  }
}
