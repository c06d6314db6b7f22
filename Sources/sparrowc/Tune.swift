//===--- Tune.swift - `sparrowc tune`: measure this machine's kernels ---===//
//
//   sparrowc tune -o machine.json [--quick]
//   sparrowc compile model.onnx -o libnet.so --tuning machine.json
//
// Starts from the table entry of the host's CPUID (TargetDescription.detect) and replaces
// its kernel rates with measurements of Sparrow's own kernels, JIT-compiled for the host,
// 1 thread, min of repeated runs:
//   dense GEMM        GFLOP/s of the generated GEMM on ResNet-50 and BERT shapes
//   sparse GEMM       per format (2:4 -> N:M, 80 % unstructured -> CSR, 90 % 4x4, 8x1 and
//                     4x1 blocks -> BSR), configured as the compiler configures it
//                     (SparseGemmDescriptor(layout:)); efficiency = dense time / sparse
//                     time x the fraction stored (SparseCostModel.swift)
//   Winograd          NCHW and NHWC F(2x2)/F(4x4) convs over the NCHW im2col conv at
//                     ResNet-50's 3x3 layers; entries not measured scale by the measured
//                     ratio to the table
//   transposes        NCHW -> NHWC of a tensor within L2 and one beyond it
// `--quick` (tests) measures one shape per family with fewer repetitions. The result is
// an explicit input: compiling with the same file gives the same bytes.

import ArgumentParser
import Foundation
import SparrowIO
import SparrowIR
import SparrowLLVM
import SparrowTargetSupport

struct Tune: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure this machine's kernels and write a target description (JSON) for --tuning.")

  @Option(name: .shortAndLong, help: "The JSON file to write.")
  var output: String

  @Flag(help: "One shape per kernel family and fewer repetitions (seconds, for tests).")
  var quick = false

  func run() throws {
    let start = Date()
    var d = CPUInfo.host().map(TargetDescription.detect) ?? .reference
    let tuner = KernelTuner(quick: quick)
    d.kernels = try tuner.measure(starting: d.kernels)
    d.name += " (tuned)"
    try writeAtomically(Array(d.jsonData()), to: output)
    let k = d.kernels
    print(String(format: "%@: dense GEMM %.1f GFLOP/s; efficiencies N:M %.2f, CSR %.2f, BSR %@; written to %@ in %.1f s",
                 d.name, k.denseGemmGflops, k.nmEfficiency, k.csrEfficiency,
                 k.blocks.map { "\($0.rows)x\($0.cols) \(String(format: "%.2f", $0.efficiency))" }.joined(separator: ", "),
                 output, Date().timeIntervalSince(start)))
  }
}

/// Times the kernels the cost models describe.
struct KernelTuner {
  var quick: Bool
  var repetitions: Int { quick ? 3 : 10 }

  /// GEMM shapes (weight left: W [M, K] · X [K, N]) of ResNet-50 and BERT layers.
  var gemmShapes: [(m: Int, n: Int, k: Int)] {
    quick ? [(64, 196, 576)] : [(64, 3136, 576), (256, 196, 2304), (768, 128, 768)]
  }

