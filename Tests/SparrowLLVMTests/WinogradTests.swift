//===--- WinogradTests.swift - Winograd convs: LLVM vs the interpreter and Double ---===//
//
// Convs with algorithm "winograd2"/"winograd4" through the LLVM target, NCHW and NHWC
// (WinogradConv.swift, WinogradConvNHWC.swift): tails (output
// sides not multiples of the tile), padding 0, 1 and asymmetric, channel counts that are
// not multiples of 16, every epilogue kind, batch > 1, and ResNet-like layers. Errors
// are measured relative to the largest output magnitude (the project's 1e-4 bar).

import SparrowIR
import SparrowInterpreter
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

final class WinogradTests: XCTestCase {
  struct Conv {
    var batch = 1
    var channels: Int
    var outChannels: Int
    var height: Int
    var width: Int
    var pads = [1, 1, 1, 1]
    var bias = true
    var epilogue: [String] = []
    /// "nchw" or "nhwc" (channels last: WinogradConvNHWC.swift).
    var layout = "nchw"
    var outHeight: Int { height + pads[0] + pads[2] - 2 }
    var outWidth: Int { width + pads[1] + pads[3] - 2 }
  }

  private func module(_ c: Conv, algorithm: String, seed: UInt64 = 3) throws -> Module {
    var b = Builder(module: Module(name: "wino"), function: Function(name: "main"))
    func activations(_ channels: Int, _ height: Int, _ width: Int) -> TensorType {
      TensorType(.f32, c.layout == "nhwc" ? [c.batch, height, width, channels] : [c.batch, channels, height, width])
    }
    let x = b.addArgument(name: "x", type: activations(c.channels, c.height, c.width))
    var s = seed
    let w = b.constant(Tensor(shape: [c.outChannels, c.channels, 3, 3],
                              scalars: seededFloats(c.outChannels * c.channels * 9, seed: &s)), name: "w")
    var operands = [x, w]
    if c.bias || c.epilogue.contains("add") {
      operands.append(b.constant(Tensor(shape: [c.outChannels], scalars: seededFloats(c.outChannels, seed: &s)),
                                 name: "b"))
    }
    if c.epilogue.contains("add") {
      operands.append(b.addArgument(name: "r", type: activations(c.outChannels, c.outHeight, c.outWidth)))
    }
    var attributes: [String: AttributeValue] = [
      "strides": .ints([1, 1]), "pads": .ints(c.pads), "dilations": .ints([1, 1]),
      "algorithm": .convAlgorithm(ConvAlgorithm(rawValue: algorithm)!), "layout": .convLayout(ConvLayout(rawValue: c.layout)!)]
    if !c.epilogue.isEmpty { attributes["epilogue"] = .epilogue(try c.epilogue.map(EpilogueStep.init(parsing:))) }
    let y = try b.add1(.conv, operands, attributes, name: "y")
    return b.finish(results: [y])
  }

  private func inputs(_ m: Module, seed: UInt64 = 11) -> [Tensor] {
    var s = seed
    return m.main.arguments.map { Tensor(shape: m.main.type(of: $0).shape, scalars: seededFloats(m.main.type(of: $0).count, seed: &s)) }
  }

  /// max |got - want| / max |want|.
  private func relativeError(_ got: [Float], _ want: [Float]) -> Double {
    precondition(got.count == want.count)
    let scale = want.map { abs(Double($0)) }.max() ?? 0
    let worst = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return worst / max(scale, 1e-30)
  }

  /// The LLVM output of `c` with `algorithm` against the interpreter, in both layouts.
  private func check(_ c: Conv, _ algorithm: String, file: StaticString = #filePath, line: UInt = #line) throws {
    for layout in ["nchw", "nhwc"] {
      var c = c
      c.layout = layout
      let m = try module(c, algorithm: algorithm)
      try assertEquivalent(m, inputs: inputs(m), file: file, line: line)
    }
  }

