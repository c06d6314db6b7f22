import SparrowIR
import SparrowPasses
import XCTest
import SparrowTestSupport

/// fold-masks and sparsify: structure, exactness, and interpreter equivalence.
final class SparsifyTests: XCTestCase {
  private func weightLayouts(_ m: Module) -> [SparseLayout?] {
    m.main.ops.filter { $0.kind == .gemm || $0.kind == .conv }.map { m.main.type(of: $0.operands[1]).layout }
  }

  func testFoldMasksIsEquivalent() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([3, 8]))
      let mask = Tensor(shape: [8, 4], scalars: (0..<32).map { Float($0 % 3 == 0 ? 1 : 0) })
      let masked = try b.add1(.mul, [b.constant(mask, name: "m"), b.weight([8, 4], "w", seed: 1)], name: "p")
      return [try b.add1(.gemm, [x, masked], name: "y")]
    }
    let after = try optimized(m, "fold-masks,dce")
    XCTAssertEqual(opKinds(after), ["constant", "gemm"])
    assertEquivalent(m, after)
  }

  func testGemmWithoutTransBGetsATransposedNMWeight() throws {
    // W [K=16, N=8] pruned 1:4 along K (columns of W).
    let k = 16, n = 8
    let rowsNK = prunedNM(seededTensor([n, k], seed: 2).array(of: Float.self), rows: n, k: k, n: 1, m: 4)
    var kn = [Float](repeating: 0, count: k * n)
    for i in 0..<n { for j in 0..<k { kn[j * n + i] = rowsNK[i * k + j] } }
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([16, k]))
      let g = try b.add1(.gemm, [x, b.constant(Tensor(shape: [k, n], scalars: kn), name: "w"), b.weight([n], "c", seed: 3)],
                         ["epilogue": .epilogue([.relu])], name: "y")
      return [g]
    }
    let after = try optimized(m, "sparsify,dce")
    XCTAssertEqual(weightLayouts(after), [.nm(n: 1, m: 4)])
    let gemm = try XCTUnwrap(ops(after, .gemm).first)
    XCTAssertTrue(gemm.attributes.bool("transB"))
    XCTAssertEqual(after.main.type(of: gemm.operands[1]).shape, [n, k])
    assertEquivalent(m, after)
  }

  func testConvWithEpilogueGetsNMAndStaysEquivalent() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 8, 6, 6]))
      let r = b.addArgument(name: "r", type: f32([1, 16, 6, 6]))
      let w = b.constant(prunedConvWeight([16, 8, 3, 3], n: 2, m: 8, channelsInnermost: true, seed: 4), name: "w")
      return [try b.add1(.conv, [x, w, b.weight([16], "b", seed: 5), r],
                         ["strides": .ints([1, 1]), "pads": .ints([1, 1, 1, 1]), "dilations": .ints([1, 1]),
                          "epilogue": .epilogue([.add, .relu])], name: "y")]
    }
    let after = try optimized(m, "lower-conv,sparsify,dce")
    XCTAssertEqual(weightLayouts(after), [.nm(n: 2, m: 8)])
    try verify(after)
    assertEquivalent(m, after)
  }

  func testBlocksAndUnstructuredPickBSRAndCSR() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([16, 32]))
      let blocks = Tensor(shape: [16, 32], scalars: blockPruned(rows: 16, k: 32, r: 4, c: 4, keepEvery: 10, seed: 6))
      let g1 = try b.add1(.gemm, [x, b.constant(blocks, name: "wb")], ["transB": .bool(true)], name: "y1")
      let g2 = try b.add1(.gemm, [x, b.constant(magnitudePruned([16, 32], threshold: 0.8, seed: 7), name: "wu")],
                          ["transB": .bool(true)], name: "y2")
      return [g1, g2]
    }
    let after = try optimized(m, "sparsify,dce")
    XCTAssertEqual(weightLayouts(after), [.bsr(r: 4, c: 4), .csr])
    assertEquivalent(m, after)
  }

  func testDenseWeightsAndOffModeAreLeftAlone() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([16, 32]))
      let pruned = Tensor(shape: [8, 32], scalars: prunedNM(seededTensor([8, 32], seed: 8).array(of: Float.self),
                                                          rows: 8, k: 32, n: 1, m: 4))
      let g1 = try b.add1(.gemm, [x, b.weight([8, 32], "dense", seed: 9)], ["transB": .bool(true)], name: "y1")
      let g2 = try b.add1(.gemm, [x, b.constant(pruned, name: "nm")], ["transB": .bool(true)], name: "y2")
      return [g1, g2]
    }
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify")), [nil, .nm(n: 1, m: 4)])
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify{mode=off}")), [nil, nil])
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify{mode=nm}")), [nil, .nm(n: 1, m: 4)])
    // Forced blocks: 4x1 blocks of a 1:4 weight are partly empty; the dense weight has none.
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify{mode=bsr}")), [nil, .bsr(r: 4, c: 1)])
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify{mode=csr}")), [nil, .csr])
    XCTAssertThrowsError(try optimized(m, "sparsify{mode=fast}"))
  }

  func testKNotMultipleOfMStaysDense() throws {
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 6]))
      var w = seededTensor([4, 6], seed: 10).array(of: Float.self)
      for i in w.indices where i % 2 == 1 { w[i] = 0 }  // 50% but K = 6 fits no M
      return [try b.add1(.gemm, [x, b.constant(Tensor(shape: [4, 6], scalars: w), name: "w")],
                         ["transB": .bool(true)], name: "y")]
    }
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify{mode=nm}")), [nil])
  }

  func testAutoPicksTwoOfFourForATransformerGemm() throws {
    // A BERT-like layer: Y = X W^T + b with a 2:4 weight along K; the re-fit cost model
    // (packed hybrid kernel, ~1.56x) converts it, and the reason names the estimate.
    let w = Tensor(shape: [16, 32], scalars: prunedNM(seededTensor([16, 32], seed: 12).array(of: Float.self),
                                                     rows: 16, k: 32, n: 2, m: 4))
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([16, 32]))
      return [try b.add1(.gemm, [x, b.constant(w, name: "w"), b.weight([16], "c", seed: 13)], ["transB": .bool(true)],
                         name: "y")]
    }
    let after = try optimized(m, "sparsify,dce")
    XCTAssertEqual(weightLayouts(after), [.nm(n: 2, m: 4)])
    let choice = SparseCostModel.choose(analyzeWeight(w, transposed: true), mode: .auto)
    XCTAssertTrue(choice.reason.hasPrefix("#nm<2,4> 1.56x est."), choice.reason)
    assertEquivalent(m, after)
  }

  func testFewTokensStayDense() throws {
    // ResNet-50's fc (1 token): the sparse kernel vectorizes over tokens and would fill
    // 1 of 16 lanes (it ran 2.2x slower as #nm<1,4>); the estimate scales by the lane fill.
    let w = Tensor(shape: [16, 32], scalars: prunedNM(seededTensor([16, 32], seed: 14).array(of: Float.self),
                                                     rows: 16, k: 32, n: 1, m: 4))
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 32]))
      return [try b.add1(.gemm, [x, b.constant(w, name: "w")], ["transB": .bool(true)], name: "y")]
    }
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify,dce")), [nil])
    let choice = SparseCostModel.choose(analyzeWeight(w, transposed: true), mode: .auto, tokens: 1)
    XCTAssertTrue(choice.reason.hasPrefix("best sparse #nm<1,4> 0.20x"), choice.reason)
    // Forced, it still converts.
    XCTAssertEqual(weightLayouts(try optimized(m, "sparsify{mode=nm}")), [.nm(n: 1, m: 4)])
  }
}

