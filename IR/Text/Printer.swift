//===--- Printer.swift - the .sir text form of a module ------------------===//
//
//   module @tiny weights "tiny.safetensors" {
//     const @fc.bias : tensor<4xf32> = [0.0, 1.5, -2.0, 3.0]
//     const @fc.weight : tensor<4x64xf32> = <sidecar>
//     func @main(%x: tensor<1x64xf32>) -> (tensor<1x4xf32>) {
//       %w = constant @fc.weight : tensor<4x64xf32, #nm<2,4>>
//       %y = gemm %x, %w {transB = true} : tensor<1x4xf32>
//       return %y
//     }
//   }
//
// Only stored attributes print (sorted by name), so `parse(print(m))` prints identically.

/// How constants are printed.
public struct PrintOptions: Sendable {
  /// Constants with at most this many elements print inline (`= [1.0, 2.0]`).
  public var inlineLimit: Int
  /// Larger constants: `<sidecar>` (full round trip through safetensors) when true,
  /// `<elided N x f32>` (dumps) when false.
  public var sidecar: Bool
  public init(inlineLimit: Int = 16, sidecar: Bool = false) {
    self.inlineLimit = inlineLimit
    self.sidecar = sidecar
  }
  /// For `dump-ir` and diagnostics.
  public static let dump = PrintOptions()
  /// For `.sir` files with a weights sidecar.
  public static let roundTrip = PrintOptions(sidecar: true)

  /// Whether a constant of `count` elements prints its data inline.
  public func printsInline(count: Int) -> Bool { count <= inlineLimit }
}

public func printModule(_ module: Module, options: PrintOptions = .dump) -> String {
  var out = "module @\(spellName(module.name))"
  if let weights = module.weightsFile { out += " weights \(quoteString(weights))" }
  out += " {\n"
  for name in module.constants.names {
    guard let tensor = module.constants[name] else { continue }
    out += "  const @\(spellName(name)) : \(tensor.type) = \(constantData(tensor, options))\n"
  }
  for function in module.functions { out += printFunction(function, indent: "  ") }
  return out + "}\n"
}

/// One function, as it appears inside its module.
public func printFunction(_ function: Function, indent: String = "") -> String {
  let arguments = function.arguments.map { "%\(spellName(function.name(of: $0))): \(function.type(of: $0))" }
  let resultTypes = function.results.map { "\(function.type(of: $0))" }
  var out = "\(indent)func @\(spellName(function.name))(\(arguments.joined(separator: ", ")))"
  out += " -> (\(resultTypes.joined(separator: ", "))) {\n"
  for op in function.ops { out += "\(indent)  \(printOperation(op, in: function))\n" }
  let results = function.results.map { "%\(spellName(function.name(of: $0)))" }
  out += "\(indent)  return\(results.isEmpty ? "" : " ")\(results.joined(separator: ", "))\n"
  return out + "\(indent)}\n"
}

/// One op line without indentation: `%y = gemm %x, %w {transB = true} : tensor<1x4xf32>`.
public func printOperation(_ op: Operation, in function: Function) -> String {
  let results = op.results.map { "%\(spellName(function.name(of: $0)))" }.joined(separator: ", ")
  let types = op.results.map { "\(function.type(of: $0))" }.joined(separator: ", ")
  if op.kind == .constant, case let .string(name)? = op.attributes.values["name"],
     op.attributes.values.count == 1 {
    return "\(results) = constant @\(spellName(name)) : \(types)" + printOrigin(op.origin)
  }
  var line = "\(results) = \(op.kind.rawValue)"
  let operands = op.operands.map { "%\(spellName(function.name(of: $0)))" }
  if !operands.isEmpty { line += " " + operands.joined(separator: ", ") }
  let attributes = printAttributes(op.attributes.values)
  if !attributes.isEmpty { line += " " + attributes }
  return line + " : " + types + printOrigin(op.origin)
}

/// ` loc(nodes ["conv1", "relu1"], weights ["w"])`; empty for an op without origin.
func printOrigin(_ origin: Origin) -> String {
  var parts: [String] = []
  if !origin.nodes.isEmpty { parts.append("nodes " + printAttribute(.strings(origin.nodes))) }
  if !origin.weights.isEmpty { parts.append("weights " + printAttribute(.strings(origin.weights))) }
  return parts.isEmpty ? "" : " loc(" + parts.joined(separator: ", ") + ")"
}

/// `{a = 1, b = [2, 3]}`, sorted by name; empty when there are none.
func printAttributes(_ values: [String: AttributeValue]) -> String {
  if values.isEmpty { return "" }
  let items = values.sorted { $0.key < $1.key }.map { "\(spellName($0.key)) = \(printAttribute($0.value))" }
  return "{" + items.joined(separator: ", ") + "}"
}

func printAttribute(_ value: AttributeValue) -> String {
  switch value {
  case let .int(v): return String(v)
  case let .float(v): return formatFloat(v)
  case let .string(v): return quoteString(v)
  case let .bool(v): return v ? "true" : "false"
  case let .ints(v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
  case let .floats(v): return "[" + v.map(formatFloat).joined(separator: ", ") + "]"
  case let .strings(v): return "[" + v.map(quoteString).joined(separator: ", ") + "]"
  case let .type(v): return v.rawValue
  case .convAlgorithm, .convLayout, .epilogue: return printAttribute(value.spelled)
  }
}

/// The right-hand side of a pool entry: `[1.0, 2.0]`, `<sidecar>` or `<elided N x f32>`.
func constantData(_ tensor: Tensor, _ options: PrintOptions) -> String {
  if options.printsInline(count: tensor.count) {
    return "[" + (0..<tensor.count).map { elementLiteral(tensor, $0) }.joined(separator: ", ") + "]"
  }
  return options.sidecar ? "<sidecar>" : "<elided \(tensor.count) x \(tensor.element.rawValue)>"
}

/// Element `i` of `tensor` as a literal that parses back to the same bits.
func elementLiteral(_ tensor: Tensor, _ i: Int) -> String {
  tensor.bytes.withUnsafeBytes { raw in
    let o = i * tensor.element.byteSize
    switch tensor.element {
    case .f32: return formatFloat(raw.loadUnaligned(fromByteOffset: o, as: Float.self))
    case .f64: return formatDouble(raw.loadUnaligned(fromByteOffset: o, as: Double.self))
    case .f16: return formatFloat(Float(float16Bits: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
    case .bf16:
      let bits = UInt32(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)) << 16
      return formatFloat(Float(bitPattern: bits))
    case .i64: return String(raw.loadUnaligned(fromByteOffset: o, as: Int64.self))
    case .i32: return String(raw.loadUnaligned(fromByteOffset: o, as: Int32.self))
    case .i16: return String(raw.loadUnaligned(fromByteOffset: o, as: Int16.self))
    case .i8: return String(raw.loadUnaligned(fromByteOffset: o, as: Int8.self))
    case .u64: return String(raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    case .u32: return String(raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    case .u16: return String(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self))
    case .u8: return String(raw[o])
    case .bool: return raw[o] != 0 ? "true" : "false"
    }
  }
}
