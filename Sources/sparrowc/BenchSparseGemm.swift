//===--- BenchSparseGemm.swift - hidden `sparrowc bench-sparse-gemm` -------===//
//
// Times the weight-specialized sparse GEMM against Sparrow's own dense generated GEMM
// on one shape (weight left: W [M, K] · X [K, N], the conv orientation), same process,
// min of N runs, interleaved rounds:
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE sparrowc bench-sparse-gemm 64 3136 576 \
//     --pattern 2:4 --block-rows 1,2,4,8 --arrangements shared,lockstep
// `--transposed` times the gemm-layer orientation instead: Y [N, M] = X [N, K] · W^T
// against the dense GEMM with the constant weight on the right (BERT's layers).

import ArgumentParser
import Foundation
import SparrowLLVM
import SparrowIR

struct BenchSparseGemm: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-sparse-gemm", abstract: "Time the sparse GEMM against the dense generated GEMM.",
    shouldDisplay: false)

  @Argument var m: Int
  @Argument var n: Int
  @Argument var k: Int

  @Option(help: "N:M (e.g. 2:4), uNN (unstructured NN% zeros) or bRxC-NN (blocks).")
  var pattern = "2:4"

  @Option(name: .customLong("block-rows"), help: "Row-block sizes R to try, comma-separated.")
  var blockRows = "1,2,4,8"

  @Option(help: "Column vectors per panel.")
  var vectors = 4

  @Option(help: "Timed repetitions (the minimum is reported).")
  var repetitions = 10

  @Option(help: "Row-block arrangements to try: shared (union of columns), lockstep, hybrid.")
  var arrangements = "shared,lockstep"

  @Flag(help: "Weight on the right (gemm layers): Y [N, M] = X [N, K] · W^T.")
  var transposed = false

  @Flag(inversion: .prefixedNo, help: "Pack X per panel and K block (always on with --transposed).")
  var packs = true

  @Option(name: .customLong("k-block"), help: "Depth of one K block.")
  var kBlock = 128

  @Option(name: .customLong("shared-rows"), help: "Hybrid: rows of a block that must use a column to share its loads.")
  var sharedRows: Int?

  @Option(help: "Epilogue activation on both kernels: none, relu or gelu.")
  var activation = "none"

  func run() throws {
    let steps: [GemmEpilogueStep]
    switch activation {
    case "none": steps = []
    case "relu": steps = [.activation(.relu)]
    case "gelu": steps = [.activation(.gelu(tanhApproximation: false))]
    default: throw ValidationError("unknown activation \(activation)")
    }
    let epilogue = GemmEpilogue(steps: steps)
    var seed: UInt64 = 42
    func random(_ count: Int) -> [Float] {
      (0..<count).map { _ in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int(seed >> 40) % 2001 - 1000) / 1000
      }
    }
    let w = try prunedWeights(random(m * k), rows: m, k: k, pattern: pattern)
    let x = random(k * n)
    let dense = try transposed
      ? CompiledGemm(GemmDescriptor(m: n, n: m, k: k, a: .argument, b: .constant(transposedMatrix(w, rows: m, columns: k)),
                                    epilogue: epilogue))
      : CompiledGemm(GemmDescriptor(m: m, n: n, k: k, a: .constant(w), b: .argument, epilogue: epilogue))
    var reference = [Float](repeating: 0, count: m * n)
    let rs = blockRows.split(separator: ",").compactMap { Int($0) }
    let configurations = try arrangements.split(separator: ",").flatMap { text in
      guard let a = SparseRowBlocks.Arrangement(rawValue: String(text)) else {
        throw ValidationError("unknown arrangement \(text)")
      }
      return rs.map { (r: $0, arrangement: a) }
    }
    let kernels = try configurations.map { config in
      try CompiledSparseGemm(SparseGemmDescriptor(
        weight: SparseRowBlocks(weight: w, rows: m, k: k, blockRows: config.r, kBlock: kBlock,
                                arrangement: config.arrangement, sharedRows: sharedRows),
        n: n, epilogue: epilogue, vectors: vectors, transposed: transposed, packs: packs))
    }
    var denseMs = Double.infinity
    var sparseMs = [Double](repeating: .infinity, count: kernels.count)
    var c = reference
    for _ in 0..<3 {
      denseMs = min(denseMs, reference.withUnsafeMutableBufferPointer { rp in
        bestMilliseconds(repetitions) { transposed ? dense(c: rp.baseAddress!, a: x, b: nil) : dense(c: rp.baseAddress!, a: nil, b: x) }
      })
      for (i, kernel) in kernels.enumerated() {
        sparseMs[i] = min(sparseMs[i], c.withUnsafeMutableBufferPointer { cp in bestMilliseconds(repetitions) { kernel(c: cp.baseAddress!, x: x) } })
      }
    }
    let nonZeros = w.filter { $0 != 0 }.count
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    print(String(format: "%dx%dx%d %@ density %.3f: dense %.3f ms (%.1f GFLOP/s)", m, n, k, pattern,
                 Double(nonZeros) / Double(w.count), denseMs, flops / denseMs / 1e6))
    for (i, config) in configurations.enumerated() {
      c.withUnsafeMutableBufferPointer { cp in kernels[i](c: cp.baseAddress!, x: x) }
      var worst: Float = 0
      for j in 0..<c.count { worst = max(worst, abs(c[j] - reference[j]) / (1 + abs(reference[j]))) }
      let stored = kernels[i].descriptor.weight.storedValues
      print(String(format: "  R=%d %@: %.3f ms, speedup %.2fx, stored %.3f of dense, compile %.0f ms, max rel diff %.1e",
                   config.r, config.arrangement.rawValue, sparseMs[i], denseMs / sparseMs[i], Double(stored) / Double(w.count),
                   kernels[i].compileMilliseconds, worst))
    }
  }
}