  func measure(starting table: KernelRates) throws -> KernelRates {
    var k = table
    var dense: [Double] = [], nm: [Double] = [], csr: [Double] = []
    var blocks = [[Double]](repeating: [], count: table.blocks.count)
    /// Which rate a sparse timing measures.
    enum Format { case nm, csr, block(Int) }
    for s in gemmShapes {
      let x = seededFloats(s.k * s.n, seed: 2)
      let w = seededFloats(s.m * s.k, seed: 1)
      let denseKernel = try CompiledGemm(GemmDescriptor(m: s.m, n: s.n, k: s.k, a: .constant(w), b: .argument))
      var denseMs = try kernelMilliseconds(denseKernel, x: x, count: s.m * s.n)
      var timed: [(format: Format, ms: Double, stored: Double)] = []
      func time(_ pattern: String, _ layout: SparseLayout, as format: Format) throws {
        let pruned = try prunedWeights(w, rows: s.m, k: s.k, pattern: pattern)
        let kernel = try CompiledSparseGemm(SparseGemmDescriptor(layout: layout, weight: pruned, rows: s.m, k: s.k, n: s.n,
                                                                  epilogue: GemmEpilogue(steps: [])))
        let ms = try kernelMilliseconds(kernel, x: x, count: s.m * s.n)
        timed.append((format, ms, Double(pruned.filter { $0 != 0 }.count) / Double(pruned.count)))
      }
      try time("2:4", .nm(n: 2, m: 4), as: .nm)
      try time("u80", .csr, as: .csr)
      for (i, b) in table.blocks.enumerated() where s.m % b.rows == 0 && s.k % b.cols == 0 && (!quick || i == 0) {
        try time("b\(b.rows)x\(b.cols)-90", .bsr(r: b.rows, c: b.cols), as: .block(i))
      }
      // Dense again after the sparse kernels: the best of both sides of a slow phase.
      denseMs = min(denseMs, try kernelMilliseconds(denseKernel, x: x, count: s.m * s.n))
      dense.append(2 * Double(s.m * s.n * s.k) / denseMs / 1e6)
      for t in timed {
        let efficiency = denseMs / t.ms * t.stored
        switch t.format {
        case .nm: nm.append(efficiency)
        case .csr: csr.append(efficiency)
        case let .block(i): blocks[i].append(efficiency)
        }
      }
    }
    k.denseGemmGflops = rounded(mean(dense))
    k.nmEfficiency = rounded(mean(nm))
    k.csrEfficiency = rounded(mean(csr))
    // A block shape not measured (quick) moves with the measured ones.
    let measured = blocks.indices.filter { !blocks[$0].isEmpty }
    let blockRatio = mean(measured.map { mean(blocks[$0]) / table.blocks[$0].efficiency })
    for i in k.blocks.indices {
      k.blocks[i].efficiency = rounded(blocks[i].isEmpty ? table.blocks[i].efficiency * blockRatio : mean(blocks[i]))
    }
    k.winograd = try measureWinograd(table.winograd)
    (k.transposeGBsInL2, k.transposeGBsBeyondL2) = try measureTransposes()
    return k
  }

  // MARK: - Winograd

  /// (channels, side, tiles): a ResNet-50 3x3 layer and the Winograd tiles lower-conv
  /// gives it; its positions pick the table's bucket.
  var convShapes: [(channels: Int, side: Int, tiles: [Int])] {
    quick ? [(64, 28, [2, 4])] : [(64, 56, [4]), (128, 28, [4]), (256, 14, [4]), (512, 7, [2])]
  }

  func measureWinograd(_ table: [WinogradRate]) throws -> [WinogradRate] {
    var measuredRatios: [Double] = []
    var rates = table
    var touched = Set<Int>()
    for shape in convShapes {
      let im2col = try convMilliseconds(shape, algorithm: .im2col, layout: .nchw)
      for (i, entry) in table.enumerated() where shape.tiles.contains(entry.tile) {
        let p = shape.side * shape.side
        // The bucket this shape falls in: the entry with the largest bound <= p.
        let bucket = table.filter { $0.tile == entry.tile && $0.channelsLast == entry.channelsLast && $0.minPositions <= p }
          .max { $0.minPositions < $1.minPositions }
        guard bucket == entry, !touched.contains(i) else { continue }
        let ms = try convMilliseconds(shape, algorithm: entry.tile == 2 ? .winograd2 : .winograd4, layout: entry.channelsLast ? .nhwc : .nchw)
        rates[i].speedup = rounded(im2col / ms)
        measuredRatios.append(rates[i].speedup / entry.speedup)
        touched.insert(i)
      }
    }
    let ratio = mean(measuredRatios)
    for i in rates.indices where !touched.contains(i) { rates[i].speedup = rounded(table[i].speedup * ratio) }
    return rates
  }

