//===--- BenchGemm.swift - hidden `sparrowc bench-gemm`: generated GEMM vs cblas ---===//
//
// JITs the generated kernel for one shape and times it against OpenBLAS `cblas_sgemm`
// in the same process (min of N runs each, 1 thread). Run it as
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE sparrowc bench-gemm 64 3136 576
// so OpenBLAS picks its AVX-512 kernels.

import ArgumentParser
import Foundation
import SparrowIR
import SparrowLLVM

struct BenchGemm: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-gemm", abstract: "Time a generated GEMM against cblas_sgemm.",
    shouldDisplay: false)

  @Argument var m: Int
  @Argument var n: Int
  @Argument var k: Int

  @Option(help: "Which operand is the constant weight: left (M x K, conv) or right (K x N, gemm).")
  var weight = "left"

  @Option(help: "Force a register tile ROWSxVECTORS, e.g. 6x4.")
  var tile: String?

  @Option(help: "Force the K block depth.")
  var kBlock: Int?

  @Option(help: "Force the N block width.")
  var nBlock: Int?

  @Option(help: "Threads for both the generated kernel and OpenBLAS.")
  var threads = 1

  @Option(help: "Timed repetitions (the minimum is reported).")
  var repetitions = 20

  func run() throws {
    guard m > 0, n > 0, k > 0, repetitions > 0 else { throw ValidationError("sizes must be positive") }
    guard let sgemm = loadCblasSgemm(threads: threads) else { throw Diagnostic("cblas_sgemm not found") }
    var seed: UInt64 = 42
    func random(_ count: Int) -> [Float] {
      (0..<count).map { _ in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int(seed >> 40) % 2001 - 1000) / 1000
      }
    }
    let a = random(m * k), b = random(k * n)
    let left = weight == "left"
    var descriptor = GemmDescriptor(m: m, n: n, k: k, a: left ? .constant(a) : .argument,
                                    b: left ? .argument : .constant(b))
    if tile != nil || kBlock != nil || nBlock != nil {
      var t = GemmTiling.choose(m: m, n: n, k: k, lanes: 16)
      if let tile {
        let parts = tile.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { throw ValidationError("--tile ROWSxVECTORS") }
        t.rows = parts[0]
        t.vectors = parts[1]
        t.nBlock = max(1, t.nBlock / (16 * t.vectors)) * 16 * t.vectors
      }
      if let kBlock { t.kBlock = kBlock }
      if let nBlock { t.nBlock = nBlock }
      descriptor.tiling = t
    }
    let gemm = try CompiledGemm(descriptor)
    var c = [Float](repeating: 0, count: m * n), reference = c
    var generated = 0.0, blas = 0.0
    // Interleave rounds so both see the same machine noise.
    for _ in 0..<3 {
      let g = c.withUnsafeMutableBufferPointer { cp in
        bestMilliseconds(repetitions) { gemm(c: cp.baseAddress!, a: left ? nil : a, b: left ? b : nil, threads: threads) }
      }
      let o = reference.withUnsafeMutableBufferPointer { rp in
        bestMilliseconds(repetitions) { sgemm(101, 111, 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0,
                     rp.baseAddress, Int32(n)) }
      }
      generated = generated == 0 ? g : min(generated, g)
      blas = blas == 0 ? o : min(blas, o)
    }
    var worst: Float = 0
    for i in 0..<c.count { worst = max(worst, abs(c[i] - reference[i]) / (1 + abs(reference[i]))) }
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    print(String(format: "%dx%dx%d threads=%d weight=%@ tile %@: generated %.3f ms (%.1f GFLOP/s), cblas %.3f ms (%.1f GFLOP/s), ratio %.3fx, max rel diff %.1e, compile %.1f ms",
                 m, n, k, threads, weight, gemm.tiling.description, generated, flops / generated / 1e6,
                 blas, flops / blas / 1e6, blas / generated, worst, gemm.compileMilliseconds))
  }
}

private typealias CblasSgemm = @convention(c) (
  Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
  UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

/// `cblas_sgemm` from the OpenBLAS the interpreter already links, with `threads` threads.
private func loadCblasSgemm(threads: Int) -> CblasSgemm? {
  guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
  if let setThreads = dlsym(handle, "openblas_set_num_threads") {
    unsafeBitCast(setThreads, to: (@convention(c) (Int32) -> Void).self)(1)
  }
  guard let symbol = dlsym(handle, "cblas_sgemm") else { return nil }
  return unsafeBitCast(symbol, to: CblasSgemm.self)
}

/// The fastest of `repetitions` timed runs of `body` (after one untimed warm-up), in ms.
func bestMilliseconds(_ repetitions: Int, _ body: () -> Void) -> Double {
  body()
  var best = Double.infinity
  for _ in 0..<repetitions {
    let t0 = DispatchTime.now()
    body()
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6)
  }
  return best
}
