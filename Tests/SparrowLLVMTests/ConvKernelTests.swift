import Foundation
import SparrowIR
import SparrowInterpreter
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

/// The vectorized depthwise and im2col paths (DepthwiseConv.swift, DepthwiseConvNHWC.swift,
/// Im2col.swift) against
/// the interpreter: widths below, at and above a vector (tails), odd channel counts,
/// strides 1, 2 (vector) and 3 (scalar fallback), asymmetric pads, dilation, epilogues;
/// and max pooling over the same bordered planes (PaddedPlane.swift).
final class ConvKernelTests: XCTestCase {
  /// One conv over x[2, channels, height, width]; `residual` adds a fused "add" epilogue.
  private func conv(channels: Int, outChannels: Int, group: Int, kernel: [Int], height: Int, width: Int,
                    strides: [Int], pads: [Int], dilations: [Int], epilogue: [String] = [],
                    bias: Bool = true, layout: String = "nchw") throws -> Module {
    var b = Builder(module: Module(name: "conv"), function: Function(name: "main"))
    func activations(_ c: Int, _ h: Int, _ w: Int) -> TensorType {
      TensorType(.f32, layout == "nhwc" ? [2, h, w, c] : [2, c, h, w])
    }
    let x = b.addArgument(name: "x", type: activations(channels, height, width))
    var seed: UInt64 = 77
    let w = b.constant(Tensor(shape: [outChannels, channels / group] + kernel,
                              scalars: seededFloats(outChannels * channels / group * kernel[0] * kernel[1], seed: &seed)),
                       name: "w")
    var operands = [x, w]
    if bias { operands.append(b.constant(Tensor(shape: [outChannels], scalars: seededFloats(outChannels, seed: &seed)), name: "b")) }
    let oh = (height + pads[0] + pads[2] - dilations[0] * (kernel[0] - 1) - 1) / strides[0] + 1
    let ow = (width + pads[1] + pads[3] - dilations[1] * (kernel[1] - 1) - 1) / strides[1] + 1
    var attributes: [String: AttributeValue] = ["strides": .ints(strides), "pads": .ints(pads),
                                                "dilations": .ints(dilations), "group": .int(group)]
    if layout == "nhwc" {
      attributes["layout"] = .convLayout(.nhwc)
      attributes["algorithm"] = .convAlgorithm(group > 1 ? .depthwise : .im2col)
    }
    if epilogue.contains("add") {
      operands.append(b.addArgument(name: "r", type: activations(outChannels, oh, ow)))
    }
    if !epilogue.isEmpty { attributes["epilogue"] = .epilogue(try epilogue.map(EpilogueStep.init(parsing:))) }
    let y = try b.add1(.conv, operands, attributes, name: "y")
    let m = b.finish(results: [y])
    try verify(m)
    return m
  }

  /// Both layouts (NHWC: DepthwiseConvNHWC.swift); NHWC also over 37 channels (two full
  /// vectors and a tail).
  func testDepthwiseTailsStridesPadsAndDilation() throws {
    for (layout, channels) in [("nchw", 7), ("nhwc", 7), ("nhwc", 37)] {
      for width in [5, 16, 17, 37] {
        for (stride, pads, dilation) in [(1, [1, 1, 1, 1], 1), (2, [1, 1, 1, 1], 1), (2, [0, 2, 1, 0], 1),
                                         (1, [2, 2, 2, 2], 2), (3, [1, 1, 1, 1], 1)] {
          try assertEquivalent(conv(channels: channels, outChannels: channels, group: channels, kernel: [3, 3],
                                          height: 9, width: width, strides: [stride, stride], pads: pads,
                                          dilations: [dilation, dilation], layout: layout))
        }
      }
    }
  }