  /// One 3x3/s1 conv, `channels` in and out, `side` x `side`, through the JIT.
  func convMilliseconds(_ s: (channels: Int, side: Int, tiles: [Int]), algorithm: ConvAlgorithm, layout: ConvLayout) throws -> Double {
    var b = Builder(module: Module(name: "tune"), function: Function(name: "main"))
    let shape = layout == .nhwc ? [1, s.side, s.side, s.channels] : [1, s.channels, s.side, s.side]
    let x = b.addArgument(name: "x", type: TensorType(.f32, shape))
    let w = b.constant(Tensor(shape: [s.channels, s.channels, 3, 3], scalars: seededFloats(s.channels * s.channels * 9, seed: 3)),
                       name: "w")
    let y = try b.add1(.conv, [x, w], ["strides": .ints([1, 1]), "pads": .ints([1, 1, 1, 1]), "dilations": .ints([1, 1]),
                                       "algorithm": .convAlgorithm(algorithm), "layout": .convLayout(layout)], name: "y")
    return try modelMilliseconds(b.finish(results: [y]))
  }

  // MARK: - Transposes

  /// Bytes moved (read + write) per ns of an NCHW -> NHWC transpose within L2 and beyond.
  func measureTransposes() throws -> (Double, Double) {
    func rate(channels: Int, side: Int) throws -> Double {
      var b = Builder(module: Module(name: "tune"), function: Function(name: "main"))
      let x = b.addArgument(name: "x", type: TensorType(.f32, [1, channels, side, side]))
      let y = try b.add1(.transpose, [x], ["perm": .ints([0, 2, 3, 1])], name: "y")
      let ms = try modelMilliseconds(b.finish(results: [y]))
      return rounded(8 * Double(channels * side * side) / (ms * 1e6))
    }
    return (try rate(channels: 64, side: 28), try rate(channels: 256, side: quick ? 28 : 56))
  }

  // MARK: - Timing

  func modelMilliseconds(_ m: Module) throws -> Double {
    let model = try JITModel(m)
    let inputs = m.main.arguments.map { Tensor(shape: m.main.type(of: $0).shape, scalars: seededFloats(m.main.type(of: $0).count, seed: 4)) }
    var failure: Error?
    let ms = bestMilliseconds(repetitions) {
      do { _ = try model.run(inputs) } catch { failure = error }
    }
    if let failure { throw failure }
    return ms
  }

  func kernelMilliseconds(_ gemm: CompiledGemm, x: [Float], count: Int) throws -> Double {
    var c = [Float](repeating: 0, count: count)
    return c.withUnsafeMutableBufferPointer { cp in bestMilliseconds(repetitions) { gemm(c: cp.baseAddress!, a: nil, b: x) } }
  }

  func kernelMilliseconds(_ gemm: CompiledSparseGemm, x: [Float], count: Int) throws -> Double {
    var c = [Float](repeating: 0, count: count)
    return c.withUnsafeMutableBufferPointer { cp in bestMilliseconds(repetitions) { gemm(c: cp.baseAddress!, x: x) } }
  }
}

/// The arithmetic mean (1 for none).
private func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 1 : xs.reduce(0, +) / Double(xs.count) }

/// Three significant digits: a tuning file people can read and diff.
private func rounded(_ x: Double) -> Double {
  guard x > 0, x.isFinite else { return x }
  let scale = pow(10, 2 - floor(log10(x)))
  return (x * scale).rounded() / scale
}

/// Reproducible values in [-1, 1].
private func seededFloats(_ count: Int, seed: UInt64) -> [Float] {
  var s = seed &+ 0x9E37_79B9_7F4A_7C15
  return (0..<count).map { _ in
    s = s &* 6364136223846793005 &+ 1442695040888963407
    return Float(Int(s >> 40) % 2001 - 1000) / 1000
  }
}
