//===--- Lexer.swift - tokens of the .sir text form ---------------------===//
//
//   %x  %"a b"  @fc.weight  gemm  42  -1.5e-3  inf  "text"  #nm  ->  { } ( ) [ ] < > , = :
//
// `//` starts a comment to the end of the line. Tensor type bodies (`1x64xf32`) are not
// tokens: the parser asks for them with `scanTypeBody()` right after `tensor<`.
// Every malformed input throws a Diagnostic at `file:line:col`; nothing traps.

struct Token: Equatable {
  enum Kind: Equatable {
    case eof
    /// `gemm`, `tensor`, `true`, `inf`, `f32`: letters, digits and `_`.
    case identifier
    /// `42`, `-7`.
    case integer
    /// `1.5`, `-2e-3`, `inf`, `-nan` (the sign-prefixed words only when a number is due).
    case float
    /// A string literal, unescaped.
    case string
    /// `%name` (text without the sigil, unescaped).
    case value
    /// `@name`.
    case symbol
    /// `#nm`, `#bsr`, `#csr` (text without `#`).
    case hash
    /// `->`.
    case arrow
    /// One of `{ } ( ) [ ] < > , = :`.
    case punctuation
  }
  var kind: Kind
  var text: String
  var line: Int
  var column: Int
}

struct Lexer {
  let bytes: [UInt8]
  let file: String
  private(set) var offset = 0
  private var line = 1
  private var lineStart = 0

  init(_ text: String, file: String) {
    self.bytes = Array(text.utf8)
    self.file = file
  }

  func location(line: Int, column: Int) -> String { "\(file):\(line):\(column)" }
  private var here: String { location(line: line, column: offset - lineStart + 1) }

  private func peek(_ ahead: Int = 0) -> UInt8? {
    offset + ahead < bytes.count ? bytes[offset + ahead] : nil
  }

