import Foundation
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

/// The weight-specialized sparse GEMM against a naive loop (in Double): N:M, block and
/// unstructured weights, row tails (M not a multiple of R), column tails, and epilogues.
final class SparseGemmTests: XCTestCase {
  /// A seeded [m, k] weight; `keep(i, k)` decides which elements stay non-zero.
  private func weight(_ m: Int, _ k: Int, seed: UInt64, keep: (Int, Int) -> Bool) -> [Float] {
    var s = seed
    let w = seededFloats(m * k, seed: &s)
    return w.indices.map { keep($0 / k, $0 % k) ? w[$0] : 0 }
  }

  private func check(m: Int, n: Int, k: Int, blockRows: Int, vectors: Int = 4, epilogue: GemmEpilogue,
                     arrangement: SparseRowBlocks.Arrangement = .shared, sharedRows: Int? = nil, transposed: Bool = false,
                     packs: Bool = false, kBlock: Int = 128, keep: (Int, Int) -> Bool, file: StaticString = #filePath, line: UInt = #line) throws {
    let w = weight(m, k, seed: 7, keep: keep)
    var seed: UInt64 = 11
    let x = seededFloats(k * n, seed: &seed)
    let residual = seededFloats(m * n, seed: &seed)
    let blocks = SparseRowBlocks(weight: w, rows: m, k: k, blockRows: blockRows, kBlock: kBlock, arrangement: arrangement,
                                 sharedRows: sharedRows)
    let gemm = try CompiledSparseGemm(SparseGemmDescriptor(weight: blocks, n: n, epilogue: epilogue, vectors: vectors,
                                                           transposed: transposed, packs: packs))
    var c = [Float](repeating: .nan, count: m * n)
    c.withUnsafeMutableBufferPointer { cp in gemm(c: cp.baseAddress!, x: x, residual: residual) }
    // Weight left: C [m, n], X [k, n]; transposed: C [n, m], X [n, k].
    let xAt = { (kk: Int, j: Int) in transposed ? x[j * k + kk] : x[kk * n + j] }
    let cIndex = { (i: Int, j: Int) in transposed ? j * m + i : i * n + j }
    for i in 0..<m {
      for j in 0..<n {
        var s = 0.0
        for kk in 0..<k { s += Double(w[i * k + kk]) * Double(xAt(kk, j)) }
        if case let .perRow(b) = epilogue.bias { s += Double(b[i]) }
        var y = Float(s)
        for step in epilogue.steps {
          switch step {
          case .addResidual: y += residual[cIndex(i, j)]
          case .activation(.relu): y = max(y, 0)
          default: XCTFail("test covers add and relu only")
          }
        }
        let got = c[cIndex(i, j)]
        XCTAssertEqual(got, y, accuracy: 1e-4 * (1 + abs(y)), "C[\(i), \(j)]", file: file, line: line)
        if !(abs(got - y) <= 1e-4 * (1 + abs(y))) { return }
      }
    }
  }

  func testTwoOfFourWithTailsAndBiasRelu() throws {
    let bias = (0..<13).map { Float($0) * 0.1 - 0.5 }
    try check(m: 13, n: 70, k: 16, blockRows: 4,
              epilogue: GemmEpilogue(bias: .perRow(bias), activation: .relu),
              keep: { i, k in (k + i) % 4 < 2 })
  }

  func testBlocksWithResidual() throws {
    try check(m: 16, n: 33, k: 32, blockRows: 4, vectors: 2, epilogue: GemmEpilogue(residual: true),
              keep: { i, k in ((i / 4) * 8 + k / 4) % 5 == 0 })
  }

  func testUnstructuredOneRowBlocksAndEmptyRows() throws {
    try check(m: 9, n: 16, k: 24, blockRows: 1, epilogue: GemmEpilogue(steps: []),
              keep: { i, k in i != 3 && (i * 7 + k * 13) % 5 == 0 })
  }

  func testEightRowBlocksWithAllZeroWeight() throws {
    try check(m: 8, n: 5, k: 8, blockRows: 8, epilogue: GemmEpilogue(steps: []), keep: { _, _ in false })
  }

  // MARK: Lockstep rows, packing, weight on the right

  func testLockstepTwoOfFourAllRowsEqualCounts() throws {
    let bias = (0..<13).map { Float($0) * 0.1 - 0.5 }
    try check(m: 13, n: 70, k: 40, blockRows: 4, epilogue: GemmEpilogue(bias: .perRow(bias), activation: .relu),
              arrangement: .lockstep, kBlock: 16, keep: { i, k in (k * 3 + i) % 4 < 2 })
  }

