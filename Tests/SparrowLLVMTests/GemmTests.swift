import Foundation
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

/// The generated GEMM against a naive triple loop (in Double), over shapes with tails.
final class GemmTests: XCTestCase {
  private func reference(_ d: GemmDescriptor, a: [Float], b: [Float], residual: [Float]) -> [Float] {
    var c = [Float](repeating: 0, count: d.m * d.n)
    for i in 0..<d.m {
      for j in 0..<d.n {
        var s = 0.0
        for k in 0..<d.k { s += Double(a[i * d.k + k]) * Double(b[k * d.n + j]) }
        switch d.epilogue.bias {
        case .none: break
        case let .perRow(v): s += Double(v[i])
        case let .perColumn(v): s += Double(v[j])
        }
        var x = Float(s)
        for step in d.epilogue.steps {
          switch step {
          case .addResidual: x += residual[i * d.n + j]
          case .activation(.relu): x = max(x, 0)
          case let .activation(.clip(lo, hi)): x = min(max(x, lo), hi)
          case .activation(.sigmoid): x = 1 / (1 + Foundation.exp(-x))
          case .activation(.gelu(tanhApproximation: false)): x = 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot()))
          case .activation(.tanh): x = Foundation.tanh(x)
          case let .activation(other): preconditionFailure("no reference for \(other)")
          }
        }
        c[i * d.n + j] = x
      }
    }
    return c
  }

  private func check(m: Int, n: Int, k: Int, constantA: Bool, constantB: Bool,
                     tiling: GemmTiling? = nil, threads: Int = 1,
                     epilogue: (Int, Int) -> GemmEpilogue = { _, _ in GemmEpilogue() },
                     file: StaticString = #filePath, line: UInt = #line) throws {
    var seed = UInt64(m * 1_000_003 + n * 1009 + k)
    let a = seededFloats(m * k, seed: &seed), b = seededFloats(k * n, seed: &seed)
    let residual = seededFloats(m * n, seed: &seed)
    let d = GemmDescriptor(m: m, n: n, k: k, a: constantA ? .constant(a) : .argument,
                           b: constantB ? .constant(b) : .argument, epilogue: epilogue(m, n),
                           tiling: tiling)
    let gemm = try CompiledGemm(d)
    var c = [Float](repeating: .nan, count: m * n)
    c.withUnsafeMutableBufferPointer { cp in
      gemm(c: cp.baseAddress!, a: constantA ? nil : a, b: constantB ? nil : b,
           residual: d.epilogue.residual ? residual : nil, threads: threads)
    }
    let want = reference(d, a: a, b: b, residual: residual)
    var worst = 0 as Float
    for i in 0..<c.count { worst = max(worst, abs(c[i] - want[i]) / (1 + abs(want[i]))) }
    XCTAssert(worst < 1e-4, "\(m)x\(n)x\(k) A \(constantA ? "const" : "arg") B \(constantB ? "const" : "arg") tiling \(gemm.tiling): max rel error \(worst)", file: file, line: line)
  }

  /// Transposed A and C (A stored [K][M], C and the residual [N][M]; B constant): every
  /// row tail, column tails, several K blocks (C reloaded by gathers), epilogues, threads.
  func testTransposedAAndC() throws {
    // A transposed tile holds at most one vector of rows: 16 with AVX-512, 8 with AVX2.
    let rows = TargetSpec.host.hasAVX512 ? 12 : 8
    for (m, n, k, tiling) in [(49, 100, 70, nil), (9, 48, 33, nil), (13, 37, 500, GemmTiling(rows: 8, vectors: 3, kBlock: 128, nBlock: 48)),
                              (1, 20, 5, nil), (12, 16, 9, GemmTiling(rows: rows, vectors: 2, kBlock: 9, nBlock: 32))] as [(Int, Int, Int, GemmTiling?)] {
      var seed = UInt64(m * 31 + n * 7 + k)
      let a = seededFloats(m * k, seed: &seed), b = seededFloats(k * n, seed: &seed)
      let residual = seededFloats(m * n, seed: &seed), bias = seededFloats(n, seed: &seed)
      var d = GemmDescriptor(m: m, n: n, k: k, a: .argument, b: .constant(b),
                             epilogue: GemmEpilogue(bias: .perColumn(bias), residual: true, activation: .relu), tiling: tiling)
      d.transposedAC = true
      let gemm = try CompiledGemm(d)
      func transpose(_ x: [Float], _ rows: Int, _ columns: Int) -> [Float] {
        (0..<columns * rows).map { x[($0 % rows) * columns + $0 / rows] }
      }
      let want = reference(d, a: a, b: b, residual: residual)
      for threads in [1, 2] {
        var c = [Float](repeating: .nan, count: m * n)
        c.withUnsafeMutableBufferPointer { cp in
          gemm(c: cp.baseAddress!, a: transpose(a, m, k), b: nil, residual: transpose(residual, m, n), threads: threads)
        }
        let got = transpose(c, n, m)
        let worst = zip(got, want).map { abs($0 - $1) / (1 + abs($1)) }.max()!
        XCTAssert(worst < 1e-4, "\(m)x\(n)x\(k) transposed, \(threads) threads: max rel error \(worst)")
      }
    }
  }

  func testShapesWithTails() throws {
    for (m, n, k) in [(1, 1, 1), (5, 7, 3), (6, 64, 1), (13, 50, 17), (64, 100, 70), (7, 33, 400),
                      (25, 129, 800)] {
      for (ca, cb) in [(true, false), (false, true), (false, false)] {
        try check(m: m, n: n, k: k, constantA: ca, constantB: cb)
      }
    }
  }

  func testForcedTilingsAndBlocks() throws {
    let tilings = [GemmTiling(rows: 6, vectors: 4, kBlock: 32, nBlock: 128),
                   GemmTiling(rows: 8, vectors: 3, kBlock: 50, nBlock: 48),
                   GemmTiling(rows: 12, vectors: 2, kBlock: 7, nBlock: 64)]
    for t in tilings {
      try check(m: 27, n: 150, k: 101, constantA: true, constantB: false, tiling: t)
      try check(m: 27, n: 150, k: 101, constantA: false, constantB: true, tiling: t)
    }
  }

  func testThreadsSplitRowPanels() throws {
    for threads in [2, 3, 0] {
      try check(m: 61, n: 70, k: 90, constantA: true, constantB: false, threads: threads) { m, _ in
        GemmEpilogue(bias: .perRow((0..<m).map { Float($0) / 30 - 1 }), residual: true, activation: .relu)
      }
      try check(m: 29, n: 33, k: 300, constantA: false, constantB: true, threads: threads)
      try check(m: 5, n: 20, k: 8, constantA: false, constantB: false, threads: threads)
    }
  }

  func testEpilogues() throws {
    try check(m: 19, n: 45, k: 33, constantA: true, constantB: false) { m, _ in
      GemmEpilogue(bias: .perRow((0..<m).map { Float($0) / 10 - 1 }), residual: true, activation: .relu)
    }
    try check(m: 9, n: 70, k: 20, constantA: false, constantB: true) { _, n in
      GemmEpilogue(bias: .perColumn((0..<n).map { Float($0) / 20 - 1 }),
                   activation: .clip(min: -0.5, max: 0.75))
    }
    try check(m: 9, n: 70, k: 500, constantA: false, constantB: true,
              tiling: GemmTiling(rows: 6, vectors: 2, kBlock: 128, nBlock: 32)) { _, _ in
      GemmEpilogue(residual: true, activation: .relu)
    }
    try check(m: 30, n: 40, k: 50, constantA: true, constantB: false) { m, _ in
      GemmEpilogue(bias: .perRow((0..<m).map { Float($0) / 15 - 1 }),
                   steps: [.activation(.gelu(tanhApproximation: false)), .addResidual, .activation(.tanh),
                           .activation(.sigmoid)])
    }
  }
}