/// `w` [m, k] pruned by `pattern` (N:M by magnitude, uNN unstructured, bRxC-NN blocks
/// by L2 norm); also `sparrowc tune`'s weights.
func prunedWeights(_ w: [Float], rows m: Int, k: Int, pattern: String) throws -> [Float] {
  var out = w
  let parts = pattern.split(separator: ":").compactMap { Int($0) }
  if parts.count == 2 {
    let (keep, group) = (parts[0], parts[1])
    guard k % group == 0 else { throw ValidationError("K must be a multiple of \(group)") }
    for i in 0..<m {
      for g in stride(from: 0, to: k, by: group) {
        let idx = (g..<(g + group)).map { i * k + $0 }.sorted { abs(w[$0]) > abs(w[$1]) }
        for j in idx.dropFirst(keep) { out[j] = 0 }
      }
    }
    return out
  }
  if pattern.hasPrefix("u"), let pct = Int(pattern.dropFirst()) {
    let threshold = w.map(abs).sorted()[w.count * pct / 100]
    return w.map { abs($0) < threshold ? 0 : $0 }
  }
  if pattern.hasPrefix("b") {
    // bRxC-NN
    let spec = pattern.dropFirst().split(separator: "-")
    let dims = spec.first?.split(separator: "x").compactMap { Int($0) } ?? []
    guard spec.count == 2, dims.count == 2, let pct = Int(spec[1]), m % dims[0] == 0, k % dims[1] == 0 else {
      throw ValidationError("bad block pattern \(pattern)")
    }
    let (br, bc) = (dims[0], dims[1])
    var norms: [(Float, Int, Int)] = []
    for i in stride(from: 0, to: m, by: br) {
      for j in stride(from: 0, to: k, by: bc) {
        var s: Float = 0
        for a in i..<(i + br) { for b in j..<(j + bc) { s += w[a * k + b] * w[a * k + b] } }
        norms.append((s, i, j))
      }
    }
    norms.sort { $0.0 < $1.0 }
    for (_, i, j) in norms.prefix(norms.count * pct / 100) {
      for a in i..<(i + br) { for b in j..<(j + bc) { out[a * k + b] = 0 } }
    }
    return out
  }
  throw ValidationError("unknown pattern \(pattern)")
}
