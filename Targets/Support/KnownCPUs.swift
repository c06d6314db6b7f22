//===--- KnownCPUs.swift - the table of microarchitectures, CPUID lookup ---===//
//
//   zen4            AVX-512 on 256-bit pipes (split), 1 MiB L2: the reference. Its kernel
//                   rates are the Zen 4 measurements the cost models were fit to.
//   zen5            two full 512-bit FMA pipes, 48 KiB L1D, 1 MiB L2
//   icelake         Ice Lake server/client: full 512-bit FMA, 48 KiB L1D, 1.25 MiB L2
//   sapphirerapids  Sapphire/Emerald Rapids: full 512-bit FMA, 2 MiB L2, AMX, FP16
//   haswell         AVX2-only cores (x86-64-v3: Haswell to Alder Lake, Zen 1-3)
//
// Full-width cores run dense FMAs relatively faster, so the load-bound sparse kernels
// gain less there: on Emerald Rapids ResNet-50 ran 2:4 1.19x, 1:4 1.78x and 4x4-90 %
// 3.06x over dense, where Zen 4 gave 1.45x, 2.2x and 5.1x (shared/NOTES-machine.md).
// The full-width entries scale Zen 4's N:M and CSR efficiencies by 0.81 and the block
// efficiencies by 0.60 accordingly; these are estimates from end-to-end ratios, not
// kernel measurements. The AVX2 entry keeps Zen 4's efficiencies (its vectors and pipes
// are 256 bits wide like Zen 4's) at 8 lanes.
//
// `detect` reads vendor, family, model and flags as /proc/cpuinfo reports CPUID, picks
// the entry by family and model (by features for an unknown model), and keeps only the
// features the CPU exposes: a Zen 4 guest without AVX-512 (as some VMs are) gets 256-bit
// vectors.

import Foundation

extension TargetDescription {
  /// Zen 4: the rates today's cost models were fit to (bench/sparse-cost-model.md,
  /// RESULTS.md "Weight sparsity", ResNet-50 profiles of 2026-12-04).
  public static let zen4 = TargetDescription(
    name: "zen4", vectorBits: 512, fmaPipes: 2, fullWidth512: false,
    caches: CacheSizes(l1d: 32 << 10, l2: 1 << 20, l3: 32 << 20),
    features: [.avx2, .fma, .avx512f, .avx512bw, .avx512dq, .avx512vl, .avx512vnni, .avx512bf16],
    kernels: KernelRates(
      denseGemmGflops: 100, nmEfficiency: 0.78, csrEfficiency: 0.60,
      blocks: [BlockEfficiency(rows: 4, cols: 4, efficiency: 0.78), BlockEfficiency(rows: 8, cols: 1, efficiency: 0.65),
               BlockEfficiency(rows: 4, cols: 1, efficiency: 0.72)],
      // F(4x4) NCHW by positions 64@56 1.57x, 128@28 1.31x, 256@14 1.18x; F(2x2) 512@7
      // 1.15x; NHWC F(4x4) 2.27/2.34/2.1x, F(2x2) 1.69x.
      winograd: [WinogradRate(tile: 2, channelsLast: false, minPositions: 0, speedup: 1.15),
                 WinogradRate(tile: 4, channelsLast: false, minPositions: 0, speedup: 1.18),
                 WinogradRate(tile: 4, channelsLast: false, minPositions: 784, speedup: 1.30),
                 WinogradRate(tile: 4, channelsLast: false, minPositions: 3136, speedup: 1.55),
                 WinogradRate(tile: 2, channelsLast: true, minPositions: 0, speedup: 1.7),
                 WinogradRate(tile: 4, channelsLast: true, minPositions: 0, speedup: 2.1),
                 WinogradRate(tile: 4, channelsLast: true, minPositions: 784, speedup: 2.2)],
      fewPositionsDenseRate: 0.85, channelsLastConvGain: 0.15, transposeGBsInL2: 40, transposeGBsBeyondL2: 16))

  /// The description used when nothing names a CPU: builds do not depend on the build machine.
  public static let reference = zen4

  public static let zen5 = TargetDescription(
    name: "zen5", vectorBits: 512, fmaPipes: 2, fullWidth512: true,
    caches: CacheSizes(l1d: 48 << 10, l2: 1 << 20, l3: 32 << 20),
    features: zen4.features + [.avxvnni],
    kernels: zen4.kernels.scaled(dense: 2.3, sparse: 0.81, blocks: 0.60))

  public static let icelake = TargetDescription(
    name: "icelake", vectorBits: 512, fmaPipes: 2, fullWidth512: true,
    caches: CacheSizes(l1d: 48 << 10, l2: 1280 << 10, l3: 32 << 20),
    features: [.avx2, .fma, .avx512f, .avx512bw, .avx512dq, .avx512vl, .avx512vnni],
    kernels: zen4.kernels.scaled(dense: 1.4, sparse: 0.81, blocks: 0.60))