  func testTransformsReproduceADirectConvolutionInDouble() throws {
    // Independent of the interpreter: a 1-channel 3x3 conv in Double, both tiles.
    let c = Conv(channels: 1, outChannels: 1, height: 7, width: 6, pads: [1, 1, 1, 1], bias: false)
    for algorithm in ["winograd2", "winograd4"] {
      let m = try module(c, algorithm: algorithm)
      let x = inputs(m)
      let xv = x[0].array(of: Float.self)
      let w = m.constants["w"]!.array(of: Float.self)
      var want = [Float](repeating: 0, count: c.outHeight * c.outWidth)
      for oy in 0..<c.outHeight {
        for ox in 0..<c.outWidth {
          var s = 0.0
          for i in 0..<3 {
            for j in 0..<3 {
              let (iy, ix) = (oy + i - 1, ox + j - 1)
              guard (0..<c.height).contains(iy), (0..<c.width).contains(ix) else { continue }
              s += Double(w[i * 3 + j]) * Double(xv[iy * c.width + ix])
            }
          }
          want[oy * c.outWidth + ox] = Float(s)
        }
      }
      let got = try JITModel(m).run(x)[0].array(of: Float.self)
      XCTAssertLessThan(relativeError(got, want), 1e-5, algorithm)
    }
  }

  func testTailsAndPadding() throws {
    for algorithm in ["winograd2", "winograd4"] {
      for (h, w) in [(5, 5), (6, 7), (9, 13), (3, 4)] {
        for pads in [[0, 0, 0, 0], [1, 1, 1, 1], [2, 0, 1, 3]] {
          try check(Conv(channels: 5, outChannels: 7, height: h, width: w, pads: pads), algorithm)
        }
      }
    }
  }

  func testChannelsNotMultiplesOfSixteenAndBatch() throws {
    for algorithm in ["winograd2", "winograd4"] {
      try check(Conv(batch: 3, channels: 19, outChannels: 21, height: 10, width: 11), algorithm)
      try check(Conv(batch: 2, channels: 33, outChannels: 17, height: 20, width: 18, pads: [0, 0, 0, 0]), algorithm)
    }
  }

  func testEveryEpilogueKind() throws {
    let epilogues: [[String]] = [["relu"], ["add"], ["add", "relu"], ["clip:0:6"], ["leaky_relu:0.1"],
                                 ["sigmoid"], ["tanh"], ["hard_swish"], ["silu"], ["gelu"], ["gelu:tanh"],
                                 ["relu", "add"]]
    for epilogue in epilogues {
      for algorithm in ["winograd2", "winograd4"] {
        try check(Conv(batch: 2, channels: 6, outChannels: 9, height: 9, width: 7, bias: false, epilogue: epilogue),
                  algorithm)
      }
    }
    try check(Conv(channels: 6, outChannels: 9, height: 9, width: 7, bias: false), "winograd4")
  }

  func testResNetLikeLayers() throws {
    // ResNet-50's 3x3 layers at reduced spatial size (the full sizes are in bench/winograd.md).
    for (channels, side) in [(64, 20), (128, 14), (256, 7)] {
      for algorithm in ["winograd2", "winograd4"] {
        try check(Conv(channels: channels, outChannels: channels, height: side, width: side, epilogue: ["relu"]),
                  algorithm)
      }
    }
  }

  func testThreadsSplitTheGemms() throws {
    for layout in ["nchw", "nhwc"] {
      let m = try module(Conv(batch: 2, channels: 40, outChannels: 70, height: 12, width: 9, epilogue: ["relu"],
                              layout: layout), algorithm: "winograd4")
      try assertEquivalent(m, inputs: inputs(m))  // 1, 2 and 3 threads: the same bytes
    }
  }

  func testVerifierRejectsWinogradOnAStridedConv() throws {
    var b = Builder(module: Module(name: "m"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [1, 4, 8, 8]))
    let w = b.constant(Tensor(shape: [4, 4, 3, 3], scalars: [Float](repeating: 1, count: 144)), name: "w")
    XCTAssertThrowsError(try b.add1(.conv, [x, w], ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                                    "dilations": .ints([1, 1]), "algorithm": .convAlgorithm(.winograd4)]))
  }
}
