//===--- IRFormats.swift - `dump-ir --format dot|json` ----------------------===//
//
// Graphviz: arguments and outputs as ellipses, one box per op labelled with its result
// name, mnemonic, result types and fused epilogue; weights as small grey notes. JSON: the
// module's functions with every op's operands, results, types and attributes.

import SparrowIO
import SparrowIR

/// The entry function as a Graphviz digraph.
func dotGraph(_ module: Module) -> String {
  let f = module.main
  var lines = ["digraph \"\(dotEscaped(module.name))\" {",
               "  rankdir=TB;",
               "  node [fontname=\"Helvetica\", fontsize=10];"]
  var producer: [ValueID: String] = [:]
  for (i, a) in f.arguments.enumerated() {
    let id = "arg\(i)"
    producer[a] = id
    lines.append("  \(id) [shape=ellipse, label=\"\(dotEscaped("\(f.name(of: a))\n\(f.type(of: a))"))\"];")
  }
  for (i, op) in f.ops.enumerated() {
    let id = "op\(i)"
    for r in op.results { producer[r] = id }
    let types = op.results.map { f.type(of: $0).description }.joined(separator: "\n")
    if let name = op.constantName {
      lines.append("  \(id) [shape=note, style=filled, fillcolor=\"#eeeeee\", fontsize=8, label=\"\(dotEscaped("@\(name)\n\(types)"))\"];")
      continue
    }
    var label = "\(f.name(of: op.results[0]))\n\(op.kind.rawValue)\n\(types)"
    if let epilogue = op.attributes.values["epilogue"] {
      label += "\n+ \(attributeText(epilogue))"
    }
    lines.append("  \(id) [shape=box, style=rounded, label=\"\(dotEscaped(label))\"];")
  }
  for (i, op) in f.ops.enumerated() {
    for v in op.operands {
      guard let from = producer[v] else { continue }
      lines.append("  \(from) -> op\(i);")
    }
  }
  for (i, r) in f.results.enumerated() {
    let id = "out\(i)"
    lines.append("  \(id) [shape=ellipse, style=bold, label=\"\(dotEscaped(f.name(of: r)))\"];")
    if let from = producer[r] { lines.append("  \(from) -> \(id);") }
  }
  lines.append("}")
  return lines.joined(separator: "\n") + "\n"
}

/// The module as JSON: name, constants (name and type), functions with their ops.
func jsonIR(_ module: Module) -> String {
  func type(_ t: TensorType) -> String {
    var fields = ["\"type\": \(jsonString(t.description))", "\"dtype\": \(jsonString(t.element.rawValue))",
                  "\"shape\": [\(t.shape.map(String.init).joined(separator: ", "))]"]
    if let l = t.layout { fields.append("\"layout\": \(jsonString(l.description))") }
    return "{" + fields.joined(separator: ", ") + "}"
  }
  func value(_ f: Function, _ v: ValueID) -> String {
    "{\"name\": \(jsonString(f.name(of: v))), " + type(f.type(of: v)).dropFirst()
  }
  var functions: [String] = []
  for f in module.functions {
    let ops = f.ops.map { op -> String in
      let attributes = op.attributes.values.keys.sorted().map {
        "\(jsonString($0)): \(attributeJSON(op.attributes.values[$0]!))"
      }
      var fields = ["\"op\": \(jsonString(op.kind.rawValue))",
                    "\"operands\": [\(op.operands.map { jsonString(f.name(of: $0)) }.joined(separator: ", "))]",
                    "\"results\": [\(op.results.map { value(f, $0) }.joined(separator: ", "))]",
                    "\"attributes\": {\(attributes.joined(separator: ", "))}"]
      if let l = op.location { fields.append("\"location\": \(jsonString(l))") }
      if !op.origin.nodes.isEmpty { fields.append("\"nodes\": [\(op.origin.nodes.map(jsonString).joined(separator: ", "))]") }
      if !op.origin.weights.isEmpty { fields.append("\"weights\": [\(op.origin.weights.map(jsonString).joined(separator: ", "))]") }
      return "        {" + fields.joined(separator: ", ") + "}"
    }
    functions.append("""
        {
          "name": \(jsonString(f.name)),
          "arguments": [\(f.arguments.map { value(f, $0) }.joined(separator: ", "))],
          "results": [\(f.results.map { jsonString(f.name(of: $0)) }.joined(separator: ", "))],
          "ops": [
      \(ops.joined(separator: ",\n"))
          ]
        }
      """)
  }
  let constants = module.constants.names.map { name -> String in
    "    {\"name\": \(jsonString(name)), " + type(module.constants[name]!.type).dropFirst()
  }
  return """
    {
      "module": \(jsonString(module.name)),
      "constants": [
    \(constants.joined(separator: ",\n"))
      ],
      "functions": [
    \(functions.joined(separator: ",\n"))
      ]
    }

    """
}

private func jsonString(_ s: String) -> String { jsonQuoted(s) }

private func jsonNumber(_ v: Float) -> String {
  v.isFinite ? "\(v)" : jsonString("\(v)")  // JSON has no inf/nan
}

private func attributeJSON(_ a: AttributeValue) -> String {
  switch a {
  case let .int(v): return "\(v)"
  case let .float(v): return jsonNumber(v)
  case let .string(v): return jsonString(v)
  case let .bool(v): return "\(v)"
  case let .ints(v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
  case let .floats(v): return "[" + v.map(jsonNumber).joined(separator: ", ") + "]"
  case let .strings(v): return "[" + v.map(jsonString).joined(separator: ", ") + "]"
  case let .type(v): return jsonString(v.rawValue)
  case .convAlgorithm, .convLayout, .epilogue: return attributeJSON(a.spelled)
  }
}

/// An attribute as the text IR writes it, for labels.
private func attributeText(_ a: AttributeValue) -> String {
  switch a {
  case let .int(v): return "\(v)"
  case let .float(v): return "\(v)"
  case let .string(v): return v
  case let .bool(v): return "\(v)"
  case let .ints(v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
  case let .floats(v): return "[" + v.map { "\($0)" }.joined(separator: ", ") + "]"
  case let .strings(v): return "[" + v.joined(separator: ", ") + "]"
  case let .type(v): return v.rawValue
  case .convAlgorithm, .convLayout, .epilogue: return attributeText(a.spelled)
  }
}

private func dotEscaped(_ s: String) -> String {
  s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    .replacingOccurrences(of: "\n", with: "\\n")
}
