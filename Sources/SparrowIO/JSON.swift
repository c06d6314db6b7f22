//===--- JSON.swift - the small JSON subset safetensors headers use -----===//
//
// Objects (key order kept), arrays, strings with escapes, integers, true/false/null.
// Fractions and exponents parse as `.number(nil)`: safetensors never needs them.
// Malformed input throws; nothing traps.

import SparrowIR

indirect enum JSONValue: Equatable {
  case object([(String, JSONValue)])
  case array([JSONValue])
  case string(String)
  /// An integer; nil for a number that is not one (or does not fit in Int).
  case number(Int?)
  case bool(Bool)
  case null

  static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    case let (.array(x), .array(y)): return x == y
    case let (.string(x), .string(y)): return x == y
    case let (.number(x), .number(y)): return x == y
    case let (.bool(x), .bool(y)): return x == y
    case (.null, .null): return true
    default: return false
    }
  }

  static func parse(_ bytes: ArraySlice<UInt8>) throws -> JSONValue {
    var parser = JSONParser(bytes: Array(bytes))
    let value = try parser.value(depth: 0)
    parser.skipSpace()
    guard parser.offset == parser.bytes.count else { throw Diagnostic("unexpected text after JSON value at byte \(parser.offset)") }
    return value
  }
}

/// A JSON string literal for `s` (quotes included).
public func jsonQuoted(_ s: String) -> String {
  var out = "\""
  for scalar in s.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    default:
      if scalar.value < 0x20 {
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  return out + "\""
}

private struct JSONParser {
  let bytes: [UInt8]
  var offset = 0

  func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }
  func fail(_ message: String) -> Diagnostic { Diagnostic("\(message) at byte \(offset) of the JSON header") }

  mutating func skipSpace() {
    while let b = peek(), b == 0x20 || b == 0x0a || b == 0x09 || b == 0x0d { offset += 1 }
  }

  mutating func value(depth: Int) throws -> JSONValue {
    guard depth < 64 else { throw fail("JSON nested too deeply") }
    skipSpace()
    guard let b = peek() else { throw fail("unexpected end of JSON") }
    switch b {
    case UInt8(ascii: "{"):
      offset += 1
      var members: [(String, JSONValue)] = []
      skipSpace()
      if peek() == UInt8(ascii: "}") { offset += 1; return .object(members) }
      while true {
        skipSpace()
        let key = try string()
        skipSpace()
        guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
        offset += 1
        members.append((key, try value(depth: depth + 1)))
        skipSpace()
        if peek() == UInt8(ascii: "}") { offset += 1; return .object(members) }
        guard peek() == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
        offset += 1
      }
    case UInt8(ascii: "["):
      offset += 1
      var items: [JSONValue] = []
      skipSpace()
      if peek() == UInt8(ascii: "]") { offset += 1; return .array(items) }
      while true {
        items.append(try value(depth: depth + 1))
        skipSpace()
        if peek() == UInt8(ascii: "]") { offset += 1; return .array(items) }
        guard peek() == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
        offset += 1
      }
    case UInt8(ascii: "\""):
      return .string(try string())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let start = offset
      offset += 1
      var integral = true
      while let c = peek(), (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: ".")
              || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
        if !(c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) { integral = false }
        offset += 1
      }
      let text = String(decoding: bytes[start..<offset], as: UTF8.self)
      return .number(integral ? Int(text) : nil)
    default:
      for (word, value) in [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)] {
        let w = Array(word.utf8)
        if offset + w.count <= bytes.count && Array(bytes[offset..<(offset + w.count)]) == w {
          offset += w.count
          return value
        }
      }
      throw fail("unexpected character")
    }
  }

  mutating func string() throws -> String {
    guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string") }
    offset += 1
    var out: [UInt8] = []
    while true {
      guard let b = peek() else { throw fail("unterminated string") }
      offset += 1
      if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
      guard b == UInt8(ascii: "\\") else { out.append(b); continue }
      guard let e = peek() else { throw fail("unterminated string") }
      offset += 1
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
      case UInt8(ascii: "n"): out.append(0x0a)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0d)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0c)
      case UInt8(ascii: "u"):
        guard offset + 4 <= bytes.count,
              let v = UInt32(String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self), radix: 16) else {
          throw fail("bad \\u escape")
        }
        offset += 4
        // Surrogate pairs are not needed for tensor names; lone surrogates become U+FFFD.
        let scalar = UnicodeScalar(v) ?? "\u{FFFD}"
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
      default:
        throw fail("bad escape")
      }
    }
  }
}