  public static let sapphireRapids = TargetDescription(
    name: "sapphirerapids", vectorBits: 512, fmaPipes: 2, fullWidth512: true,
    caches: CacheSizes(l1d: 48 << 10, l2: 2 << 20, l3: 105 << 20),
    features: icelake.features + [.avxvnni, .avx512bf16, .avx512fp16, .amx],
    kernels: zen4.kernels.scaled(dense: 1.5, sparse: 0.81, blocks: 0.60))

  public static let haswell = TargetDescription(
    name: "haswell", vectorBits: 256, fmaPipes: 2, fullWidth512: false,
    caches: CacheSizes(l1d: 32 << 10, l2: 256 << 10, l3: 8 << 20),
    features: [.avx2, .fma],
    kernels: zen4.kernels.scaled(dense: 0.5, sparse: 1, blocks: 1))

  /// Every table entry.
  public static let table: [TargetDescription] = [zen4, zen5, icelake, sapphireRapids, haswell]

  /// The entry for an LLVM CPU name (`--target-cpu`), or a table name; nil when unknown.
  public static func named(_ cpu: String) -> TargetDescription? {
    if let entry = table.first(where: { $0.name == cpu }) { return entry }
    switch cpu {
    case "znver4", "x86-64-v4", "skylake-avx512", "cascadelake", "cooperlake": return zen4
    case "znver5": return zen5
    case "icelake-server", "icelake-client", "tigerlake", "rocketlake": return icelake
    case "emeraldrapids", "graniterapids": return sapphireRapids
    case "x86-64-v3", "haswell", "broadwell", "skylake", "alderlake", "znver1", "znver2", "znver3": return haswell
    default: return nil
    }
  }
}

/// What CPUID says, as /proc/cpuinfo prints it (the first processor's block).
public struct CPUInfo: Equatable, Sendable {
  public var vendor: String
  public var family: Int
  public var model: Int
  public var flags: Set<String>

  public init(vendor: String, family: Int, model: Int, flags: Set<String>) {
    self.vendor = vendor; self.family = family; self.model = model; self.flags = flags
  }

  /// Parses /proc/cpuinfo text; nil when it has no vendor_id / cpu family / model.
  public init?(cpuinfo text: String) {
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.trimmingCharacters(in: .whitespaces).isEmpty && !fields.isEmpty { break }  // first processor only
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon].trimmingCharacters(in: .whitespaces)
      fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    guard let vendor = fields["vendor_id"], let family = fields["cpu family"].flatMap({ Int($0) }),
          let model = fields["model"].flatMap({ Int($0) }) else { return nil }
    self.init(vendor: vendor, family: family, model: model,
              flags: Set((fields["flags"] ?? "").split(separator: " ").map(String.init)))
  }

  /// This machine's, or nil where /proc/cpuinfo is missing or unreadable.
  public static func host() -> CPUInfo? {
    (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).flatMap { CPUInfo(cpuinfo: $0) }
  }

  public func has(_ feature: CPUFeature) -> Bool { flags.contains(feature.cpuinfoFlag) }

  /// AVX-512 with the subsets the generated code uses (x86-64-v4).
  public var hasAVX512: Bool { [.avx512f, .avx512bw, .avx512dq, .avx512vl].allSatisfy(has) }
  /// AVX2 and FMA (x86-64-v3).
  public var hasAVX2: Bool { has(.avx2) && has(.fma) }
}

extension TargetDescription {
  /// The table entry for this CPU, limited to the features it exposes.
  public static func detect(_ cpu: CPUInfo) -> TargetDescription {
    var d = tableEntry(cpu)
    let exposed = d.features.filter(cpu.has)
    if d.features != exposed {
      d.features = exposed
      d.name += " (" + (cpu.hasAVX512 ? "some extensions hidden" : "AVX-512 not exposed") + ")"
    }
    if !cpu.hasAVX512 { d.vectorBits = 256 }
    return d
  }

  /// The microarchitecture by vendor, family and model; by features when unknown.
  static func tableEntry(_ cpu: CPUInfo) -> TargetDescription {
    switch (cpu.vendor, cpu.family) {
    case ("AuthenticAMD", 0x1A): return zen5
    // Zen 4: Genoa 0x10-0x1f, Raphael 0x60-0x6f, Phoenix 0x70-0x7f, Bergamo 0xa0-0xaf.
    case ("AuthenticAMD", 0x19) where [0x10...0x1F, 0x60...0x7F, 0xA0...0xAF].contains { $0.contains(cpu.model) }:
      return zen4
    case ("GenuineIntel", 6):
      switch cpu.model {
      case 0x6A, 0x6C, 0x7D, 0x7E, 0x8C, 0x8D: return icelake
      case 0x8F, 0xCF, 0xAD, 0xAE: return sapphireRapids
      default: break
      }
    default: break
    }
    if cpu.hasAVX512 { return cpu.vendor == "AuthenticAMD" ? zen4 : icelake }
    return haswell
  }
}
