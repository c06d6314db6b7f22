//===--- GoldenRunner.swift - runs the cases of a golden .sir file ------===//
//
// Per case: parse, verify, run the RUN pipeline (unless it is `verify`), print. A case with
// `expected-error` directives passes when exactly those errors are reported (each message
// contains the expected text and is located at the expected line); otherwise the CHECK
// directives are matched against the printed IR.

import Foundation
import SparrowIR

/// One failed expectation, printed with the case, the directive and the actual IR.
public struct GoldenFailure: CustomStringConvertible, Sendable {
  public var file: String
  public var caseIndex: Int
  /// The directive's line in the file.
  public var line: Int
  public var message: String
  public var expected: String
  public var caseSource: String
  public var actual: String

  public var description: String {
    """
    \(file):\(line): case \(caseIndex): \(message)
      expected: \(expected)
    --- actual ---
    \(actual)
    --- case ---
    \(caseSource)
    """
  }
}

/// Runs every case of the golden file at `path`. `pipeline` applies the RUN line's pass
/// pipeline to a parsed, verified module (it is not called for `// RUN: verify`).
public func runGoldenFile(_ path: String,
                          pipeline: (Module, String) throws -> Module) -> [GoldenFailure] {
  guard let data = FileManager.default.contents(atPath: path) else {
    return [GoldenFailure(file: path, caseIndex: 0, line: 0, message: "cannot read the file",
                          expected: "", caseSource: "", actual: "")]
  }
  return runGoldenText(String(decoding: data, as: UTF8.self), path: path, pipeline: pipeline)
}

/// As `runGoldenFile`, for text in memory.
public func runGoldenText(_ text: String, path: String,
                          pipeline: (Module, String) throws -> Module) -> [GoldenFailure] {
  let file: GoldenFile
  do {
    file = try GoldenFile(text: text, path: path)
  } catch {
    return [GoldenFailure(file: path, caseIndex: 0, line: 0, message: "\(error)", expected: "",
                          caseSource: "", actual: "")]
  }
  // A case of only comments and blank lines (e.g. after a trailing `// -----`) is no case.
  let cases = file.cases.filter { c in
    c.source.split(separator: "\n").contains { line in
      let t = line.trimmingSpaces
      return !t.isEmpty && !t.hasPrefix("//")
    }
  }
  return cases.flatMap { run($0, of: file, pipeline: pipeline) }
}

private func run(_ c: GoldenCase, of file: GoldenFile,
                 pipeline: (Module, String) throws -> Module) -> [GoldenFailure] {
  var errors: [Diagnostic] = []
  var output = ""
  func collect(_ error: Error) {
    switch error {
    case let d as Diagnostic: errors.append(d)
    case let list as DiagnosticList: errors += list.diagnostics
    default: errors.append(Diagnostic("\(error)"))
    }
  }
  do {
    var module = try parseModule(c.text, file: file.path)
    try verify(module)
    if file.pipeline != "verify" && !file.pipeline.isEmpty {
      module = try pipeline(module, file.pipeline)
    }
    output = printModule(module)
  } catch {
    collect(error)
  }
  let actual = output.isEmpty ? errors.map(\.description).joined(separator: "\n") : output
  func failure(_ line: Int, _ message: String, _ expected: String) -> GoldenFailure {
    GoldenFailure(file: file.path, caseIndex: c.index, line: line, message: message,
                  expected: expected, caseSource: c.source, actual: actual)
  }

  if !c.expectedErrors.isEmpty || !errors.isEmpty {
    var failures: [GoldenFailure] = []
    var unmatched = errors
    for e in c.expectedErrors {
      if let i = unmatched.firstIndex(where: { reportedLine($0) == e.line && $0.message.contains(e.message) }) {
        unmatched.remove(at: i)
      } else {
        let at = e.line.map { "line \($0)" } ?? "no location"
        failures.append(failure(e.directiveLine, "expected error not reported at \(at)", "{{\(e.message)}}"))
      }
    }
    for d in unmatched {
      failures.append(failure(reportedLine(d) ?? c.expectedErrors.first?.directiveLine ?? 0,
                              "unexpected error: \(d.description)", "no error"))
    }
    return failures
  }
  if let (check, message) = runChecks(c.checks, on: output) {
    return [failure(check.line, message, "\(check.kind.rawValue): \(check.pattern)")]
  }
  return []
}

/// The line of a diagnostic located at `file:line:col` (the last such part of its location).
func reportedLine(_ d: Diagnostic) -> Int? {
  guard let location = d.location else { return nil }
  let parts = location.split(separator: ":", omittingEmptySubsequences: false)
  guard parts.count >= 3, Int(parts[parts.count - 1].trimmingSpaces) != nil else { return nil }
  return Int(parts[parts.count - 2].trimmingSpaces)
}

/// The `.sir` golden files in `folder`, sorted, as full paths (for a test that runs them all).
public func goldenFiles(in folder: String) -> [String] {
  let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
  return names.filter { $0.hasSuffix(".sir") }.sorted().map { "\(folder)/\($0)" }
}

/// The pipeline named by a golden file's `// RUN:` line, or nil when it has none.
public func goldenPipeline(of path: String) -> String? {
  guard let data = FileManager.default.contents(atPath: path) else { return nil }
  let text = String(decoding: data, as: UTF8.self)
  return (try? GoldenFile(text: text, path: path))?.pipeline
}
