import SparrowIR
import SparrowPasses
import XCTest
import SparrowTestSupport

/// analyze-sparsity: N:M patterns along both conv orders, block densities, violations.
final class SparsityAnalysisTests: XCTestCase {
  func testConvTwoOfFourAlongChannelsInnermost() throws {
    let w = prunedConvWeight([8, 8, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 1)
    let s = try XCTUnwrap(analyzeWeight(w, transposed: true))
    XCTAssertEqual(s.rows, 8)
    XCTAssertEqual(s.k, 72)
    XCTAssertEqual(s.density, 0.5, accuracy: 1e-12)
    XCTAssertEqual(s.nm, NMPattern(n: 2, m: 4))
    XCTAssertNil(s.nmChannelsOuter)
    XCTAssertEqual(s.nmOrder, "kh,kw,cin")
    XCTAssertNil(layoutViolation(of: w, layout: .nm(n: 2, m: 4)))
  }

  func testConvPrunedAlongTheOtherOrderIsReportedAsSuch() throws {
    let w = prunedConvWeight([8, 8, 3, 3], n: 1, m: 4, channelsInnermost: false, seed: 2)
    let s = try XCTUnwrap(analyzeWeight(w, transposed: true))
    XCTAssertNil(s.nm)
    XCTAssertEqual(s.nmChannelsOuter, NMPattern(n: 1, m: 4))
    XCTAssertEqual(s.nmOrder, "cin,kh,kw")
    XCTAssertNotNil(layoutViolation(of: w, layout: .nm(n: 1, m: 4)))
  }

  func testSparsestPatternPrefersOneOfFourOverTwoOfEight() throws {
    let k = 32
    let dense = seededTensor([4, k], seed: 3).array(of: Float.self)
    let oneOfFour = analyzeWeight(Tensor(shape: [4, k], scalars: prunedNM(dense, rows: 4, k: k, n: 1, m: 4)),
                                  transposed: true)
    XCTAssertEqual(oneOfFour?.nm, NMPattern(n: 1, m: 4))
    let twoOfEight = analyzeWeight(Tensor(shape: [4, k], scalars: prunedNM(dense, rows: 4, k: k, n: 2, m: 8)),
                                   transposed: true)
    XCTAssertEqual(twoOfEight?.nm, NMPattern(n: 2, m: 8))
    XCTAssertNil(analyzeWeight(Tensor(shape: [4, k], scalars: dense), transposed: true)?.nm)
  }

  func testGemmWithoutTransBIsAnalyzedAlongK() throws {
    // W [K=8, N=2]: column j is output j's reduction vector; 1:4 along K.
    var w = [Float](repeating: 0, count: 16)
    w[0 * 2 + 0] = 1; w[5 * 2 + 0] = 2; w[3 * 2 + 1] = 3; w[4 * 2 + 1] = 4
    let s = try XCTUnwrap(analyzeWeight(Tensor(shape: [8, 2], scalars: w), transposed: false))
    XCTAssertEqual(s.rows, 2)
    XCTAssertEqual(s.k, 8)
    XCTAssertEqual(s.nm, NMPattern(n: 1, m: 4))
    XCTAssertEqual(s.nmOrder, "k")
  }

  func testBlockDensities() throws {
    // [8, 16]: non-zeros at (0, 0) and (5, 9): 4x4 blocks 2/8, 4x1 2/32, 8x1 2/16, 16x1 (padded) 2/16.
    var w = [Float](repeating: 0, count: 8 * 16)
    w[0] = 1; w[5 * 16 + 9] = -2
    let s = try XCTUnwrap(analyzeWeight(Tensor(shape: [8, 16], scalars: w), transposed: true))
    XCTAssertEqual(s.blockDensities, [2.0 / 32, 2.0 / 8, 2.0 / 16, 2.0 / 16])
    XCTAssertEqual(s.nm, NMPattern(n: 1, m: 16))
  }

  func testViolationsOfTheNearestPattern() throws {
    let k = 64
    var w = prunedNM(seededTensor([4, k], seed: 4).array(of: Float.self), rows: 4, k: k, n: 2, m: 4)
    let zero = try XCTUnwrap(w.firstIndex(of: 0))
    w[zero] = 0.5  // one group now has 3 non-zeros
    let s = try XCTUnwrap(analyzeWeight(Tensor(shape: [4, k], scalars: w), transposed: true))
    XCTAssertNil(s.nm)
    XCTAssertEqual(s.nearest, NMPattern(n: 2, m: 4))
    XCTAssertEqual(s.nearestViolations, 1)
  }

  func testLayerReportAndAnalyzePassLeaveTheModuleAlone() throws {
    let m = try makeModule { b in
      // 8x8 = 64 output positions fill the sparse kernel's vector lanes (SparseCostModel).
      let x = b.addArgument(name: "x", type: f32([1, 8, 8, 8]))
      let w = b.constant(prunedConvWeight([8, 8, 3, 3], n: 2, m: 4, channelsInnermost: true, seed: 5), name: "w")
      return [try b.conv([x, w], kernel: 3, pad: 1, name: "y")]
    }
    let layers = layerReport(m)
    XCTAssertEqual(layers.count, 1)
    XCTAssertEqual(layers[0].sparsity?.nm, NMPattern(n: 2, m: 4))
    // 2:4 runs at ~1.56x of dense with the packed lockstep kernel (bench/sparse-cost-model.md):
    // auto converts it and says why.
    XCTAssertEqual(layers[0].choice?.layout, .nm(n: 2, m: 4))
    XCTAssertEqual(layers[0].choice?.reason.hasPrefix("#nm<2,4> 1.56x est."), true, layers[0].choice?.reason ?? "")
    XCTAssertEqual(layerReport(m, sparsity: .nm)[0].choice?.layout, .nm(n: 2, m: 4))
    XCTAssertNil(layerReport(m, sparsity: .off)[0].choice?.layout)
    let after = try optimized(m, "analyze-sparsity")
    XCTAssertEqual(printModule(after), printModule(m))
  }

  /// A conv over 7x7 positions fills 49 of the sparse kernel's 64 lanes: 2:4 stays dense
  /// (the dense GEMM runs transposed there, lanes full), 1:4 still converts.
  /// A conv's sparse estimates scale with the lane fill of its output positions, against
  /// a dense GEMM that also slows below one panel (`convLaneFill`): 2:4 at 7x7 is 1.4 x
  /// 0.77 / 0.85 = 1.26x; over one position 1:4 and 2:4 stay dense.
  func testFewPositionsScaleTheSparseEstimates() throws {
    for (size, n, converts) in [(7, 2, true), (1, 2, false), (1, 1, false)] {
      let m = try makeModule { b in
        let x = b.addArgument(name: "x", type: f32([1, 8, size, size]))
        let w = b.constant(prunedConvWeight([8, 8, 3, 3], n: n, m: 4, channelsInnermost: true, seed: 5), name: "w")
        return [try b.conv([x, w], kernel: 3, pad: 1, name: "y")]
      }
      let choice = try XCTUnwrap(layerReport(m)[0].choice)
      XCTAssertEqual(choice.layout != nil, converts, choice.reason)
    }
    XCTAssertEqual(SparseCostModel.convLaneFill(positions: 49), 49.0 / 64 / 0.85, accuracy: 1e-9)
    XCTAssertEqual(SparseCostModel.convLaneFill(positions: 196), 196.0 / 208, accuracy: 1e-9)
  }
}