/// sparsify against Winograd: the dense alternative of a conv is the algorithm it runs.
final class SparsifyWinogradTests: XCTestCase {
  /// A ResNet-like 3x3 layer (64 -> 64 at 56x56, pad 1): lower-conv picks F(4x4).
  private func resnetLayer(_ weight: Tensor) throws -> Module {
    try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, 64, 56, 56]))
      return [try b.add1(.conv, [x, b.constant(weight, name: "w"), b.weight([64], "b", seed: 21)],
                         ["strides": .ints([1, 1]), "pads": .ints([1, 1, 1, 1]), "dilations": .ints([1, 1]),
                          "epilogue": .epilogue([.relu])], name: "y")]
    }
  }

  private func conv(_ m: Module) throws -> SparrowIR.Operation { try XCTUnwrap(ops(m, .conv).first) }

  func testWinogradBeatsTwoOfFour() throws {
    let w = prunedConvWeight([64, 64, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 20)
    let m = try resnetLayer(w)
    let after = try optimized(m, "lower-conv,sparsify,dce")
    let y = try conv(after)
    XCTAssertEqual(y.attributes.convAlgorithm?.rawValue, "winograd4")
    XCTAssertNil(after.main.type(of: y.operands[1]).layout)
    let choice = SparseCostModel.choose(analyzeWeight(w, transposed: true), mode: .auto, denseAlgorithm: .winograd4,
                                        tokens: 56 * 56, conv: true)
    XCTAssertNil(choice.layout)
    XCTAssertEqual(choice.reason, "#nm<2,4> 1.56x < 1.10 x dense (winograd4) 1.55x est.")
    // Without lower-conv the pass assumes what lower-conv would pick: still dense.
    XCTAssertNil(try optimized(m, "sparsify").main.type(of: try conv(m).operands[1]).layout)
    // The report says the same about the dense model.
    let report = try XCTUnwrap(layerReport(after).first { $0.op == "conv" })
    XCTAssertEqual(report.choice?.reason, choice.reason)
    // With Winograd off the im2col GEMM is the alternative and 2:4 wins, as before.
    let im2col = try optimized(m, "lower-conv{winograd=off},sparsify,dce")
    XCTAssertEqual(im2col.main.type(of: try conv(im2col).operands[1]).layout, .nm(n: 2, m: 4))
  }

  /// F(4x4) gains less over the GEMM with fewer tiles (256@14: 1.18x, 128@28: 1.31x,
  /// 64@56: 1.57x measured), so a 2:4 weight (1.56x est.) replaces it below 56x56.
  func testTwoOfFourBeatsWinogradOnlyOnFewPositions() throws {
    let s = try XCTUnwrap(analyzeWeight(prunedConvWeight([64, 64, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 20),
                                        transposed: true))
    XCTAssertEqual(SparseCostModel.choose(s, mode: .auto, denseAlgorithm: .winograd4, tokens: 14 * 14).layout,
                   .nm(n: 2, m: 4))
    XCTAssertEqual(SparseCostModel.choose(s, mode: .auto, denseAlgorithm: .winograd4, tokens: 28 * 28).layout,
                   .nm(n: 2, m: 4))
    XCTAssertNil(SparseCostModel.choose(s, mode: .auto, denseAlgorithm: .winograd4, tokens: 56 * 56).layout)
  }

  func testForcedTwoOfFourReplacesWinogradWithIm2col() throws {
    let m = try resnetLayer(prunedConvWeight([64, 64, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 22))
    let after = try optimized(m, "lower-conv,sparsify{mode=nm},dce")
    let y = try conv(after)
    XCTAssertEqual(after.main.type(of: y.operands[1]).layout, .nm(n: 2, m: 4))
    XCTAssertEqual(y.attributes.convAlgorithm?.rawValue, "im2col")
    let reason = try XCTUnwrap(layerReport(after, sparsity: .nm).first { $0.op == "conv" }?.choice?.reason)
    XCTAssertEqual(reason, "#nm<2,4> 1.56x est. (forced nm)")
    try verify(after)
    assertEquivalent(m, after)
  }

  func testSparseBlocksBeatWinograd() throws {
    // 4 output x 4 input channel blocks over all taps, one in 10 kept: 4x4 blocks along
    // (kh, kw, Cin) at 10% density, #bsr<4,4> ~7.8x > F(4x4)'s 2.5x.
    var w = seededTensor([64, 64, 3, 3], seed: 23).array(of: Float.self)
    for o in 0..<64 { for c in 0..<64 where ((o / 4) * 16 + c / 4) % 10 != 0 { for t in 0..<9 { w[(o * 64 + c) * 9 + t] = 0 } } }
    let m = try resnetLayer(Tensor(shape: [64, 64, 3, 3], scalars: w))
    let after = try optimized(m, "lower-conv,sparsify,dce")
    let y = try conv(after)
    XCTAssertEqual(after.main.type(of: y.operands[1]).layout, .bsr(r: 4, c: 4))
    XCTAssertEqual(y.attributes.convAlgorithm?.rawValue, "im2col")
    let reason = try XCTUnwrap(layerReport(after).first { $0.op == "conv" }?.choice?.reason)
    XCTAssertTrue(reason.hasPrefix("#bsr<4,4>"), reason)
    try verify(after)
    assertEquivalent(m, after)
    // lower-conv again leaves the sparse conv on im2col.
    XCTAssertEqual(try conv(try optimized(after, "lower-conv")).attributes.convAlgorithm?.rawValue, "im2col")
  }

  func testVerifierRejectsWinogradWithASparseWeight() throws {
    let m = try resnetLayer(prunedConvWeight([64, 64, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 24))
    var bad = try optimized(m, "lower-conv,sparsify{mode=nm},dce")
    let i = try XCTUnwrap(bad.main.ops.firstIndex { $0.kind == .conv })
    bad.main.ops[i].attributes.values["algorithm"] = .convAlgorithm(.winograd4)
    XCTAssertThrowsError(try verify(bad))
  }
}
