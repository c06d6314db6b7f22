//===--- TargetDescription.swift - what the CPU is, for the cost models ---===//
//
// One value says what the machine code will run on: vector width, FMA pipes, whether
// 512-bit ops run at full width or split in two 256-bit halves, caches, the int8/bf16
// extensions, and the measured rates of Sparrow's own kernels (dense and sparse GEMM per
// format, Winograd over im2col, layout transposes). Passes read it from the pass context
// (`PassContext.target`); no machine constant lives in a pass.
//
// Where it comes from (the driver decides, TargetSelection.swift in sparrowc):
//   --tuning FILE        a description `sparrowc tune` measured on a machine (JSON, below)
//   --target-cpu NAME    the table entry for that LLVM CPU name (`named`)
//   --target-cpu native  the host's CPUID as /proc/cpuinfo reports it (`detect`)
//   nothing              `reference`: Zen 4, where the kernels and cost models were tuned,
//                        so a build does not depend on the build machine
// The table's kernel rates are Zen 4 measurements (bench/RESULTS.md, bench/
// sparse-cost-model.md); the other entries scale them by what was seen end to end on
// those CPUs (shared/NOTES-machine.md) and say so: run `sparrowc tune` for real numbers.
//
// JSON (what `tune` writes, `--tuning` reads; keys sorted, so equal descriptions give
// equal bytes): {"name", "vectorBits", "fmaPipes", "fullWidth512", "caches": {"l1d",
// "l2", "l3"} (bytes), "features": [...], "kernels": {"denseGemmGflops", "nmEfficiency",
// "csrEfficiency", "blocks": [{"rows", "cols", "efficiency"}], "winograd": [{"tile",
// "channelsLast", "minPositions", "speedup"}], "fewPositionsDenseRate",
// "channelsLastConvGain", "transposeGBsInL2", "transposeGBsBeyondL2"}}.

import Foundation
import SparrowIR

/// An instruction-set extension the cost models or kernels care about.
public enum CPUFeature: String, Codable, CaseIterable, Comparable, Sendable {
  case avx2, fma, avx512f, avx512bw, avx512dq, avx512vl, avx512vnni, avxvnni, avx512bf16, avx512fp16, amx

  public static func < (a: CPUFeature, b: CPUFeature) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }

  /// The flag /proc/cpuinfo prints for it.
  public var cpuinfoFlag: String {
    switch self {
    case .avx512vnni: return "avx512_vnni"
    case .avxvnni: return "avx_vnni"
    case .avx512bf16: return "avx512_bf16"
    case .avx512fp16: return "avx512_fp16"
    case .amx: return "amx_tile"
    default: return rawValue
    }
  }
}

/// Data cache sizes in bytes: L1D and L2 per core, L3 shared.
public struct CacheSizes: Codable, Equatable, Sendable {
  public var l1d: Int
  public var l2: Int
  public var l3: Int
  public init(l1d: Int, l2: Int, l3: Int) { self.l1d = l1d; self.l2 = l2; self.l3 = l3 }
}

/// The sparse block kernel's rate relative to dense for r x c blocks.
public struct BlockEfficiency: Codable, Equatable, Sendable {
  public var rows: Int
  public var cols: Int
  public var efficiency: Double
  public init(rows: Int, cols: Int, efficiency: Double) { self.rows = rows; self.cols = cols; self.efficiency = efficiency }
}

/// A Winograd conv's speedup over the im2col GEMM for convs with at least `minPositions`
/// output positions (the entry with the largest such bound applies).
public struct WinogradRate: Codable, Equatable, Sendable {
  /// 2: F(2x2,3x3), 4: F(4x4,3x3).
  public var tile: Int
  public var channelsLast: Bool
  public var minPositions: Int
  public var speedup: Double
  public init(tile: Int, channelsLast: Bool, minPositions: Int, speedup: Double) {
    self.tile = tile; self.channelsLast = channelsLast; self.minPositions = minPositions; self.speedup = speedup
  }
}

/// Measured rates of Sparrow's kernels, 1 thread. Efficiencies are a sparse kernel's FLOP
/// rate on the work it does relative to the dense GEMM's (SparseCostModel.swift).
public struct KernelRates: Codable, Equatable, Sendable {
  /// The generated dense GEMM on conv and transformer shapes.
  public var denseGemmGflops: Double
  public var nmEfficiency: Double
  public var csrEfficiency: Double
  /// Block shapes sparsify may choose, in order of preference on ties.
  public var blocks: [BlockEfficiency]
  public var winograd: [WinogradRate]
  /// The dense conv GEMM's rate over fewer positions than one panel, relative to elsewhere.
  public var fewPositionsDenseRate: Double
  /// The share of a conv's time NHWC saves over NCHW (choose-conv-layout).
  public var channelsLastConvGain: Double
  /// A 4-D layout transpose, bytes moved (read + write) per ns, within L2 and beyond.
  public var transposeGBsInL2: Double
  public var transposeGBsBeyondL2: Double

