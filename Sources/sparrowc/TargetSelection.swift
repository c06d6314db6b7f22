//===--- TargetSelection.swift - which TargetDescription the passes read ---===//
//
//   --tuning FILE         the description `sparrowc tune` wrote (wins over everything)
//   --target-cpu native   the host's CPUID (compile)
//   --target-cpu NAME     the table entry for that CPU; a name the table does not know
//                         gets the entry of its vector width (AVX-512: the reference)
//   neither               TargetDescription.reference (Zen 4): the default library and
//                         the JIT make the same layer choices on every build machine

import SparrowLLVM
import SparrowTargetSupport

extension PipelineOptions {
  /// The description for code generated for `cpu` (compile's `--target-cpu`; nil: none).
  func targetDescription(cpu: String? = nil) throws -> TargetDescription {
    if let tuning { return try TargetDescription.load(path: tuning) }
    switch cpu {
    case nil: return .reference
    case "native"?: return CPUInfo.host().map(TargetDescription.detect) ?? .reference
    case let name?:
      if let entry = TargetDescription.named(name) { return entry }
      return TargetSpec.resolve(cpu: name, features: nil, defaultToHost: false).hasAVX512 ? .reference : .haswell
    }
  }
}
