//===--- Pipeline.swift - runs the pass pipeline the flags ask for ----------===//

import ArgumentParser
import Foundation
import SparrowIR
import SparrowPasses

extension PipelineOptions {
  /// The passes `--passes` or `-O` selects. A bad pipeline string is a usage error.
  func makePasses() throws -> [any Pass] {
    do {
      if let text = passes { return try parsePipeline(text) }
      return try Pipelines.passes(for: OptimizationLevel(rawValue: level.rawValue)!, configuration: configuration)
    } catch let d as Diagnostic {
      throw ValidationError(d.message)
    }
  }

  /// The typed settings the pipeline flags give the -O pipelines.
  var configuration: PipelineConfiguration {
    PipelineConfiguration(sparsity: sparsity, winograd: winograd, convLayout: convLayout)
  }

  /// Checks the pipeline string and pass names before anything is loaded.
  func validate() throws {
    _ = try makePasses()
    let unknown = Set(printAfter + printBefore).filter { PassRegistry.pass(named: $0) == nil }.sorted()
    guard unknown.isEmpty else {
      throw ValidationError("--print-ir-after/--print-ir-before: unknown pass \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (known passes: \(PassRegistry.names.joined(separator: ", ")))")
    }
  }

  /// The pass manager's observation settings.
  var managerOptions: PassManagerOptions {
    var o = PassManagerOptions()
    o.verify = !noVerify
    o.printIRAfterAll = printAfterAll
    o.printIRAfter = Set(printAfter)
    o.printIRBefore = Set(printBefore)
    o.checkPasses = checkPasses
    return o
  }
}

/// Runs the pipeline selected by `o` on `module` (loaded from `file`): verifies the input
/// first, then every pass as the flags ask; `--stats` prints a table to stderr. The cost
/// models read the description of `targetCPU` (TargetSelection.swift).
func optimize(_ module: inout Module, _ o: PipelineOptions, file: String, targetCPU: String? = nil) throws {
  var options = o.managerOptions
  options.target = try o.targetDescription(cpu: targetCPU)
  let manager = PassManager(passes: try o.makePasses(), options: options)
  if !o.noVerify {
    do {
      try verify(module)
    } catch let d as Diagnostic {
      throw d.location == nil ? d.located(file) : d
    }
  }
  let stats = try manager.run(&module)
  if o.stats {
    printError(formatStatistics(stats), terminator: "")
    printError("target description: \(options.target.name)\(o.tuning.map { " (--tuning \($0))" } ?? "")")
    printError("interpreter BLAS: \(blasCoreReport())")
  }
}

struct ListPasses: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "passes",
    abstract: "List the passes --passes accepts, their options, and the -O pipelines.")

  func run() {
    print("Passes (use as --passes=a,b{option=value},c):")
    print(PassRegistry.listing)
    print("")
    for level in OptimizationLevel.allCases {
      let entries = Pipelines.entries(for: level)
      print("-\(level.rawValue): \(entries.isEmpty ? "(no passes)" : entries.joined(separator: ","))")
    }
  }
}
