import SparrowIR
import SparrowPasses
import XCTest

/// choose-conv-layout: NHWC convs with the transposes between them cancelled; the math
/// unchanged on the interpreter and on the LLVM target (assertEquivalent runs both).
final class ChooseConvLayoutTests: XCTestCase {
  /// A ResNet bottleneck with a strided shortcut, then a pool (NCHW only) and a depthwise conv.
  private func bottleneck() throws -> Module {
    try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 8, 10, 10]))
      let bias = b.weight([16], "bias", seed: 9)
      let a = try b.conv([x, b.weight([8, 8, 1, 1], "w1", seed: 1)], kernel: 1, name: "a")
      let ra = try b.add1(.relu, [a], name: "ra")
      let c = try b.conv([ra, b.weight([8, 8, 3, 3], "w2", seed: 2)], kernel: 3, pad: 1, name: "c")
      let rc = try b.add1(.relu, [c], name: "rc")
      let d = try b.conv([rc, b.weight([16, 8, 1, 1], "w3", seed: 3), bias], kernel: 1, stride: 2, name: "d")
      let s = try b.conv([x, b.weight([16, 8, 1, 1], "ws", seed: 4)], kernel: 1, stride: 2, name: "s")
      let sum = try b.add1(.add, [d, s], name: "sum")
      let r = try b.add1(.relu, [sum], name: "r")
      let e = try b.conv([r, b.weight([16, 16, 3, 3], "w4", seed: 5)], kernel: 3, stride: 2, pad: 1, name: "e")
      let p = try b.add1(.max_pool, [e], ["kernel": .ints([2, 2]), "strides": .ints([1, 1]),
                                         "pads": .ints([0, 0, 0, 0]), "dilations": .ints([1, 1])], name: "p")
      let dw = try b.conv([r, b.weight([16, 1, 3, 3], "wd", seed: 6)], kernel: 3, pad: 1, group: 16, name: "dw")
      return [p, dw]
    }
  }

  /// Four 1x1 convs p0...p3, 64 -> 256 -> 64 -> 256 -> 64 channels, after `h`.
  private func pointwiseChain(_ h: ValueID, _ b: inout Builder) throws -> ValueID {
    var h = h
    for (i, (cin, cout)) in [(64, 256), (256, 64), (64, 256), (256, 64)].enumerated() {
      h = try b.conv([h, b.weight([cout, cin, 1, 1], "p\(i)", seed: 2 + UInt64(i), in: -0.1...0.1)], kernel: 1,
                     name: "p\(i)")
    }
    return h
  }

  func testNHWCChainsHaveTransposesOnlyAtTheirEdges() throws {
    let m = try bottleneck()
    let after = try optimized(m, "fuse-epilogue,lower-conv,choose-conv-layout{layout=nhwc},dce")
    let layouts = ops(after, .conv).map { $0.attributes.convLayout.rawValue }
    XCTAssertEqual(layouts.filter { $0 == "nhwc" }.count, 6, "every conv, the depthwise one too")
    // x in (shared by a and s), back out to the pool and out of the depthwise conv.
    XCTAssertEqual(ops(after, .transpose).count, 3, "\(opKinds(after))")
    assertEquivalent(m, after)
  }

  func testUnfusedChainCancelsAcrossReluAndAdd() throws {
    let m = try bottleneck()
    let after = try optimized(m, "lower-conv,choose-conv-layout{layout=nhwc},dce")
    XCTAssertEqual(ops(after, .transpose).count, 3, "\(opKinds(after))")
    assertEquivalent(m, after)
  }

  func testNCHWAndAutoKeepTheModule() throws {
    let m = try bottleneck()
    for pipeline in ["lower-conv,choose-conv-layout{layout=nchw}", "lower-conv,choose-conv-layout"] {
      let after = try optimized(m, pipeline)
      XCTAssertTrue(ops(after, .transpose).isEmpty, pipeline)
      XCTAssertTrue(ops(after, .conv).allSatisfy { $0.attributes.convLayout.rawValue == "nchw" }, pipeline)
    }
  }

  /// `auto` on a conv chain with nothing NCHW-only: NHWC when the convs' FLOPs outweigh
  /// the transposes at the function's edges, NCHW for the same chain with 16 times fewer.
  func testAutoWeighsTheEdgeTransposes() throws {
    func chain(channels: Int) throws -> Module {
      try makeModule { b in
        let x = b.addArgument(name: "x", type: f32([1, channels, 20, 20]))
        let a = try b.conv([x, b.weight([channels, channels, 1, 1], "w1", seed: 1)], kernel: 1, name: "a")
        let r = try b.add1(.relu, [a], name: "r")
        return [try b.conv([r, b.weight([channels, channels, 3, 3], "w2", seed: 2)], kernel: 3, stride: 2, pad: 1, name: "c")]
      }
    }
    let m = try chain(channels: 64)
    let after = try optimized(m, "lower-conv,choose-conv-layout")
    XCTAssertTrue(ops(after, .conv).allSatisfy { $0.attributes.convLayout.rawValue == "nhwc" })
    XCTAssertEqual(ops(after, .transpose).count, 2, "the function's edges only")
    assertEquivalent(m, after)
    let small = try optimized(try chain(channels: 16), "lower-conv,choose-conv-layout")
    XCTAssertTrue(ops(small, .transpose).isEmpty)
  }

  /// `auto` mixes layouts: an RGB stem and a pool stay NCHW between NHWC convs (a Winograd
  /// one among them) when the convs save more than the transposes cost.
  func testAutoMixesLayouts() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 3, 56, 56]))
      var h = try b.conv([x, b.weight([64, 3, 3, 3], "stem", seed: 1, in: -0.2...0.2)], kernel: 3, stride: 2, pad: 1,
                         name: "stem")
      h = try pointwiseChain(h, &b)
      h = try b.conv([h, b.weight([64, 64, 3, 3], "w", seed: 9, in: -0.1...0.1)], kernel: 3, pad: 1, name: "w")
      h = try b.add1(.max_pool, [h], ["kernel": .ints([2, 2]), "strides": .ints([2, 2]),
                                      "pads": .ints([0, 0, 0, 0]), "dilations": .ints([1, 1])], name: "pool")
      return [try b.conv([h, b.weight([64, 64, 1, 1], "q", seed: 10, in: -0.1...0.1)], kernel: 1, name: "q")]
    }
    let after = try optimized(m, "lower-conv{winograd=f2},choose-conv-layout,dce")
    let layout = { (name: String) in
      ops(after, .conv).first { after.main.name(of: $0.result).hasPrefix(name) }?.attributes.convLayout.rawValue
    }
    XCTAssertEqual(layout("stem"), "nchw")
    XCTAssertEqual(ops(after, .conv).first { $0.attributes.convAlgorithm?.rawValue == "winograd2" }?.attributes.convLayout.rawValue, "nhwc")
    XCTAssertEqual(["p0", "p1", "p2", "p3", "w", "q"].map(layout), Array(repeating: "nhwc", count: 6))
    // After the stem, around the pool, and out.
    XCTAssertEqual(ops(after, .transpose).count, 4, "\(opKinds(after))")
    assertEquivalent(m, after)
  }

  /// `auto` keeps NCHW when NCHW-only ops between the convs would need more transposes
  /// than the convs save (a pool after every pointwise conv).
  func testAutoKeepsNCHWAroundPools() throws {
    let m = try makeModule { b in
      var h = b.addArgument(name: "x", type: f32([1, 64, 28, 28]))
      for i in 0..<3 {
        h = try b.conv([h, b.weight([64, 64, 1, 1], "p\(i)", seed: 10 + UInt64(i))], kernel: 1, name: "p\(i)")
        h = try b.add1(.max_pool, [h], ["kernel": .ints([3, 3]), "strides": .ints([1, 1]),
                                        "pads": .ints([1, 1, 1, 1]), "dilations": .ints([1, 1])], name: "pool\(i)")
      }
      return [h]
    }
    let after = try optimized(m, "lower-conv,choose-conv-layout")
    XCTAssertTrue(ops(after, .transpose).isEmpty, "\(opKinds(after))")
  }

  /// `auto` leaves the convs sparsify would make sparse NCHW, and only those; with
  /// `sparsity=off` (the driver's `--sparsity off`) they go NHWC with the rest.
  func testConvsSparsifyWouldConvertStayNCHW() throws {
    let m = try makeModule { b in
      var h = b.addArgument(name: "x", type: f32([1, 64, 28, 28]))
      h = try pointwiseChain(h, &b)
      let w = b.constant(prunedConvWeight([64, 64, 1, 1], n: 1, m: 4, channelsInnermost: true, seed: 3), name: "ws")
      return [try b.conv([h, w], kernel: 1, name: "s")]
    }
    func layouts(_ pipeline: String) throws -> [String] {
      try optimized(m, pipeline).main.ops.filter { $0.kind == .conv }.map { $0.attributes.convLayout.rawValue }
    }
    XCTAssertEqual(try layouts("lower-conv,choose-conv-layout"), ["nhwc", "nhwc", "nhwc", "nhwc", "nchw"])
    XCTAssertEqual(try layouts("lower-conv,choose-conv-layout{sparsity=off}"), Array(repeating: "nhwc", count: 5))
    let sparse = try optimized(m, "lower-conv,choose-conv-layout,sparsify,dce")
    XCTAssertNotNil(sparse.main.type(of: try XCTUnwrap(ops(sparse, .conv).last).operands[1]).layout)
    assertEquivalent(m, sparse)
  }

  /// A 2:4 3x3 conv at 28x28: against the NCHW Winograd conv 2:4 wins (sparsify converts
  /// it), against the NHWC one it loses, so `auto` runs it dense and channels-last.
  func testTwoOfFourLosesToChannelsLastWinograd() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 128, 28, 28]))
      let w = b.constant(prunedConvWeight([128, 128, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 5), name: "w")
      return [try b.conv([x, w], kernel: 3, pad: 1, name: "y")]
    }
    let auto = try optimized(m, "lower-conv,choose-conv-layout,sparsify,dce")
    let autoConv = try XCTUnwrap(ops(auto, .conv).first)
    XCTAssertEqual(autoConv.attributes.convLayout.rawValue, "nhwc")
    XCTAssertEqual(autoConv.attributes.convAlgorithm?.rawValue, "winograd4")
    XCTAssertNil(auto.main.type(of: autoConv.operands[1]).layout)
    let nchw = try optimized(m, "lower-conv,choose-conv-layout{layout=nchw},sparsify,dce")
    XCTAssertEqual(nchw.main.type(of: try XCTUnwrap(ops(nchw, .conv).first).operands[1]).layout, .nm(n: 2, m: 4))
  }

  func testO2WithNHWC() throws {
    let m = try bottleneck()
    let o2 = Pipelines.O2.map { $0 == "lower-conv" ? "lower-conv,choose-conv-layout{layout=nhwc}" : $0 }
    let after = try optimized(m, o2.joined(separator: ","))
    XCTAssertEqual(ops(after, .conv).filter { $0.attributes.convLayout.rawValue == "nhwc" }.count, 6)
    assertEquivalent(m, after)
  }

  /// Sparse convs stay NCHW: a sparse weight is never made NHWC, and sparsify leaves NHWC
  /// convs dense. Either order gives the dense result.
  func testSparseWeightsNeverRunNHWC() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 16, 8, 8]))
      let w = b.constant(prunedConvWeight([16, 16, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 3), name: "w")
      return [try b.conv([x, w], kernel: 3, pad: 1, name: "y")]
    }
    let sparseFirst = try optimized(m, "lower-conv,sparsify{mode=nm},choose-conv-layout{layout=nhwc}")
    let nhwcFirst = try optimized(m, "lower-conv,choose-conv-layout{layout=nhwc},sparsify{mode=nm}")
    let sparseConv = try XCTUnwrap(ops(sparseFirst, .conv).first)
    XCTAssertNotNil(sparseFirst.main.type(of: sparseConv.operands[1]).layout, "sparsify made the weight sparse")
    XCTAssertEqual(ops(sparseFirst, .conv).first?.attributes.convLayout.rawValue, "nchw")
    let nhwcConv = try XCTUnwrap(ops(nhwcFirst, .conv).first)
    XCTAssertEqual(nhwcConv.attributes.convLayout.rawValue, "nhwc")
    XCTAssertNil(nhwcFirst.main.type(of: nhwcConv.operands[1]).layout)
    assertEquivalent(m, sparseFirst)
    assertEquivalent(m, nhwcFirst)
  }
}
