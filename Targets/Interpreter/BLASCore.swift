//===--- BLASCore.swift - which OpenBLAS kernels the interpreter runs ---===//
//
// Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels from CPUID when it loads. On
// a CPU it does not know (Emerald Rapids, family 6 model 207) it falls back to a generic
// core, "Prescott" (SSE3), and the interpreter runs ResNet-50 at 6x onnxruntime's time.
// `OPENBLAS_CORETYPE` overrides the choice but is read only at load time, so the driver
// re-executes itself with it set (sparrowc's BLASCoreSelection.swift) when
// `BLASCoreChoice.coreType` says so:
//   - never when OPENBLAS_CORETYPE is set already (a user's choice; the AMD machines of
//     this environment set Haswell);
//   - SkylakeX when the CPU has AVX-512 (F, BW, DQ, VL) and OpenBLAS chose a core without
//     it; Haswell when the CPU has AVX2 + FMA and OpenBLAS chose a core without those;
//   - nothing otherwise (the choice is already as good, or the CPU has neither).

import COpenBLAS
import SparrowTargetSupport

public enum BLASCoreChoice {
  /// OpenBLAS cores with AVX-512 kernels, and those with at least AVX2 + FMA ones.
  static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
  static let avx2Cores: Set<String> = avx512Cores.union(["haswell", "zen"])

  /// The OPENBLAS_CORETYPE to run with, or nil to leave OpenBLAS's choice alone.
  public static func coreType(cpu: CPUInfo, coreName: String, environment: [String: String]) -> String? {
    guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
    let core = coreName.lowercased()
    if cpu.hasAVX512 && !avx512Cores.contains(core) { return "SkylakeX" }
    if cpu.hasAVX2 && !avx2Cores.contains(core) { return "Haswell" }
    return nil
  }

  /// The core the loaded OpenBLAS runs ("Haswell", "SkylakeX", "Prescott" ...).
  public static var loadedCoreName: String {
    openblas_get_corename().map { String(cString: $0) } ?? "unknown"
  }
}
