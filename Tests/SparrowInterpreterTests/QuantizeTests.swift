// Expected values were generated once with onnxruntime 1.32 and pasted here.

import SparrowIR
import XCTest

@testable import SparrowInterpreter

final class QuantizeTests: XCTestCase {
  func test_quantizeU8RoundsHalfToEvenAndSaturates() throws {
    let y = try evaluate(.quantize_linear, [tensor([8], [0.5, 1.5, 2.5, -0.5, 254.6, 300.0, -10.0, 3.49] as [Float]), tensor([], [1.0] as [Float]), tensor([], [0] as [UInt8])])
    assertExact(y[0], .u8, [8], [0, 2, 2, 0, 255, 255, 0, 3])
  }

  func test_quantizeI8ZeroPoint() throws {
    let y = try evaluate(.quantize_linear, [tensor([8], [0.5, 1.5, 2.5, -0.5, 254.6, 300.0, -10.0, 3.49] as [Float]), tensor([], [2.0] as [Float]), tensor([], [-3] as [Int8])])
    assertExact(y[0], .i8, [8], [-3, -2, -2, -3, 124, 127, -8, -1])
  }

  func test_quantizeI8PerAxis() throws {
    let y = try evaluate(.quantize_linear, [tensor([2, 3, 2], [0.7505728, 2.383283, 1.6541141, -1.6487569, -1.1990023, 2.2413206, -2.968408, 1.9273705, 1.7824166, -0.19239028, -1.1818055, -1.3294463] as [Float]), tensor([3], [0.02, 0.05, 0.1] as [Float]), tensor([3], [0, 5, -5] as [Int8])], ["axis": .int(1)])
    assertExact(y[0], .i8, [2, 3, 2], [38, 119, 38, -28, -17, 17, -128, 96, 41, 1, -17, -18])
  }

  func test_quantizeU8PerAxis0() throws {
    let y = try evaluate(.quantize_linear, [tensor([2, 3, 2], [0.7505728, 2.383283, 1.6541141, -1.6487569, -1.1990023, 2.2413206, -2.968408, 1.9273705, 1.7824166, -0.19239028, -1.1818055, -1.3294463] as [Float]), tensor([2], [0.03, 0.07] as [Float]), tensor([2], [128, 100] as [UInt8])], ["axis": .int(0)])
    assertExact(y[0], .u8, [2, 3, 2], [153, 207, 183, 73, 88, 203, 58, 128, 125, 97, 83, 81])
  }

  func test_quantizeI8Blocked() throws {
    let y = try evaluate(.quantize_linear, [tensor([2, 5], [-1.4707825, -0.32954216, 0.027289554, 0.32098413, 2.9730017, 1.7559716, 0.7330754, 2.933761, -1.7081478, -2.0387278] as [Float]), tensor([2, 3], [0.034501582, 0.01175768, 0.011427212, 0.030595552, 0.02864824, 0.046686713] as [Float]), tensor([2, 3], [0, 1, 2, -1, -2, 3] as [Int8])], ["axis": .int(1), "block_size": .int(2)])
    assertExact(y[0], .i8, [2, 5], [-43, -10, 3, 28, 127, 56, 23, 100, -62, -41])
  }

  func test_quantizeF16Input() throws {
    let y = try evaluate(.quantize_linear, [half([8], [0.5, 1.5, 2.5, -0.5, 254.625, 300.0, -10.0, 3.4902344]), half([], [1.0]), tensor([], [0] as [UInt8])])
    assertExact(y[0], .u8, [8], [0, 2, 2, 0, 255, 255, 0, 3])
  }

  func test_dequantizeU8() throws {
    let y = try evaluate(.dequantize_linear, [tensor([4], [0, 3, 128, 255] as [UInt8]), tensor([], [0.5] as [Float]), tensor([], [128] as [UInt8])])
    assertClose(y[0], .f32, [4], [-64.0, -62.5, 0.0, 63.5])
  }

  func test_dequantizeI8PerAxis() throws {
    let y = try evaluate(.dequantize_linear, [tensor([2, 3], [-128, 0, 127, 1, 2, 3] as [Int8]), tensor([3], [0.1, 0.2, 0.3] as [Float]), tensor([3], [0, 1, -1] as [Int8])], ["axis": .int(1)])
    assertClose(y[0], .f32, [2, 3], [-12.8000002, -0.200000003, 38.4000015, 0.100000001, 0.200000003, 1.20000005])
  }

  func test_dequantizeI32() throws {
    let y = try evaluate(.dequantize_linear, [tensor([3], [-100000, 0, 123456] as [Int32]), tensor([], [0.001] as [Float]), tensor([], [0] as [Int32])])
    assertClose(y[0], .f32, [3], [-100.000008, 0.0, 123.456009])
  }

  func test_dequantizeI8Blocked() throws {
    let y = try evaluate(.dequantize_linear, [tensor([3, 2], [1, 2, 3, 4, 5, 6] as [Int8]), tensor([2, 2], [0.5, 1.0, 2.0, 4.0] as [Float]), tensor([2, 2], [0, 1, 2, 3] as [Int8])], ["axis": .int(0), "block_size": .int(2)])
    assertClose(y[0], .f32, [3, 2], [0.5, 1.0, 1.5, 3.0, 6.0, 12.0])
  }

  func test_dequantizeToF16() throws {
    let y = try evaluate(.dequantize_linear, [tensor([3], [0, 3, 255] as [UInt8]), half([], [0.25]), tensor([], [1] as [UInt8])])
    assertClose(y[0], .f16, [3], [-0.25, 0.5, 63.5])
  }
}
