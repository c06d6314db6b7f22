//===--- GoldenFile.swift - the parts of a golden .sir test file --------===//
//
//   // RUN: dce,cse
//   module @m { ... }
//   // CHECK: %y = relu %x
//   // CHECK-NEXT: return %y
//   // CHECK-NOT: sigmoid
//   // -----
//   module @bad { ...
//     // expected-error@+1 {{use of undefined value %z}}
//     %y = relu %z : tensor<2xf32>
//
// The first line names the pass pipeline (`verify` for parse + verify only); cases are
// separated by `// -----`. Line numbers are the file's (1-based).

/// One `// CHECK...` directive.
public struct CheckDirective: Sendable {
  public enum Kind: String, Sendable { case check = "CHECK", next = "CHECK-NEXT", not = "CHECK-NOT" }
  public var kind: Kind
  public var pattern: String
  public var line: Int
}

/// One `// expected-error@+N {{message}}`; `line` is nil for `@unknown` (no location).
public struct ExpectedError: Sendable {
  public var line: Int?
  public var message: String
  /// Where the directive itself is written.
  public var directiveLine: Int
}

/// One case of a golden file.
public struct GoldenCase: Sendable {
  public var index: Int
  /// The case's text, preceded by blank lines so that its line numbers are the file's.
  public var text: String
  /// The case's own lines, for failure messages.
  public var source: String
  public var checks: [CheckDirective] = []
  public var expectedErrors: [ExpectedError] = []
}

/// A golden file split into its pipeline and cases.
public struct GoldenFile: Sendable {
  public var path: String
  public var pipeline: String
  public var cases: [GoldenCase]

  /// Splits `text`; throws a message when the RUN line or a directive is malformed.
  public init(text: String, path: String) throws {
    self.path = path
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let first = lines.first, let run = directiveText(first, "RUN:") else {
      throw GoldenFileError("\(path):1: the first line must be '// RUN: <pipeline>'")
    }
    pipeline = run.trimmingSpaces
    var cases: [GoldenCase] = []
    var start = 1  // 0-based index of the current case's first line
    func finishCase(endingBefore end: Int) throws {
      let body = lines[start..<end]
      var c = GoldenCase(index: cases.count,
                         text: String(repeating: "\n", count: start) + body.joined(separator: "\n"),
                         source: body.joined(separator: "\n"))
      for (offset, line) in body.enumerated() {
        let lineNumber = start + offset + 1
        for kind in [CheckDirective.Kind.next, .not, .check] {
          if let pattern = directiveText(line, kind.rawValue + ":") {
            c.checks.append(CheckDirective(kind: kind, pattern: pattern.trimmingSpaces, line: lineNumber))
            break
          }
        }
        if let e = try expectedError(in: line, lineNumber: lineNumber) { c.expectedErrors.append(e) }
      }
      cases.append(c)
    }
    for (i, line) in lines.enumerated().dropFirst() where line.trimmingSpaces == "// -----" {
      try finishCase(endingBefore: i)
      start = i + 1
    }
    try finishCase(endingBefore: lines.count)
    self.cases = cases
  }
}

public struct GoldenFileError: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// The text after `// NAME` on a comment line, or nil.
private func directiveText(_ line: String, _ name: String) -> String? {
  let trimmed = line.trimmingSpaces
  guard trimmed.hasPrefix("//") else { return nil }
  let rest = trimmed.dropFirst(2).trimmingSpaces
  guard rest.hasPrefix(name) else { return nil }
  return String(rest.dropFirst(name.count))
}

/// `// expected-error@+1 {{message}}` anywhere on the line (also after code).
private func expectedError(in line: String, lineNumber: Int) throws -> ExpectedError? {
  guard let range = line.range(of: "// expected-error") else { return nil }
  var rest = line[range.upperBound...]
  var target: Int? = lineNumber
  if rest.hasPrefix("@") {
    rest = rest.dropFirst()
    let spec = rest.prefix { !$0.isWhitespace && $0 != "{" }
    rest = rest.dropFirst(spec.count)
    if spec == "unknown" {
      target = nil
    } else if let delta = Int(spec.hasPrefix("+") ? String(spec.dropFirst()) : String(spec)) {
      target = lineNumber + delta
    } else {
      throw GoldenFileError("line \(lineNumber): bad expected-error offset '@\(spec)'")
    }
  }
  let body = rest.trimmingSpaces
  guard body.hasPrefix("{{"), let close = body.range(of: "}}", options: .backwards) else {
    throw GoldenFileError("line \(lineNumber): expected-error needs a message in {{...}}")
  }
  let message = String(body[body.index(body.startIndex, offsetBy: 2)..<close.lowerBound])
  return ExpectedError(line: target, message: message, directiveLine: lineNumber)
}

extension StringProtocol {
  var trimmingSpaces: String {
    String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
  }
}