  /// The Winograd speedup over im2col for `tile` at `positions` outputs (nil: no entry).
  public func winogradSpeedup(tile: Int, positions: Int, channelsLast: Bool) -> Double? {
    winograd.filter { $0.tile == tile && $0.channelsLast == channelsLast && $0.minPositions <= positions }
      .max { $0.minPositions < $1.minPositions }?.speedup
  }

  /// Every rate multiplied by `sparse` (the sparse efficiencies) or `dense` (GFLOP/s).
  func scaled(dense: Double, sparse: Double, blocks blockScale: Double) -> KernelRates {
    var r = self
    r.denseGemmGflops *= dense
    r.nmEfficiency *= sparse
    r.csrEfficiency *= sparse
    r.blocks = blocks.map { BlockEfficiency(rows: $0.rows, cols: $0.cols, efficiency: $0.efficiency * blockScale) }
    return r
  }
}

/// What the CPU is, for the cost models and kernel choices.
public struct TargetDescription: Codable, Equatable, Sendable {
  public var name: String
  /// The widest vectors the generated code uses: 512 (AVX-512) or 256 (AVX2).
  public var vectorBits: Int
  public var fmaPipes: Int
  /// 512-bit ops at full rate (false: split into two 256-bit halves, Zen 4).
  public var fullWidth512: Bool
  public var caches: CacheSizes
  /// Sorted, so equal descriptions encode to equal bytes.
  public var features: [CPUFeature]
  public var kernels: KernelRates

  public init(name: String, vectorBits: Int, fmaPipes: Int, fullWidth512: Bool, caches: CacheSizes,
              features: [CPUFeature], kernels: KernelRates) {
    self.name = name
    self.vectorBits = vectorBits
    self.fmaPipes = fmaPipes
    self.fullWidth512 = fullWidth512
    self.caches = caches
    self.features = Array(Set(features)).sorted()
    self.kernels = kernels
  }

  /// f32 lanes of one vector.
  public var lanes: Int { vectorBits / 32 }

  public func has(_ feature: CPUFeature) -> Bool { features.contains(feature) }
}

// MARK: - JSON

extension TargetDescription {
  /// Pretty, sorted-key JSON: the same description always gives the same bytes.
  public func jsonData() -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try! encoder.encode(self) + Data("\n".utf8)
  }

  /// Decodes a tuning file; a malformed one throws a Diagnostic naming `path` and the key.
  public static func decode(_ data: Data, path: String) throws -> TargetDescription {
    let d: TargetDescription
    do {
      d = try JSONDecoder().decode(TargetDescription.self, from: data)
    } catch let error as DecodingError {
      throw Diagnostic("not a target description (write one with `sparrowc tune -o FILE`): \(describe(error))", at: path)
    } catch {
      throw Diagnostic("not a target description: \(error)", at: path)
    }
    try d.validate(path: path)
    return d
  }

  /// Reads a tuning file.
  public static func load(path: String) throws -> TargetDescription {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Diagnostic("cannot read the tuning file", at: path)
    }
    return try decode(data, path: path)
  }

  /// Values the cost models cannot use.
  func validate(path: String) throws {
    func fail(_ what: String) throws -> Never { throw Diagnostic("bad target description: \(what)", at: path) }
    if ![128, 256, 512].contains(vectorBits) { try fail("vectorBits must be 256 or 512, got \(vectorBits)") }
    let k = kernels
    let rates: [(String, Double)] = [("denseGemmGflops", k.denseGemmGflops), ("nmEfficiency", k.nmEfficiency),
                                     ("csrEfficiency", k.csrEfficiency), ("fewPositionsDenseRate", k.fewPositionsDenseRate),
                                     ("transposeGBsInL2", k.transposeGBsInL2), ("transposeGBsBeyondL2", k.transposeGBsBeyondL2)]
      + k.blocks.map { ("blocks \($0.rows)x\($0.cols) efficiency", $0.efficiency) }
      + k.winograd.map { ("winograd tile \($0.tile) speedup", $0.speedup) }
    for (key, v) in rates where !(v.isFinite && v > 0) { try fail("kernels.\(key) must be a positive number, got \(v)") }
    if !(k.channelsLastConvGain.isFinite && k.channelsLastConvGain >= 0) { try fail("kernels.channelsLastConvGain must be >= 0") }
    if caches.l2 <= 0 { try fail("caches.l2 must be positive") }
    for w in k.winograd where ![2, 4].contains(w.tile) { try fail("winograd tile must be 2 or 4, got \(w.tile)") }
  }

  private static func describe(_ error: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
      let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
      return p.isEmpty ? "" : " at '\(p)'"
    }
    switch error {
    case let .keyNotFound(key, c): return "missing key '\(key.stringValue)'\(path(c))"
    case let .typeMismatch(_, c): return "wrong type\(path(c)): \(c.debugDescription)"
    case let .valueNotFound(_, c): return "missing value\(path(c))"
    case let .dataCorrupted(c): return "\(c.debugDescription)\(path(c))"
    @unknown default: return "\(error)"
    }
  }
}