  func testDepthwiseEpiloguesAndWideKernels() throws {
    for layout in ["nchw", "nhwc"] {
      try assertEquivalent(conv(channels: 5, outChannels: 5, group: 5, kernel: [5, 5], height: 12, width: 19,
                                      strides: [2, 2], pads: [2, 2, 2, 2], dilations: [1, 1], epilogue: ["clip:0:6"],
                                      layout: layout))
      try assertEquivalent(conv(channels: 3, outChannels: 3, group: 3, kernel: [3, 3], height: 8, width: 21,
                                      strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], epilogue: ["add", "relu"],
                                      layout: layout))
      try assertEquivalent(conv(channels: 4, outChannels: 4, group: 4, kernel: [3, 1], height: 6, width: 33,
                                      strides: [1, 2], pads: [1, 0, 1, 0], dilations: [1, 1], bias: false, layout: layout))
      // Every window clipped on both sides: a kernel wider than the padded row's inside.
      try assertEquivalent(conv(channels: 18, outChannels: 18, group: 18, kernel: [3, 5], height: 4, width: 3,
                                      strides: [1, 1], pads: [1, 2, 1, 2], dilations: [1, 1], layout: layout))
    }
  }

  /// The dense GEMM gathers im2col columns while packing (ConvolutionColumns.swift):
  /// several K and N blocks, vectors crossing output rows (widths below a vector), stride 2.
  func testImplicitColumnsAcrossBlocks() throws {
    for (width, stride) in [(23, 1), (5, 1), (40, 2), (9, 2)] {
      try assertEquivalent(conv(channels: 50, outChannels: 20, group: 1, kernel: [3, 3], height: 12, width: width,
                                      strides: [stride, stride], pads: [1, 1, 1, 1], dilations: [1, 1],
                                      epilogue: stride == 1 ? ["add", "relu"] : ["relu"]))
    }
  }

  /// Convs over few positions run as Yᵀ = Xᵀ · Wᵀ (GemmDescriptor.transposedAC): row
  /// tails of every size, several output-channel vectors, bias, residual, activation.
  func testPointwiseFewPositionsRunTransposed() throws {
    for (height, width, outChannels) in [(7, 7, 96), (3, 3, 48), (5, 2, 37), (1, 1, 64)] {
      XCTAssertTrue(GemmTiling.prefersTransposed(m: outChannels, n: height * width, lanes: 16))
      try assertEquivalent(conv(channels: 70, outChannels: outChannels, group: 1, kernel: [1, 1], height: height,
                                      width: width, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1],
                                      epilogue: ["add", "relu"]))
      try assertEquivalent(conv(channels: 400, outChannels: outChannels, group: 1, kernel: [1, 1], height: height,
                                      width: width, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], bias: false))
    }    // im2col convs too: the column matrix is A as written.
    for (kernel, stride, height, width) in [([3, 3], 1, 7, 7), ([3, 3], 2, 14, 13), ([1, 1], 2, 13, 14)] {
      try assertEquivalent(conv(channels: 40, outChannels: 64, group: 1, kernel: kernel, height: height, width: width,
                                      strides: [stride, stride], pads: kernel == [3, 3] ? [1, 1, 1, 1] : [0, 0, 0, 0],
                                      dilations: [1, 1], epilogue: stride == 1 ? ["add", "relu"] : ["relu"]))
    }
  }

  func testIm2colTailsStridesPadsAndDilation() throws {
    for width in [6, 16, 19] {
      for (kernel, stride, pads, dilation) in [([3, 3], 1, [1, 1, 1, 1], 1), ([3, 3], 2, [1, 1, 1, 1], 1),
                                               ([1, 1], 2, [0, 0, 0, 0], 1), ([7, 7], 2, [3, 3, 3, 3], 1),
                                               ([3, 3], 1, [0, 2, 1, 0], 2), ([3, 3], 3, [1, 1, 1, 1], 1)] {
        try assertEquivalent(conv(channels: 3, outChannels: 5, group: 1, kernel: kernel, height: 10, width: width,
                         strides: [stride, stride], pads: pads, dilations: [dilation, dilation],
                         epilogue: stride == 1 ? ["add", "relu"] : []))
      }
    }
  }

  func testMaxPoolTailsStridesPadsAndCeilMode() throws {
    for width in [5, 16, 35] {
      for (kernel, stride, pads, ceil) in [([3, 3], 2, [1, 1, 1, 1], false), ([5, 5], 1, [2, 2, 2, 2], false),
                                           ([2, 2], 2, [0, 0, 0, 0], true), ([3, 2], 1, [0, 1, 1, 0], false),
                                           ([3, 3], 3, [1, 1, 1, 1], false)] {
        var b = Builder(module: Module(name: "pool"), function: Function(name: "main"))
        let x = b.addArgument(name: "x", type: TensorType(.f32, [1, 3, 9, width]))
        let y = try b.add1(.max_pool, [x], ["kernel": .ints(kernel), "strides": .ints([stride, stride]),
                                            "pads": .ints(pads), "dilations": .ints([1, 1]), "ceil_mode": .bool(ceil)])
        try assertEquivalent(b.finish(results: [y]))
      }
    }
  }
}