  func testLockstepUnstructuredPadsShortRowsAndPacks() throws {
    try check(m: 10, n: 37, k: 50, blockRows: 4, epilogue: GemmEpilogue(residual: true), arrangement: .lockstep,
              packs: true, kBlock: 32, keep: { i, k in i != 2 && (i * 7 + k * 13) % 5 < (i % 3 + 1) })
  }

  func testTransposedTwoOfFourWithBiasResidualRelu() throws {
    // Y [n, m] = X [n, k] · W^T: m and n tails of 16, K tail of the K block and of 16.
    let bias = (0..<21).map { Float($0) * 0.05 - 0.4 }
    try check(m: 21, n: 83, k: 72, blockRows: 4, epilogue: GemmEpilogue(bias: .perRow(bias), residual: true, activation: .relu),
              arrangement: .lockstep, transposed: true, kBlock: 40, keep: { i, k in (k + i) % 4 < 2 })
  }

  func testTransposedBlocksSharedSingleKBlock() throws {
    try check(m: 32, n: 128, k: 48, blockRows: 4, vectors: 2, epilogue: GemmEpilogue(steps: []),
              transposed: true, keep: { i, k in ((i / 4) * 5 + k / 4) % 3 == 0 })
  }

  func testTransposedUnstructuredTinyShapes() throws {
    try check(m: 5, n: 3, k: 7, blockRows: 2, epilogue: GemmEpilogue(residual: true), arrangement: .lockstep,
              transposed: true, keep: { i, k in (i + 2 * k) % 3 == 0 })
  }

  func testHybridSharesColumnsUsedByEnoughRows() throws {
    // Rows of a 4-row block agree on some columns (shared entries) and not on others.
    let keep = { (i: Int, k: Int) in k % 4 == 0 || (k + i) % 4 == 1 || (i == 5 && k % 7 == 2) }
    let blocks = SparseRowBlocks(weight: weight(14, 40, seed: 7, keep: keep), rows: 14, k: 40, blockRows: 4,
                                 arrangement: .hybrid, sharedRows: 3)
    XCTAssertEqual(blocks.parts.count, 2)
    XCTAssertFalse(blocks.parts[0].columns.isEmpty)
    XCTAssertFalse(blocks.parts[1].columns.isEmpty)
    for transposed in [false, true] {
      try check(m: 14, n: 45, k: 40, blockRows: 4, epilogue: GemmEpilogue(residual: true, activation: .relu),
                arrangement: .hybrid, sharedRows: 3, transposed: transposed, kBlock: 16, keep: keep)
    }
    try check(m: 9, n: 20, k: 33, blockRows: 2, epilogue: GemmEpilogue(steps: []), arrangement: .hybrid,
              packs: true, keep: { i, k in (i * 5 + k * 3) % 4 < 2 })
  }

  // MARK: Index tables

  func testIndexTablesTakeTheNarrowestWidth() {
    let cg = CodegenModule(name: "tables", lanes: 16)
    XCTAssertEqual(IndexTable(cg, name: "a", []).width, 1)
    XCTAssertEqual(IndexTable(cg, name: "b", [0, 255]).width, 1)
    XCTAssertEqual(IndexTable(cg, name: "c", [256, 3]).width, 2)
    XCTAssertEqual(IndexTable(cg, name: "d", [65_536]).width, 4)
    XCTAssertEqual(IndexTable(cg, name: "e", [1 << 32]).width, 8)
  }

  func testTwoByteColumnsForWideKBlocksAndFourByteUnpackedOffsets() throws {
    let keep = { (i: Int, k: Int) in (k * 3 + i) % 4 < 2 }
    // Packed K blocks of 512 columns: relative columns up to 511 (two bytes), and a K tail.
    try check(m: 6, n: 40, k: 600, blockRows: 4, epilogue: GemmEpilogue(residual: true), arrangement: .hybrid,
              packs: true, kBlock: 512, keep: keep)
    try check(m: 6, n: 19, k: 600, blockRows: 4, epilogue: GemmEpilogue(steps: []), arrangement: .lockstep,
              transposed: true, kBlock: 512, keep: keep)
    // X read in place: element offsets k * N up to 599 * 300 (four bytes).
    try check(m: 6, n: 300, k: 600, blockRows: 2, epilogue: GemmEpilogue(steps: []), arrangement: .hybrid,
              keep: keep)
  }
}
