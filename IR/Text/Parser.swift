//===--- Parser.swift - reads the .sir text form ------------------------===//
//
// A recursive-descent parser over `Lexer` tokens, driven by the op table: the mnemonic
// picks the `OpKind`, the spec gives each attribute's kind (an int literal coerces to a
// float attribute), and the shape rule checks every result type written in the text.
// Every malformed input throws a Diagnostic at `file:line:col`; nothing traps.

/// Parses `.sir` text. `file` names the source in diagnostics (`file:line:col`);
/// `sidecar` supplies constants printed as `<sidecar>`. When `sidecar` is empty and the
/// module names a weights file, `loadSidecar` is called once with that name (as written)
/// the first time a `<sidecar>` constant needs data.
public func parseModule(_ text: String, file: String = "<input>",
                        sidecar: [String: Tensor] = [:],
                        loadSidecar: ((String) throws -> [String: Tensor])? = nil) throws -> Module {
  var parser = try Parser(text, file: file, sidecar: sidecar, loadSidecar: loadSidecar)
  return try parser.parseModule()
}

/// Largest element count a type in the text may have (keeps byte counts far from overflow).
let maxTextElementCount = 1 << 48

struct Parser {
  var lexer: Lexer
  var tok: Token
  var module = Module(name: "")
  var sidecar: [String: Tensor]?
  let loadSidecar: ((String) throws -> [String: Tensor])?

  init(_ text: String, file: String, sidecar: [String: Tensor],
       loadSidecar: ((String) throws -> [String: Tensor])?) throws {
    lexer = Lexer(text, file: file)
    tok = Token(kind: .eof, text: "", line: 1, column: 1)
    self.sidecar = sidecar.isEmpty ? nil : sidecar
    self.loadSidecar = loadSidecar
    try advance()
  }

  // MARK: - Token helpers

  func location(of t: Token) -> String { lexer.location(line: t.line, column: t.column) }

  func error(_ message: String, at t: Token? = nil) -> Diagnostic {
    Diagnostic(message, at: location(of: t ?? tok))
  }

  mutating func advance() throws { tok = try lexer.next() }

  func describe(_ t: Token) -> String {
    switch t.kind {
    case .eof: return "end of input"
    case .value: return "'%\(spellName(t.text))'"
    case .symbol: return "'@\(spellName(t.text))'"
    case .hash: return "'#\(t.text)'"
    case .string: return quoteString(t.text)
    default: return "'\(t.text)'"
    }
  }

  func isPunct(_ p: String) -> Bool { tok.kind == .punctuation && tok.text == p }
  func isKeyword(_ k: String) -> Bool { tok.kind == .identifier && tok.text == k }

  mutating func expectPunct(_ p: String, _ context: String = "") throws {
    guard isPunct(p) else {
      throw error("expected '\(p)'\(context.isEmpty ? "" : " \(context)"), got \(describe(tok))")
    }
    try advance()
  }

  mutating func expectKeyword(_ k: String) throws {
    guard isKeyword(k) else { throw error("expected '\(k)', got \(describe(tok))") }
    try advance()
  }

  mutating func expect(_ kind: Token.Kind, _ what: String) throws -> Token {
    guard tok.kind == kind else { throw error("expected \(what), got \(describe(tok))") }
    let t = tok
    try advance()
    return t
  }

  mutating func expectInt(_ what: String) throws -> Int {
    let t = try expect(.integer, what)
    guard let v = Int(t.text) else { throw error("integer \(t.text) out of range", at: t) }
    return v
  }

  // MARK: - Module

  mutating func parseModule() throws -> Module {
    try expectKeyword("module")
    module.name = try expect(.symbol, "a module name like '@net'").text
    if isKeyword("weights") {
      try advance()
      module.weightsFile = try expect(.string, "a weights file name in quotes").text
    }
    try expectPunct("{", "to open the module")
    while !isPunct("}") {
      if isKeyword("const") {
        try parseConstant()
      } else if isKeyword("func") {
        try parseFunction()
      } else {
        throw error("expected 'const', 'func' or '}', got \(describe(tok))")
      }
    }
    try advance()
    guard tok.kind == .eof else { throw error("unexpected \(describe(tok)) after the module") }
    return module
  }

  // MARK: - Types

