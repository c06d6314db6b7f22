//===--- FileCheck.swift - matches CHECK directives against printed IR --===//
//
//   CHECK: text          a later line contains text (after the previous match)
//   CHECK-NEXT: text     the very next line contains text
//   CHECK-NOT: text      no line between the previous and the next match contains text
//
// Patterns: literal text (runs of spaces match any spacing), `{{regex}}`,
// `[[NAME:regex]]` captures, `[[NAME]]` reuses a capture.

import Foundation

/// The first directive that fails, with a message; nil when all hold.
func runChecks(_ checks: [CheckDirective], on output: String) -> (CheckDirective, String)? {
  let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  var variables: [String: String] = [:]
  var next = 0            // first line a CHECK may match
  var lastMatch: Int? = nil
  var pendingNots: [CheckDirective] = []

  func firstMatch(_ check: CheckDirective, in range: Range<Int>) throws -> (Int, [String: String])? {
    let (regex, names) = try compile(check.pattern, variables: variables)
    for i in range {
      let line = lines[i]
      let ns = line as NSString
      if let m = regex.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) {
        var captured: [String: String] = [:]
        for name in names {
          let r = m.range(withName: name)
          if r.location != NSNotFound { captured[name] = ns.substring(with: r) }
        }
        return (i, captured)
      }
    }
    return nil
  }

  func checkNots(before end: Int) throws -> (CheckDirective, String)? {
    for not in pendingNots {
      if let (i, _) = try firstMatch(not, in: min(next, end)..<end) {
        return (not, "CHECK-NOT pattern found on output line \(i + 1): \(lines[i])")
      }
    }
    pendingNots = []
    return nil
  }

  do {
    for check in checks {
      switch check.kind {
      case .not:
        pendingNots.append(check)
      case .check:
        guard let (i, captured) = try firstMatch(check, in: next..<lines.count) else {
          return (check, "no line matches")
        }
        if let failure = try checkNots(before: i) { return failure }
        variables.merge(captured) { $1 }
        lastMatch = i
        next = i + 1
      case .next:
        let want = (lastMatch ?? -1) + 1
        guard want < lines.count, let (i, captured) = try firstMatch(check, in: want..<(want + 1)) else {
          return (check, "the next line (\(want + 1)) does not match")
        }
        if let failure = try checkNots(before: i) { return failure }
        variables.merge(captured) { $1 }
        lastMatch = i
        next = i + 1
      }
    }
    if let failure = try checkNots(before: lines.count) { return failure }
  } catch {
    return (checks.first!, "bad pattern: \(error)")
  }
  return nil
}

/// A regex for `pattern` and the capture names of its groups, in order.
private func compile(_ pattern: String, variables: [String: String]) throws -> (NSRegularExpression, [String]) {
  var regex = ""
  var names: [String] = []
  var rest = Substring(pattern)
  func literal(_ text: Substring) -> String {
    text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == " " || $0 == "\t" })
      .map { NSRegularExpression.escapedPattern(for: String($0)) }
      .joined(separator: "[ \\t]+")
      .replacingOccurrences(of: "[ \\t]+[ \\t]+", with: "[ \\t]+")
  }
  while !rest.isEmpty {
    let regexOpen = rest.range(of: "{{")
    let varOpen = rest.range(of: "[[")
    guard let open = [regexOpen, varOpen].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) else {
      regex += literal(rest)
      break
    }
    regex += literal(rest[..<open.lowerBound])
    let isRegex = open == regexOpen
    let closer = isRegex ? "}}" : "]]"
    guard let close = isRegex ? rest[open.upperBound...].range(of: closer)
                              : variableEnd(rest[open.upperBound...]) else {
      throw GoldenFileError("unclosed '\(isRegex ? "{{" : "[[")' in '\(pattern)'")
    }
    let inner = rest[open.upperBound..<close.lowerBound]
    if isRegex {
      regex += "(?:\(inner))"
    } else if let colon = inner.firstIndex(of: ":") {
      names.append(String(inner[..<colon]))
      regex += "(?<\(inner[..<colon])>\(inner[inner.index(after: colon)...]))"
    } else {
      guard let value = variables[String(inner)] else {
        throw GoldenFileError("undefined variable [[\(inner)]] in '\(pattern)'")
      }
      regex += NSRegularExpression.escapedPattern(for: value)
    }
    rest = rest[close.upperBound...]
  }
  return (try NSRegularExpression(pattern: regex), names)
}

/// The `]]` closing a `[[NAME:regex]]`, skipping brackets of the regex (`[[V:[a-z]]]`).
private func variableEnd(_ text: Substring) -> Range<Substring.Index>? {
  var depth = 0
  var i = text.startIndex
  while i < text.endIndex {
    let c = text[i]
    if c == "\\" {
      i = text.index(after: i)
      if i < text.endIndex { i = text.index(after: i) }
      continue
    }
    if c == "]" && depth == 0 {
      let next = text.index(after: i)
      if next < text.endIndex && text[next] == "]" { return i..<text.index(after: next) }
    }
    if c == "[" { depth += 1 } else if c == "]" { depth -= 1 }
    i = text.index(after: i)
  }
  return nil
}
