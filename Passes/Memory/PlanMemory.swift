//===--- PlanMemory.swift - the arena the interpreter will run from (analysis) ---===//
//
//   %a = conv %x, %w : tensor<1x64x56x56xf32>      %a: arena [0, 802816)
//   %b = relu %a     : tensor<1x64x56x56xf32>  =>  %b: arena [0, 802816) in place over %a
//   %c = max_pool %b : tensor<1x64x28x28xf32>      %c: arena [802816, 1003520)
//
// The IR is unchanged: the pass computes the interpreter's memory plan (liveness,
// first-fit reuse, in-place elementwise; Targets/Support/MemoryPlan.swift) for every
// function and reports it under `--stats`: arena bytes vs the sum of all intermediates,
// and how many ops run in place.

import SparrowIR
import SparrowInterpreter
import SparrowTargetSupport

public struct PlanMemory: Pass {
  public static let name = "plan-memory"
  public static let summary = "Plan every intermediate into one arena (analysis; reported by --stats)"

  public init(options: PassOptions) throws {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    let plan = Interpreter.memoryPlan(for: function)
    context.notes.append(Self.describe(plan, of: function))
    return false
  }

  /// One line: arena vs intermediates and the in-place count.
  static func describe(_ plan: MemoryPlan, of f: Function) -> String {
    let saved = plan.intermediateBytes == 0 ? 0
      : 100 * Double(plan.intermediateBytes - plan.workspaceSize) / Double(plan.intermediateBytes)
    return "@\(f.name): arena \(formatBytes(plan.workspaceSize)) for \(formatBytes(plan.intermediateBytes))"
      + " of intermediates (\(String(format: "%.1f", saved))% saved), \(plan.inPlace.count) ops in place"
  }
}

/// Bytes as "123 B", "4.5 KiB", "67.8 MiB", "2.0 GiB" (the one byte formatter: plan-memory's
/// stats, the driver's memory estimate).
public func formatBytes(_ n: Int) -> String {
  if n == .max { return "more than 8 EiB" }
  let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
  var value = Double(n), unit = 0
  while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
  return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
}
