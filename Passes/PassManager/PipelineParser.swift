//===--- PipelineParser.swift - `a,b{opt=v,o2=w},c` into passes ----------===//
//
// Grammar:  pipeline := entry (',' entry)*    entry := name ('{' opt (',' opt)* '}')?
//           opt := key '=' value              (whitespace around tokens is ignored)

import SparrowIR

/// One entry of a pipeline string: a pass name and its options as written.
public struct PipelineEntry: Equatable, Sendable {
  public var name: String
  public var options: [(String, String)]

  public init(name: String, options: [(String, String)] = []) {
    self.name = name
    self.options = options
  }

  public static func == (a: PipelineEntry, b: PipelineEntry) -> Bool {
    a.name == b.name && a.options.elementsEqual(b.options) { $0 == $1 }
  }

  /// The entry as a pipeline string would write it.
  public var description: String {
    options.isEmpty ? name : name + "{" + options.map { "\($0)=\($1)" }.joined(separator: ",") + "}"
  }
}

/// Splits a pipeline string into entries; throws a Diagnostic (at `location`) on syntax
/// errors. An empty string is the empty pipeline.
public func parsePipelineEntries(_ text: String, location: String = "--passes") throws -> [PipelineEntry] {
  var entries: [PipelineEntry] = []
  var chars = Array(text)[...]
  func fail(_ message: String) -> Diagnostic {
    let column = text.count - chars.count + 1
    return Diagnostic("\(message) at column \(column) of '\(text)'", at: location)
  }
  func skipSpaces() { while let c = chars.first, c == " " { chars.removeFirst() } }
  func word(stoppingAt stops: Set<Character>) -> String {
    skipSpaces()
    var w = ""
    while let c = chars.first, !stops.contains(c) { w.append(c); chars.removeFirst() }
    return w.trimmingSpaces()
  }

  skipSpaces()
  if chars.isEmpty { return [] }
  while true {
    let name = word(stoppingAt: [",", "{", "}", "="])
    guard !name.isEmpty else { throw fail("expected a pass name") }
    var entry = PipelineEntry(name: name)
    skipSpaces()
    if chars.first == "{" {
      chars.removeFirst()
      while true {
        let key = word(stoppingAt: ["=", ",", "}", "{"])
        guard !key.isEmpty else { throw fail("expected an option name in '\(name){...}'") }
        guard chars.first == "=" else { throw fail("expected '=' after option '\(key)'") }
        chars.removeFirst()
        let value = word(stoppingAt: [",", "}", "{", "="])
        guard !value.isEmpty else { throw fail("expected a value for option '\(key)'") }
        entry.options.append((key, value))
        guard let c = chars.first else { throw fail("missing '}' after the options of '\(name)'") }
        chars.removeFirst()
        if c == "}" { break }
        guard c == "," else { throw fail("unexpected '\(c)'") }
      }
      skipSpaces()
    }
    entries.append(entry)
    guard let c = chars.first else { break }
    guard c == "," else { throw fail("unexpected '\(c)'") }
    chars.removeFirst()
  }
  return entries
}

/// Parses a pipeline string and creates its passes, checking names and options.
public func parsePipeline(_ text: String, location: String = "--passes") throws -> [any Pass] {
  try parsePipelineEntries(text, location: location).map {
    try PassRegistry.makePass($0.name, options: $0.options, location: location)
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while s.first == " " { s.removeFirst() }
    while s.last == " " { s.removeLast() }
    return String(s)
  }
}
