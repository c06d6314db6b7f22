//===--- ConvTests.swift - conv and conv_transpose against direct loops --===//
//
// The kernels (GEMM on 1x1, depthwise direct loop, im2col + GEMM, col2im) are compared
// with the convolution written as its definition, over many configurations.

import XCTest
import SparrowIR
import SparrowInterpreter
import SparrowTestSupport
import SparrowTargetSupport

private struct ConvConfig {
  var batch = 1, channels = 2, filters = 3, group = 1
  var input: [Int], kernel: [Int]
  var strides: [Int]? = nil, dilations: [Int]? = nil, pads: [Int]? = nil
  var bias = true
  var outputPadding: [Int]? = nil

  var spatial: Int { input.count }
  var s: [Int] { strides ?? [Int](repeating: 1, count: spatial) }
  var d: [Int] { dilations ?? [Int](repeating: 1, count: spatial) }
  var p: [Int] { pads ?? [Int](repeating: 0, count: 2 * spatial) }
  var op: [Int] { outputPadding ?? [Int](repeating: 0, count: spatial) }

  var attributes: [String: AttributeValue] {
    var a: [String: AttributeValue] = ["strides": .ints(s), "dilations": .ints(d), "pads": .ints(p),
                                       "group": .int(group)]
    if outputPadding != nil { a["output_padding"] = .ints(op) }
    return a
  }
}

