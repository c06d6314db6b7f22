//===--- Parser+Function.swift - functions and ops of the .sir form -----===//
//
//   func @main(%x: tensor<1x64xf32>) -> (tensor<1x4xf32>) {
//     %a, %b = split %x {axis = 1, sizes = [32, 32]} : tensor<1x32xf32>, tensor<1x32xf32>
//     return %a
//   }

extension Parser {
  /// Values visible in the function being parsed: name -> (id, where defined).
  struct Scope {
    var values: [String: (id: ValueID, token: Token)] = [:]
  }

  mutating func parseFunction() throws {
    try advance()  // func
    let nameToken = try expect(.symbol, "a function name like '@main'")
    guard !module.functions.contains(where: { $0.name == nameToken.text }) else {
      throw error("redefinition of function @\(spellName(nameToken.text))", at: nameToken)
    }
    var function = Function(name: nameToken.text)
    var scope = Scope()
    try expectPunct("(", "to open the argument list")
    if !isPunct(")") {
      while true {
        let arg = try expect(.value, "an argument like '%x: tensor<...>'")
        try expectPunct(":", "after argument %\(spellName(arg.text))")
        let type = try parseType()
        let id = try define(arg, type: type, in: &function, scope: &scope)
        function.arguments.append(id)
        if isPunct(")") { break }
        try expectPunct(",", "or ')' in the argument list")
      }
    }
    try advance()
    guard tok.kind == .arrow else { throw error("expected '->' and the result types, got \(describe(tok))") }
    try advance()
    try expectPunct("(", "to open the result types")
    var resultTypes: [(TensorType, Token)] = []
    if !isPunct(")") {
      while true {
        let t = tok
        resultTypes.append((try parseType(), t))
        if isPunct(")") { break }
        try expectPunct(",", "or ')' in the result types")
      }
    }
    try advance()
    try expectPunct("{", "to open the function body")
    while !isKeyword("return") {
      guard tok.kind == .value else {
        throw error("expected an op like '%y = relu %x : ...' or 'return', got \(describe(tok))")
      }
      try parseOperation(into: &function, scope: &scope)
    }
    let returnToken = tok
    try advance()
    var results: [(ValueID, Token)] = []
    if tok.kind == .value {
      while true {
        let t = tok
        results.append((try use(t, scope: scope), t))
        try advance()
        guard isPunct(",") else { break }
        try advance()
      }
    }
    guard results.count == resultTypes.count else {
      throw error("@\(spellName(function.name)) declares \(resultTypes.count) results but returns \(results.count)",
                  at: returnToken)
    }
    for ((id, t), (declared, _)) in zip(results, resultTypes) where function.type(of: id) != declared {
      throw error("returned %\(spellName(t.text)) has type \(function.type(of: id)), but the signature says \(declared)",
                  at: t)
    }
    function.results = results.map(\.0)
    try expectPunct("}", "after 'return'")
    module.functions.append(function)
  }

  func use(_ t: Token, scope: Scope) throws -> ValueID {
    guard let v = scope.values[t.text] else {
      throw error("use of undefined value %\(spellName(t.text))", at: t)
    }
    return v.id
  }

  mutating func define(_ t: Token, type: TensorType, in function: inout Function,
                       scope: inout Scope) throws -> ValueID {
    if let previous = scope.values[t.text] {
      throw error("redefinition of %\(spellName(t.text)) (first defined at line \(previous.token.line))", at: t)
    }
    let id = function.addValue(name: t.text, type: type)
    precondition(function.name(of: id) == t.text, "value names are unique within a scope")
    scope.values[t.text] = (id, t)
    return id
  }

