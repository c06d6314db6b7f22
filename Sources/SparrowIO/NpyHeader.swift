//===--- NpyHeader.swift - the Python dict literal of a .npy header -----===//
//
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// Just enough of Python's literal syntax for that: quoted strings, True/False, tuples of
// non-negative integers, trailing commas.

import SparrowIR

enum NpyHeaderValue: Equatable {
  case string(String)
  case bool(Bool)
  case tuple([Int])
}

func parseHeaderDictionary(_ text: String) throws -> [String: NpyHeaderValue] {
  var cursor = NpyHeaderCursor(bytes: Array(text.utf8))
  return try cursor.dictionary()
}

private struct NpyHeaderCursor {
  let bytes: [UInt8]
  var offset = 0

  func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

  mutating func skipSpace() {
    while let b = peek(), b == 0x20 || b == 0x0a || b == 0x09 || b == 0x0d { offset += 1 }
  }

  mutating func expect(_ c: Character) throws {
    skipSpace()
    guard let b = peek(), b == c.asciiValue else { throw Diagnostic("expected '\(c)' at byte \(offset)") }
    offset += 1
  }

  mutating func accept(_ c: Character) -> Bool {
    skipSpace()
    if let b = peek(), b == c.asciiValue { offset += 1; return true }
    return false
  }

  mutating func dictionary() throws -> [String: NpyHeaderValue] {
    try expect("{")
    var out: [String: NpyHeaderValue] = [:]
    while !accept("}") {
      let key = try string()
      try expect(":")
      out[key] = try value()
      if accept("}") { break }
      try expect(",")
    }
    skipSpace()
    guard offset == bytes.count else { throw Diagnostic("unexpected text after the dictionary") }
    return out
  }

  mutating func value() throws -> NpyHeaderValue {
    skipSpace()
    switch peek() {
    case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "("): return .tuple(try tuple())
    default:
      let start = offset
      while let b = peek(), (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) {
        offset += 1
      }
      switch String(decoding: bytes[start..<offset], as: UTF8.self) {
      case "True": return .bool(true)
      case "False": return .bool(false)
      default: throw Diagnostic("unexpected value at byte \(start)")
      }
    }
  }

  mutating func string() throws -> String {
    skipSpace()
    guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
      throw Diagnostic("expected a quoted string at byte \(offset)")
    }
    offset += 1
    let start = offset
    while let b = peek(), b != quote { offset += 1 }
    guard peek() == quote else { throw Diagnostic("unterminated string") }
    offset += 1
    return String(decoding: bytes[start..<(offset - 1)], as: UTF8.self)
  }

  mutating func tuple() throws -> [Int] {
    try expect("(")
    var out: [Int] = []
    while !accept(")") {
      skipSpace()
      let start = offset
      while let b = peek(), b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") { offset += 1 }
      while peek() == UInt8(ascii: "L") { offset += 1 }  // Python 2 longs
      let digits = String(decoding: bytes[start..<offset], as: UTF8.self).filter { $0 != "L" }
      guard let d = Int(digits) else { throw Diagnostic("bad dimension at byte \(start)") }
      out.append(d)
      if accept(")") { break }
      try expect(",")
    }
    return out
  }
}