  private mutating func skipTrivia() {
    while let b = peek() {
      if b == UInt8(ascii: "\n") {
        offset += 1
        line += 1
        lineStart = offset
      } else if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") {
        offset += 1
      } else if b == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") {
        while let c = peek(), c != UInt8(ascii: "\n") { offset += 1 }
      } else {
        return
      }
    }
  }

  mutating func next() throws -> Token {
    skipTrivia()
    let startLine = line, startColumn = offset - lineStart + 1
    func token(_ kind: Token.Kind, _ text: String) -> Token {
      Token(kind: kind, text: text, line: startLine, column: startColumn)
    }
    guard let b = peek() else { return token(.eof, "") }
    switch b {
    case UInt8(ascii: "%"), UInt8(ascii: "@"):
      offset += 1
      let name = try scanName(after: b == UInt8(ascii: "%") ? "%" : "@")
      return token(b == UInt8(ascii: "%") ? .value : .symbol, name)
    case UInt8(ascii: "#"):
      offset += 1
      let word = scanWord()
      guard !word.isEmpty else { throw Diagnostic("expected a layout name after '#'", at: here) }
      return token(.hash, word)
    case UInt8(ascii: "\""):
      return token(.string, try scanString())
    case UInt8(ascii: "-") where peek(1) == UInt8(ascii: ">"):
      offset += 2
      return token(.arrow, "->")
    case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try scanNumber(token)
    case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"),
         UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "<"), UInt8(ascii: ">"),
         UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: ":"):
      offset += 1
      return token(.punctuation, String(UnicodeScalar(b)))
    default:
      let word = scanWord()
      if word.isEmpty {
        throw Diagnostic("unexpected character \(describe(byte: b))", at: here)
      }
      return token(word == "inf" || word == "nan" ? .float : .identifier, word)
    }
  }

  private func describe(byte b: UInt8) -> String {
    b >= 0x20 && b < 0x7f ? "'\(UnicodeScalar(b))'" : "byte 0x\(String(b, radix: 16))"
  }

  /// Letters, digits and `_`.
  private mutating func scanWord() -> String {
    let start = offset
    while let b = peek(), isWordByte(b) { offset += 1 }
    return String(decoding: bytes[start..<offset], as: UTF8.self)
  }

  private func isWordByte(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
      || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
  }

  private mutating func scanName(after sigil: String) throws -> String {
    if peek() == UInt8(ascii: "\"") { return try scanString() }
    let start = offset
    while let b = peek(), isBareNameByte(b) { offset += 1 }
    guard offset > start else { throw Diagnostic("expected a name after '\(sigil)'", at: here) }
    return String(decoding: bytes[start..<offset], as: UTF8.self)
  }

  /// `-12`, `3.5`, `1e-05`, `-inf`, `-nan`.
  private mutating func scanNumber(_ token: (Token.Kind, String) -> Token) throws -> Token {
    let start = offset
    if peek() == UInt8(ascii: "-") || peek() == UInt8(ascii: "+") { offset += 1 }
    if let b = peek(), b == UInt8(ascii: "i") || b == UInt8(ascii: "n") {
      let word = scanWord()
      guard word == "inf" || word == "nan" else {
        throw Diagnostic("expected a number, got '\(String(decoding: bytes[start..<offset], as: UTF8.self))'", at: here)
      }
      return token(.float, String(decoding: bytes[start..<offset], as: UTF8.self))
    }
    var isFloat = false
    func digits() -> Int {
      let s = offset
      while let b = peek(), b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") { offset += 1 }
      return offset - s
    }
    let intDigits = digits()
    if peek() == UInt8(ascii: "."), let d = peek(1), d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") || intDigits > 0 {
      offset += 1
      isFloat = true
      _ = digits()
    }
    guard offset > start + (bytes[start] == UInt8(ascii: "-") || bytes[start] == UInt8(ascii: "+") ? 1 : 0) else {
      throw Diagnostic("expected a number", at: here)
    }
    if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
      offset += 1
      if let s = peek(), s == UInt8(ascii: "-") || s == UInt8(ascii: "+") { offset += 1 }
      guard digits() > 0 else { throw Diagnostic("malformed exponent in number", at: here) }
      isFloat = true
    }
    if let b = peek(), isWordByte(b) {
      throw Diagnostic("unexpected character \(describe(byte: b)) in number", at: here)
    }
    return token(isFloat ? .float : .integer, String(decoding: bytes[start..<offset], as: UTF8.self))
  }

  private mutating func scanString() throws -> String {
    let startLocation = here
    offset += 1  // opening quote
    var out: [UInt8] = []
    while true {
      guard let b = peek(), b != UInt8(ascii: "\n") else {
        throw Diagnostic("unterminated string", at: startLocation)
      }
      offset += 1
      if b == UInt8(ascii: "\"") { break }
      guard b == UInt8(ascii: "\\") else { out.append(b); continue }
      guard let e = peek() else { throw Diagnostic("unterminated string", at: startLocation) }
      offset += 1
      switch e {
      case UInt8(ascii: "\""): out.append(e)
      case UInt8(ascii: "\\"): out.append(e)
      case UInt8(ascii: "n"): out.append(0x0a)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0d)
      case UInt8(ascii: "u"):
        guard peek() == UInt8(ascii: "{") else { throw Diagnostic("expected '{' after \\u", at: here) }
        offset += 1
        let start = offset
        while let h = peek(), h != UInt8(ascii: "}"), offset - start < 8 { offset += 1 }
        guard peek() == UInt8(ascii: "}"),
              let value = UInt32(String(decoding: bytes[start..<offset], as: UTF8.self), radix: 16),
              let scalar = UnicodeScalar(value) else {
          throw Diagnostic("malformed \\u{...} escape", at: here)
        }
        offset += 1
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
      default:
        throw Diagnostic("unknown escape '\\\(String(decoding: [e], as: UTF8.self))' in string", at: here)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The inside of `tensor<...>` up to (not including) `,` or `>`: dims and element type,
  /// `1x64xf32` or `f32`. Returns the dims and the element name with their location.
  mutating func scanTypeBody() throws -> (shape: [Int], element: String, location: String) {
    skipTrivia()
    let location = here
    let start = offset
    while let b = peek(), isWordByte(b) { offset += 1 }
    let body = String(decoding: bytes[start..<offset], as: UTF8.self)
    var parts = body.split(separator: "x", omittingEmptySubsequences: false).map(String.init)
    guard let element = parts.popLast(), !element.isEmpty else {
      throw Diagnostic("expected a tensor type like 'tensor<2x3xf32>'", at: location)
    }
    var shape: [Int] = []
    for p in parts {
      guard let d = Int(p), d >= 0, p.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
        throw Diagnostic("bad dimension '\(p)' in tensor type '\(body)'", at: location)
      }
      shape.append(d)
    }
    return (shape, element, location)
  }
}