  /// `%r, ... = mnemonic %a, ... {attrs} : type, ...` or `%w = constant @name : type`.
  mutating func parseOperation(into function: inout Function, scope: inout Scope) throws {
    let start = tok
    var resultTokens: [Token] = []
    while true {
      resultTokens.append(try expect(.value, "a result name"))
      if isPunct("=") { break }
      try expectPunct(",", "or '=' after the result names")
    }
    try advance()
    let mnemonic = try expect(.identifier, "an op name")
    guard let kind = OpKind(rawValue: mnemonic.text) else {
      throw error("unknown op '\(mnemonic.text)'", at: mnemonic)
    }
    var operands: [ValueID] = []
    var written: [(Token, AttributeValue)] = []
    if kind == .constant && tok.kind == .symbol {
      // `constant @w` is the short form of `constant {name = "w"}`.
      let nameAttribute = Token(kind: .identifier, text: "name", line: tok.line, column: tok.column)
      written.append((nameAttribute, .string(tok.text)))
      try advance()
    } else {
      if tok.kind == .value {
        while true {
          operands.append(try use(tok, scope: scope))
          try advance()
          guard isPunct(",") else { break }
          try advance()
          guard tok.kind == .value else { throw error("expected an operand, got \(describe(tok))") }
        }
      }
      if isPunct("{") { written = try parseAttributeDictionary() }
    }
    try expectPunct(":", "and the result types")
    var types: [(TensorType, Token)] = []
    while true {
      let t = tok
      types.append((try parseType(), t))
      guard isPunct(",") else { break }
      try advance()
    }
    guard types.count == resultTokens.count else {
      throw error("\(resultTokens.count) results but \(types.count) result types", at: start)
    }
    let origin = try parseOrigin()

    let attributes = try checkedAttributes(kind, written, mnemonic: mnemonic)
    let where_ = location(of: start)
    let operandTypes = operands.map { function.type(of: $0) }
    let inferred: [TensorType]
    do {
      try checkSignature(kind, operandCount: operands.count, attributes: attributes)
      let spec = kind.spec
      guard spec.results.contains(resultTokens.count) else {
        throw Diagnostic("'\(kind.rawValue)' has \(describeCount(spec.results)) results, got \(resultTokens.count)")
      }
      inferred = try inferResultTypes(kind, operandTypes, attributes, constants: module.constants)
    } catch let d as Diagnostic {
      throw Diagnostic(d.message, at: where_)
    }
    guard resultTokens.count <= inferred.count else {
      throw error("'\(kind.rawValue)' produces \(inferred.count) results here, got \(resultTokens.count)", at: start)
    }
    for (i, (type, t)) in types.enumerated() {
      if let problem = resultTypeProblem(kind, written: type, inferred: inferred[i]) {
        throw error("result %\(spellName(resultTokens[i].text)) of '\(kind.rawValue)': \(problem)", at: t)
      }
    }
    var results: [ValueID] = []
    for (t, (type, _)) in zip(resultTokens, types) {
      results.append(try define(t, type: type, in: &function, scope: &scope))
    }
    function.ops.append(Operation(kind, operands: operands, results: results,
                                  attributes: attributes, location: where_, origin: origin))
  }

  /// An optional `loc(nodes ["a", ...], weights ["w", ...])` after the result types (either
  /// list may be left out).
  mutating func parseOrigin() throws -> Origin {
    guard tok.kind == .identifier && tok.text == "loc" else { return Origin() }
    try advance()
    try expectPunct("(", "after 'loc'")
    var origin = Origin()
    var seen: Set<String> = []
    while !isPunct(")") {
      let key = try expect(.identifier, "'nodes' or 'weights'")
      guard key.text == "nodes" || key.text == "weights" else {
        throw error("expected 'nodes' or 'weights' in loc(...), got '\(key.text)'", at: key)
      }
      guard seen.insert(key.text).inserted else { throw error("'\(key.text)' given twice in loc(...)", at: key) }
      guard isPunct("[") else { throw error("expected a list of names after '\(key.text)'") }
      let listToken = tok
      guard case .strings(let names)? = try parseAttributeList().coerced(to: .strings) else {
        throw error("expected a list of quoted names after '\(key.text)'", at: listToken)
      }
      if key.text == "nodes" { origin.add(nodes: names) } else { origin.add(weights: names) }
      if isPunct(",") { try advance() } else if !isPunct(")") {
        throw error("expected ',' or ')' in loc(...), got \(describe(tok))")
      }
    }
    try advance()
    return origin
  }

  /// Attributes as written, checked by name and kind against the spec (with coercion).
  func checkedAttributes(_ kind: OpKind, _ written: [(Token, AttributeValue)],
                         mnemonic: Token) throws -> Attributes {
    var attributes = Attributes(kind)
    for (name, value) in written {
      guard let spec = kind.spec.attribute(name.text) else {
        throw error("'\(kind.rawValue)' has no attribute '\(name.text)'", at: name)
      }
      guard attributes.values[name.text] == nil else {
        throw error("attribute '\(name.text)' given twice", at: name)
      }
      guard let v = value.coerced(to: spec.kind) else {
        if let reason = value.decisionError(for: spec.kind) { throw error(reason, at: name) }
        throw error("attribute '\(name.text)' of '\(kind.rawValue)' must be \(spec.kind.rawValue), got \(value.kind.rawValue)",
                    at: name)
      }
      attributes.values[name.text] = v
    }
    return attributes
  }
}

/// `1`, `1 to 2`, `at least 1`.
func describeCount(_ range: ClosedRange<Int>) -> String {
  if range.upperBound >= manyOperands { return "at least \(range.lowerBound)" }
  if range.count == 1 { return "\(range.lowerBound)" }
  return "\(range.lowerBound) to \(range.upperBound)"
}

/// Why a written result type differs from the shape rule's, or nil when it fits. Only a
/// `constant` result may carry a sparse layout; a `constant` or `quantize_linear` result
/// may add a quantization, and `qconv`/`qmatmul` choose theirs (integerResultProblem);
/// everything else must match exactly.
public func resultTypeProblem(_ kind: OpKind, written: TensorType, inferred: TensorType) -> String? {
  if kind == .constant {
    return written.dense == inferred.dense ? nil
      : "type \(written) does not match the pool entry's \(inferred)"
  }
  if kind == .qconv || kind == .qmatmul {
    return integerResultProblem(kind, written: written, inferred: inferred)
  }
  if written == inferred { return nil }
  if kind == .quantize_linear && written.with(quantization: nil) == inferred { return nil }
  if written.dense == inferred { return "only constants may carry a sparse layout, got \(written)" }
  return "type \(written) does not match the inferred \(inferred)"
}