  /// `tensor<1x64xf32>`, `tensor<f32>`, `tensor<4x64xf32, #nm<2,4>>`.
  mutating func parseType() throws -> TensorType {
    guard isKeyword("tensor") else { throw error("expected a tensor type, got \(describe(tok))") }
    try advance()
    guard isPunct("<") else { throw error("expected '<' after 'tensor', got \(describe(tok))") }
    // The body is scanned from the raw text, right after '<'.
    let (shape, elementName, location) = try lexer.scanTypeBody()
    try advance()
    guard let element = ElementType(rawValue: elementName) else {
      throw Diagnostic("unknown element type '\(elementName)'", at: location)
    }
    guard let count = checkedElementCount(shape), count <= maxTextElementCount else {
      throw Diagnostic("tensor type with shape \(shape) is too large", at: location)
    }
    var type = TensorType(element, shape)
    if isPunct(",") {
      try advance()
      if tok.kind == .hash && tok.text == "quant" {
        type.quantization = try parseQuantization(for: type)
      } else {
        type.layout = try parseLayout()
        if isPunct(",") {
          try advance()
          type.quantization = try parseQuantization(for: type)
        }
      }
    }
    try expectPunct(">", "to close the tensor type")
    return type
  }

  /// `#nm<2,4>`, `#bsr<4,4>`, `#csr`.
  mutating func parseLayout() throws -> SparseLayout {
    let start = try expect(.hash, "a sparse layout like '#nm<2,4>'")
    switch start.text {
    case "csr": return .csr
    case "nm", "bsr":
      try expectPunct("<", "after '#\(start.text)'")
      let a = try expectInt("an integer")
      try expectPunct(",", "in '#\(start.text)<_,_>'")
      let b = try expectInt("an integer")
      try expectPunct(">", "to close '#\(start.text)<...>'")
      if start.text == "nm" {
        guard a >= 1 && b >= 1 && a <= b else {
          throw error("#nm<\(a),\(b)> needs 1 <= N <= M", at: start)
        }
        return .nm(n: a, m: b)
      }
      guard a >= 1 && b >= 1 else { throw error("#bsr<\(a),\(b)> needs positive block sizes", at: start) }
      return .bsr(r: a, c: b)
    default:
      throw error("unknown sparse layout '#\(start.text)' (expected #nm, #bsr or #csr)", at: start)
    }
  }

  // MARK: - Attributes

  /// `{name = value, ...}` as written (kinds are checked against the op's spec later).
  mutating func parseAttributeDictionary() throws -> [(Token, AttributeValue)] {
    try expectPunct("{")
    var out: [(Token, AttributeValue)] = []
    if isPunct("}") { try advance(); return out }
    while true {
      guard tok.kind == .identifier || tok.kind == .string else {
        throw error("expected an attribute name, got \(describe(tok))")
      }
      let name = tok
      try advance()
      try expectPunct("=", "after attribute '\(name.text)'")
      out.append((name, try parseAttributeValue()))
      if isPunct("}") { try advance(); return out }
      try expectPunct(",", "or '}' in attributes")
    }
  }

  mutating func parseAttributeValue() throws -> AttributeValue {
    let t = tok
    switch t.kind {
    case .integer:
      try advance()
      guard let v = Int(t.text) else { throw error("integer \(t.text) out of range", at: t) }
      return .int(v)
    case .float:
      try advance()
      guard let v = parseFloatLiteral(t.text) else { throw error("bad float \(t.text)", at: t) }
      return .float(v)
    case .string:
      try advance()
      return .string(t.text)
    case .identifier:
      try advance()
      if t.text == "true" || t.text == "false" { return .bool(t.text == "true") }
      if let e = ElementType(rawValue: t.text) { return .type(e) }
      throw error("expected an attribute value, got \(describe(t))", at: t)
    case .punctuation where t.text == "[":
      return try parseAttributeList()
    default:
      throw error("expected an attribute value, got \(describe(t))", at: t)
    }
  }

  /// `[1, 2]` ints, `[1.5, 2]` floats, `["a"]` strings; `[]` is an empty ints list (it
  /// coerces to any list kind).
  mutating func parseAttributeList() throws -> AttributeValue {
    let open = tok
    try advance()
    var items: [Token] = []
    if !isPunct("]") {
      while true {
        guard [.integer, .float, .string].contains(tok.kind) else {
          throw error("expected a number or string in the list, got \(describe(tok))")
        }
        items.append(tok)
        try advance()
        if isPunct("]") { break }
        try expectPunct(",", "or ']' in the list")
      }
    }
    try advance()
    if items.allSatisfy({ $0.kind == .integer }) {
      var values: [Int] = []
      for t in items {
        guard let v = Int(t.text) else { throw error("integer \(t.text) out of range", at: t) }
        values.append(v)
      }
      return .ints(values)
    }
    if items.allSatisfy({ $0.kind == .string }) { return .strings(items.map(\.text)) }
    if items.allSatisfy({ $0.kind == .integer || $0.kind == .float }) {
      var values: [Float] = []
      for t in items {
        guard let v = parseFloatLiteral(t.text) else { throw error("bad number \(t.text)", at: t) }
        values.append(v)
      }
      return .floats(values)
    }
    throw error("a list mixes strings and numbers", at: open)
  }
}