final class ConvTests: XCTestCase {
  /// y[n, m, o...] = b[m] + sum_{c in group, k...} x[n, c, o*s - p + k*d] * w[m, c, k...]
  private func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ c: ConvConfig, out: [Int]) -> [Double] {
    let (vx, vw, vb) = (x.doubles, w.doubles, b?.doubles)
    let cg = c.channels / c.group, mg = c.filters / c.group
    var y = [Double](repeating: 0, count: out.reduce(1, *))
    forEachIndexTuple(out) { o in
      let (n, m) = (o[0], o[1])
      let g = m / mg
      var acc = vb?[m] ?? 0
      for ci in 0..<cg {
        forEachIndexTuple(c.kernel) { k in
          var idx = [n, g * cg + ci]
          for a in 0..<c.spatial {
            let i = o[2 + a] * c.s[a] - c.p[a] + k[a] * c.d[a]
            if i < 0 || i >= c.input[a] { return }
            idx.append(i)
          }
          acc += vx[rowMajorOffset(idx, x.shape)] * vw[rowMajorOffset([m, ci] + k, w.shape)]
        }
      }
      y[rowMajorOffset(o, out)] = acc
    }
    return y
  }

  private static let convConfigs: [ConvConfig] = [
    ConvConfig(channels: 4, filters: 6, input: [5, 6], kernel: [1, 1]),                     // pointwise GEMM
    ConvConfig(batch: 2, channels: 3, filters: 4, input: [7, 6], kernel: [3, 3], pads: [1, 1, 1, 1]),
    ConvConfig(channels: 3, filters: 2, input: [9, 8], kernel: [3, 2], strides: [2, 3], pads: [1, 0, 2, 1]),
    ConvConfig(channels: 2, filters: 2, input: [8, 9], kernel: [3, 3], dilations: [2, 3], pads: [2, 1, 0, 3]),
    ConvConfig(channels: 4, filters: 6, group: 2, input: [6, 5], kernel: [3, 3], strides: [2, 1], pads: [1, 1, 1, 1]),
    ConvConfig(channels: 4, filters: 4, group: 4, input: [7, 7], kernel: [3, 3], pads: [1, 1, 1, 1]),   // depthwise
    ConvConfig(channels: 3, filters: 6, group: 3, input: [8, 7], kernel: [3, 3], strides: [2, 2],
               dilations: [1, 2], pads: [1, 2, 0, 1]),                                          // depthwise x2
    ConvConfig(channels: 2, filters: 3, input: [4, 4], kernel: [1, 1], strides: [2, 2]),         // 1x1 strided
    ConvConfig(channels: 2, filters: 3, input: [4, 5], kernel: [1, 1], pads: [1, 0, 0, 1]),      // 1x1 padded
    ConvConfig(channels: 3, filters: 2, input: [11], kernel: [3], strides: [2], pads: [1, 2]),   // 1-D
    ConvConfig(channels: 2, filters: 4, group: 2, input: [10], kernel: [4], dilations: [2], pads: [3, 0]),
    ConvConfig(channels: 2, filters: 3, input: [4, 5, 6], kernel: [2, 3, 2], strides: [1, 2, 2],
               pads: [1, 0, 1, 0, 1, 1]),                                                        // 3-D
    ConvConfig(channels: 2, filters: 2, group: 2, input: [3, 4, 5], kernel: [3, 3, 3],
               dilations: [1, 1, 2], pads: [1, 1, 1, 1, 1, 1], bias: false),                    // 3-D depthwise
    ConvConfig(channels: 3, filters: 2, input: [5, 5], kernel: [5, 5], bias: false),             // one window
  ]

  func testConvMatchesDirectLoopForManyConfigurations() throws {
    var r = SeededGenerator(seed: 10)
    for (i, c) in Self.convConfigs.enumerated() {
      let x = r.tensor([c.batch, c.channels] + c.input)
      let w = r.tensor([c.filters, c.channels / c.group] + c.kernel)
      let b = c.bias ? r.tensor([c.filters]) : nil
      let y = try evaluate1(.conv, [x, w] + (b.map { [$0] } ?? []), c.attributes)
      XCTAssertEqual(Array(y.shape[0..<2]), [c.batch, c.filters])
      assertClose(y, y.element, y.shape, naiveConv(x, w, b, c, out: y.shape), "config \(i)")
    }
  }

  func testConvF64() throws {
    var r = SeededGenerator(seed: 11)
    let c = ConvConfig(channels: 2, filters: 2, input: [5, 5], kernel: [3, 3], pads: [1, 1, 1, 1])
    let x32 = r.tensor([1, 2, 5, 5]), w32 = r.tensor([2, 2, 3, 3])
    let x = Tensor(shape: x32.shape, scalars: x32.doubles), w = Tensor(shape: w32.shape, scalars: w32.doubles)
    let y = try evaluate1(.conv, [x, w], c.attributes)
    XCTAssertEqual(y.element, .f64)
    assertClose(y, y.element, [1, 2, 5, 5], naiveConv(x, w, nil, c, out: y.shape))
  }

  func testConvAgainstOnnxruntime() throws {
    // onnxruntime Conv, x = arange(16).reshape(1,1,4,4), w = ones(1,1,3,3), pads 1, strides 2.
    let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
    let w = Tensor(shape: [1, 1, 3, 3], scalars: [Float](repeating: 1, count: 9))
    let y = try evaluate1(.conv, [x, w], ["strides": .ints([2, 2]), "dilations": .ints([1, 1]),
                                       "pads": .ints([1, 1, 1, 1])])
    assertClose(y, y.element, [1, 1, 2, 2], [10, 24, 51, 90])
  }

  /// y[n, g*mg + m, i*s - p + k*d] += x[n, g*cg + c, i...] * w[g*cg + c, m, k...]
  private func naiveConvTranspose(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ c: ConvConfig, out: [Int]) -> [Double] {
    let (vx, vw) = (x.doubles, w.doubles)
    let cg = c.channels / c.group, mg = w.shape[1]
    var y = [Double](repeating: 0, count: out.reduce(1, *))
    forEachIndexTuple(x.shape) { xi in
      let (n, ch) = (xi[0], xi[1])
      let g = ch / cg
      for m in 0..<mg {
        forEachIndexTuple(c.kernel) { k in
          var o = [n, g * mg + m]
          for a in 0..<c.spatial {
            let i = xi[2 + a] * c.s[a] - c.p[a] + k[a] * c.d[a]
            if i < 0 || i >= out[2 + a] { return }
            o.append(i)
          }
          y[rowMajorOffset(o, out)] += vx[rowMajorOffset(xi, x.shape)] * vw[rowMajorOffset([ch, m] + k, w.shape)]
        }
      }
    }
    if let b = b?.doubles {
      forEachIndexTuple(out) { o in y[rowMajorOffset(o, out)] += b[o[1]] }
    }
    return y
  }

  func testConvTransposeMatchesScatterLoop() throws {
    var r = SeededGenerator(seed: 12)
    let configs: [ConvConfig] = [
      ConvConfig(channels: 2, filters: 3, input: [3, 4], kernel: [3, 3]),
      ConvConfig(batch: 2, channels: 3, filters: 2, input: [4, 3], kernel: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1]),
      ConvConfig(channels: 4, filters: 2, group: 2, input: [3, 3], kernel: [2, 2], strides: [2, 2],
                 dilations: [2, 1], outputPadding: [1, 1]),
      ConvConfig(channels: 2, filters: 2, input: [5], kernel: [4], strides: [3], pads: [1, 2], outputPadding: [2]),
      ConvConfig(channels: 2, filters: 2, input: [2, 3, 2], kernel: [2, 2, 3], strides: [2, 1, 2], bias: false),
      ConvConfig(channels: 3, filters: 3, group: 3, input: [4, 4], kernel: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1]),
    ]
    for (i, c) in configs.enumerated() {
      let x = r.tensor([c.batch, c.channels] + c.input)
      let mg = c.filters / c.group
      let w = r.tensor([c.channels, mg] + c.kernel)
      let b = c.bias ? r.tensor([c.filters]) : nil
      let y = try evaluate1(.conv_transpose, [x, w] + (b.map { [$0] } ?? []),
                         c.attributes.merging(["output_padding": .ints(c.op)]) { $1 })
      assertClose(y, y.element, y.shape, naiveConvTranspose(x, w, b, c, out: y.shape), "config \(i)")
    }
  }

  func testConvTransposeAgainstOnnxruntime() throws {
    // onnxruntime ConvTranspose, x = arange(4).reshape(1,1,2,2), w = arange(4).reshape(1,1,2,2), strides 2.
    let x = Tensor(shape: [1, 1, 2, 2], scalars: (0..<4).map(Float.init))
    let w = Tensor(shape: [1, 1, 2, 2], scalars: (0..<4).map(Float.init))
    let y = try evaluate1(.conv_transpose, [x, w], ["strides": .ints([2, 2]), "dilations": .ints([1, 1]),
                                                 "pads": .ints([0, 0, 0, 0]), "output_padding": .ints([0, 0])])
    assertClose(y, y.element, [1, 1, 4, 4], [0, 0, 0, 1, 0, 0, 2, 3, 0, 2, 0, 3, 4, 6, 6, 9])
  }

  func testTooManySpatialAxesThrows() {
    let x = Tensor(zeros: TensorType(.f32, [1, 1, 2, 2, 2, 2]))
    let w = Tensor(zeros: TensorType(.f32, [1, 1, 1, 1, 1, 1]))
    XCTAssertThrowsError(try evaluate1(.conv, [x, w], ["strides": .ints([1, 1, 1, 1]),
                                                    "dilations": .ints([1, 1, 1, 1]), "pads": .ints([Int](repeating: 0, count: 8))]))
  }

  func testConvF16MatchesF32() throws {
    var r = SeededGenerator(seed: 12)
    let c = ConvConfig(channels: 2, filters: 2, input: [4, 4], kernel: [3, 3], pads: [1, 1, 1, 1])
    let x32 = r.tensor([1, 2, 4, 4]), w32 = r.tensor([2, 2, 3, 3])
    func f16(_ t: Tensor) -> Tensor {
      Tensor(type: t.type.with(element: .f16), bytes: t.doubles.map { Float($0).float16Bits }.withUnsafeBytes { [UInt8]($0) })
    }
    let (x, w) = (f16(x32), f16(w32))
    let y = try evaluate1(.conv, [x, w], c.attributes)
    XCTAssertEqual(y.element, .f16)
    assertClose(y, y.element, [1, 2, 4, 4], naiveConv(x, w, nil, c, out: y.shape), rtol: 2e-3, atol: 2e-3)
  }
}
