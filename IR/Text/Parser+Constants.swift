//===--- Parser+Constants.swift - pool entries of the .sir form ---------===//
//
//   const @fc.bias : tensor<4xf32> = [0.0, 1.5, -2.0, 3.0]
//   const @fc.weight : tensor<4x64xf32> = <sidecar>          (data from the weights file)
//   const @big : tensor<37632xf32> = <elided 37632 x f32>     (a dump: cannot be loaded)

extension Parser {
  mutating func parseConstant() throws {
    try advance()  // const
    let nameToken = try expect(.symbol, "a constant name like '@fc.weight'")
    let name = nameToken.text
    guard module.constants[name] == nil else {
      throw error("redefinition of constant @\(spellName(name))", at: nameToken)
    }
    try expectPunct(":", "after @\(spellName(name))")
    let typeToken = tok
    let type = try parseType()
    guard type.layout == nil else {
      throw error("pool constants are dense; put the layout on the 'constant' op's type", at: typeToken)
    }
    try expectPunct("=", "and the constant's data")
    let tensor: Tensor
    if isPunct("[") {
      tensor = try parseInlineData(type, name: name)
    } else if isPunct("<") {
      tensor = try parseOutOfLineData(type, nameToken: nameToken)
    } else {
      throw error("expected '[...]', '<sidecar>' or '<elided ...>' as the data of @\(spellName(name)), got \(describe(tok))")
    }
    module.constants.add(tensor, name: name)
  }

  /// `<sidecar>` (looked up in the weights file) or `<elided N x f32>` (an error).
  mutating func parseOutOfLineData(_ type: TensorType, nameToken: Token) throws -> Tensor {
    let name = nameToken.text
    try advance()  // <
    let word = try expect(.identifier, "'sidecar' or 'elided'")
    switch word.text {
    case "elided":
      throw error("constant @\(spellName(name)) was elided when this IR was printed, so its data "
                  + "cannot be loaded; write a full .sir with its weights sidecar using "
                  + "`sparrowc opt MODEL --passes ... -o OUT.sir`", at: word)
    case "sidecar":
      try expectPunct(">", "after '<sidecar'")
      let weights = try sidecarTensors(at: word)
      guard let tensor = weights[name] else {
        let file = module.weightsFile.map { "'\($0)'" } ?? "the sidecar"
        throw error("constant @\(spellName(name)) is stored in the sidecar, but \(file) has no tensor '\(name)'",
                    at: nameToken)
      }
      guard tensor.type == type else {
        throw error("sidecar tensor '\(name)' is \(tensor.type), but @\(spellName(name)) is declared \(type)",
                    at: nameToken)
      }
      return tensor
    default:
      throw error("expected '<sidecar>' or '<elided ...>', got '<\(word.text)'", at: word)
    }
  }

  /// The sidecar's tensors, loading the module's weights file on first use.
  mutating func sidecarTensors(at t: Token) throws -> [String: Tensor] {
    if let sidecar { return sidecar }
    guard let weights = module.weightsFile else {
      throw error("a <sidecar> constant needs a weights file: add `weights \"NAME.safetensors\"` after the module name",
                  at: t)
    }
    guard let loadSidecar else {
      throw error("the weights file '\(weights)' was not loaded; read .sir files with SIRFile.read, which loads it",
                  at: t)
    }
    do {
      let loaded = try loadSidecar(weights)
      sidecar = loaded
      return loaded
    } catch let d as Diagnostic {
      throw Diagnostic("cannot load the weights sidecar: \(d.description)", at: location(of: t))
    }
  }

  /// `[v, v, ...]`: exactly as many literals as the type has elements, in row-major order.
  mutating func parseInlineData(_ type: TensorType, name: String) throws -> Tensor {
    let open = tok
    try advance()  // [
    var bytes: [UInt8] = []
    bytes.reserveCapacity(min(type.byteCount, 1 << 16))
    var count = 0
    if !isPunct("]") {
      while true {
        guard count < type.count else {
          throw error("@\(spellName(name)) has more than the \(type.count) elements of \(type)")
        }
        try appendElement(tok, type.element, to: &bytes)
        count += 1
        try advance()
        if isPunct("]") { break }
        try expectPunct(",", "or ']' in the constant's data")
      }
    }
    try advance()
    guard count == type.count else {
      throw error("@\(spellName(name)) lists \(count) elements, but \(type) has \(type.count)", at: open)
    }
    return Tensor(type: type, bytes: bytes)
  }

  /// Appends one literal as `element`'s little-endian bytes.
  func appendElement(_ t: Token, _ element: ElementType, to bytes: inout [UInt8]) throws {
    func append<T>(_ v: T) { withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) } }
    func float() throws -> Float {
      guard t.kind == .integer || t.kind == .float, let v = parseFloatLiteral(t.text) else {
        throw error("expected a number for a \(element.rawValue) element, got \(describe(t))", at: t)
      }
      return v
    }
    func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
      guard t.kind == .integer else {
        throw error("expected an integer for a \(element.rawValue) element, got \(describe(t))", at: t)
      }
      guard let v = T(t.text) else {
        throw error("\(t.text) does not fit in \(element.rawValue)", at: t)
      }
      return v
    }
    switch element {
    case .f32: append(try float())
    case .f16: append(try float().float16Bits)
    case .bf16: append(try float().bfloat16Bits)
    case .f64:
      guard t.kind == .integer || t.kind == .float, let v = parseDoubleLiteral(t.text) else {
        throw error("expected a number for a f64 element, got \(describe(t))", at: t)
      }
      append(v)
    case .i64: append(try integer(Int64.self))
    case .i32: append(try integer(Int32.self))
    case .i16: append(try integer(Int16.self))
    case .i8: append(try integer(Int8.self))
    case .u64: append(try integer(UInt64.self))
    case .u32: append(try integer(UInt32.self))
    case .u16: append(try integer(UInt16.self))
    case .u8: append(try integer(UInt8.self))
    case .bool:
      switch (t.kind, t.text) {
      case (.identifier, "true"), (.integer, "1"): bytes.append(1)
      case (.identifier, "false"), (.integer, "0"): bytes.append(0)
      default: throw error("expected true or false for a bool element, got \(describe(t))", at: t)
      }
    }
  }
}
