//===--- PassRegistry.swift - every pass, by name ------------------------===//
//
// One line per pass. This list drives `--passes=` parsing, `--print-ir-after=` name
// checks and the pass listing in `sparrowc passes` / `--help`.
//
// Adding a pass:
//  1. Create `Passes/<Family>/<WhatItDoes>.swift` opening with a before/after IR comment:
//     a struct conforming to `Pass` with `name`, `summary`, `options` and `init(options:)`.
//  2. Write `run(on:context:)`: usually a list of `RewritePattern`s and one call to
//     `applyPatternsGreedily`; mutate only through the `Rewriter` so `--stats` counts.
//  3. Add one line to `PassRegistry.all` below (and to a pipeline in Pipelines.swift).
//  4. Test it: XCTests in Tests/SparrowPassesTests (structure and `assertEquivalent` on the
//     interpreter) and a golden `Tests/IRFiles/<name>.sir` with fire and must-not-fire cases.

import SparrowIR

public enum PassRegistry {
  /// Every registered pass, in the order they are listed to users.
  public static let all: [any Pass.Type] = [
    DeadCodeElimination.self,
    ConstantFolding.self,
    CommonSubexpressionElimination.self,
    RemoveIdentity.self,
    SimplifyAlgebra.self,
    FoldBatchNorm.self,
    MatmulToGemm.self,
    FoldTranspose.self,
    FuseEpilogue.self,
    FuseHorizontal.self,
    FuseAttention.self,
    LowerConv.self,
    ChooseConvLayout.self,
    FoldActivationMasks.self,
    FoldMasks.self,
    AnalyzeSparsity.self,
    Sparsify.self,
    PlanMemory.self,
    FoldQDQ.self,
  ]

  /// The pass named `name`, if registered.
  public static func pass(named name: String) -> (any Pass.Type)? {
    all.first { $0.name == name }
  }

  /// Every registered name, sorted.
  public static var names: [String] { all.map { $0.name }.sorted() }

  /// The pass listing: one line per pass with its summary, then its options.
  public static var listing: String {
    let width = all.map { $0.name.count }.max() ?? 0
    var lines: [String] = []
    for p in all {
      lines.append("  " + p.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + p.summary)
      for o in p.options {
        lines.append("  " + String(repeating: " ", count: width) + "    {\(o.name)=<\(o.kind.rawValue)>} "
                     + "\(o.help) (default \(o.defaultValue))")
      }
    }
    return lines.joined(separator: "\n")
  }

  /// Creates the pass `name` with the options given in a pipeline string (as text),
  /// checking each option's name and type. Throws a Diagnostic at `location`.
  public static func makePass(_ name: String, options given: [(String, String)],
                              location: String = "--passes") throws -> any Pass {
    guard let type = pass(named: name) else {
      var message = "unknown pass '\(name)'"
      if let near = nearest(name, in: names) { message += "; did you mean '\(near)'?" }
      message += " (known passes: \(names.joined(separator: ", ")))"
      throw Diagnostic(message, at: location)
    }
    var values: [String: PassOptionValue] = [:]
    for (key, text) in given {
      guard let spec = type.options.first(where: { $0.name == key }) else {
        let known = type.options.map(\.name)
        throw Diagnostic("pass '\(name)' has no option '\(key)'"
                         + (known.isEmpty ? "; it takes no options"
                                          : " (options: \(known.joined(separator: ", ")))"),
                         at: location)
      }
      guard values[key] == nil else {
        throw Diagnostic("option '\(key)' of pass '\(name)' given twice", at: location)
      }
      guard let v = PassOptionValue(parsing: text, as: spec.kind) else {
        throw Diagnostic("option '\(key)' of pass '\(name)' must be \(spec.kind.rawValue), got '\(text)'",
                         at: location)
      }
      values[key] = v
    }
    do {
      return try type.init(options: PassOptions(specs: type.options, given: values))
    } catch let d as Diagnostic {
      throw Diagnostic("pass '\(name)': \(d.message)", at: location)
    }
  }

  /// The closest registered name within a small edit distance, for "did you mean".
  static func nearest(_ name: String, in candidates: [String]) -> String? {
    let limit = min(3, max(1, name.count / 3))
    let scored = candidates.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= limit }
    return scored.min { $0.1 < $1.1 }?.0
  }
}

/// Levenshtein distance between two short strings.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a), b = Array(b)
  if a.isEmpty { return b.count }
  var row = Array(0...b.count)
  for i in 1...a.count {
    var previous = row[0]
    row[0] = i
    for j in stride(from: 1, through: b.count, by: 1) {
      let saved = row[j]
      row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
      previous = saved
    }
  }
  return row[b.count]
}
