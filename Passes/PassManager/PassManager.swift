//===--- PassManager.swift - runs a pipeline with verification and tracing ---===//
//
// After every pass: the verifier (unless disabled), IR printing on request, per-pass
// statistics, and with `checkPasses` a numerical comparison on the interpreter that names
// the first pass whose outputs change.

import Foundation
import SparrowIR
import SparrowTargetSupport

/// How the pass manager observes a pipeline.
public struct PassManagerOptions: Sendable {
  /// Run the verifier after every pass.
  public var verify = true
  public var printIRAfterAll = false
  public var printIRAfter: Set<String> = []
  public var printIRBefore: Set<String> = []
  /// Run the interpreter on seeded inputs before and after every pass.
  public var checkPasses = false
  public var checkSeed: UInt64 = 0
  public var rtol = OutputTolerance.rtol
  public var atol = OutputTolerance.atol
  /// The CPU the passes' cost models describe (PassContext.target).
  public var target = TargetDescription.reference

  public init() {}
}

/// What one pass did.
public struct PassStatistics: Sendable {
  public var pass: String
  public var seconds: Double
  public var changed: Bool
  public var changes: ChangeCounts
  public var opsBefore: Int
  public var opsAfter: Int
  /// What an analysis pass reported (printed below the table).
  public var notes: [String] = []
}

/// A pass broke an invariant: the IR it produced is invalid, or (with `checkPasses`) it
/// changed the model's results. A compiler bug, not a user error (exit code 3).
public struct PassFailure: Error, CustomStringConvertible, Sendable {
  public var pass: String
  public var message: String
  public var description: String { "internal error: pass '\(pass)' \(message)" }
}

public struct PassManager {
  public var passes: [any Pass]
  public var options: PassManagerOptions
  /// Where IR dumps go (stderr by default).
  public var log: @Sendable (String) -> Void = { s in
    FileHandle.standardError.write(Data(s.utf8))
  }

  public init(passes: [any Pass], options: PassManagerOptions = PassManagerOptions()) {
    self.passes = passes
    self.options = options
  }

  /// Runs every pass on `module` in order; returns one statistics entry per pass.
  @discardableResult
  public func run(_ module: inout Module) throws -> [PassStatistics] {
    var stats: [PassStatistics] = []
    var reference: [Tensor]? = nil
    if options.checkPasses && !passes.isEmpty {
      reference = try runForCheck(module, stage: "the input IR")
    }
    for pass in passes {
      if options.printIRBefore.contains(pass.name) {
        log("// -----// IR Dump Before \(pass.name) //----- //\n" + printModule(module))
      }
      let context = PassContext(constants: module.constants, target: options.target)
      let opsBefore = opCount(module)
      let start = DispatchTime.now()
      let changed = try pass.run(on: &module, context: context)
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
      module.constants = context.constants
      let opsAfter = opCount(module)
      var changes = context.changes
      if changed && changes.isEmpty {
        // A pass that does not count: report the net op difference.
        changes.removed = max(0, opsBefore - opsAfter)
        changes.added = max(0, opsAfter - opsBefore)
      }
      stats.append(PassStatistics(pass: pass.name, seconds: seconds, changed: changed,
                                  changes: changes, opsBefore: opsBefore, opsAfter: opsAfter,
                                  notes: context.notes))
      if options.printIRAfterAll || options.printIRAfter.contains(pass.name) {
        log("// -----// IR Dump After \(pass.name) //----- //\n" + printModule(module))
      }
      if options.verify {
        do {
          try verify(module)
        } catch let list as DiagnosticList {
          throw PassFailure(pass: pass.name, message: "produced invalid IR:\n" + list.description)
        } catch let d as Diagnostic {
          throw PassFailure(pass: pass.name, message: "produced invalid IR:\n" + d.description)
        }
      }
      if let before = reference {
        let after = try runForCheck(module, stage: "the IR after '\(pass.name)'")
        if let mismatch = compareOutputs(before, after, names: outputNames(module),
                                         rtol: options.rtol, atol: options.atol) {
          throw PassFailure(pass: pass.name, message: "changed the results: \(mismatch)")
        }
        reference = after
      }
    }
    return stats
  }

  private func runForCheck(_ module: Module, stage: String) throws -> [Tensor] {
    do {
      return try runOnInterpreter(module, seed: options.checkSeed)
    } catch let d as Diagnostic {
      throw Diagnostic("--check-passes: cannot interpret \(stage): \(d.message)", at: d.location)
    }
  }
}

/// The number of ops over all functions.
func opCount(_ module: Module) -> Int { module.functions.map(\.ops.count).reduce(0, +) }

func outputNames(_ module: Module) -> [String] {
  let f = module.main
  return f.results.map { f.name(of: $0) }
}

/// Formats statistics as the table `--stats` prints.
public func formatStatistics(_ stats: [PassStatistics]) -> String {
  var rows = [["pass", "time (ms)", "ops", "removed", "added", "rewritten"]]
  for s in stats {
    rows.append([s.pass, String(format: "%.3f", s.seconds * 1000), "\(s.opsBefore) -> \(s.opsAfter)",
                 "\(s.changes.removed)", "\(s.changes.added)", "\(s.changes.rewritten)"])
  }
  let total = stats.map(\.seconds).reduce(0, +)
  rows.append(["total", String(format: "%.3f", total * 1000), "", "", "", ""])
  let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
  let notes = stats.flatMap { s in s.notes.map { "\(s.pass): \($0)\n" } }
  return rows.map { r in
    r.enumerated().map { i, s in
      i == 0 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
             : String(repeating: " ", count: widths[i] - s.count) + s
    }.joined(separator: "  ")
  }.joined(separator: "\n") + "\n" + notes.joined()
}
