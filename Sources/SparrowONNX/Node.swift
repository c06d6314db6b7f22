//===--- Node.swift - what a converter sees of one ONNX node --------------===//
//
// Inputs (optional ones absent or ""), inputs that must be known at import (Reshape's
// shape, Slice's starts ...), typed attribute reads with defaults, and `emit`, which
// appends an IR op and folds it to a constant when all its operands are known.

import SparrowIR
import SparrowInterpreter

struct ONNXNode {
  let importer: GraphImporter
  let proto: Onnx_NodeProto
  let opset: Int
  /// `model.onnx: node 'conv1' (Conv)`.
  let location: String

  var opType: String { proto.opType }
  var inputCount: Int { proto.input.count }
  var outputCount: Int { proto.output.count }

  /// Whether output `i` exists and is used (named).
  func hasOutput(_ i: Int) -> Bool { i < proto.output.count && !proto.output[i].isEmpty }

  func error(_ message: String) -> Diagnostic { Diagnostic(message, at: location) }

  // MARK: Inputs

  /// Required input `i`.
  func input(_ i: Int) throws -> ValueID {
    guard let v = optionalInput(i) else { throw error("\(opType) needs input \(i), which is missing") }
    return v
  }

  /// Optional input `i` (nil when absent or empty).
  func optionalInput(_ i: Int) -> ValueID? {
    guard i < proto.input.count, !proto.input[i].isEmpty else { return nil }
    return importer.values[proto.input[i]]
  }

  /// All non-empty inputs.
  func inputs() throws -> [ValueID] {
    try proto.input.indices.filter { !proto.input[$0].isEmpty }.map { try input($0) }
  }

  func type(_ v: ValueID) -> TensorType { importer.builder.function.type(of: v) }
  func shape(_ v: ValueID) -> [Int] { type(v).shape }

  /// The contents of `v` when known at import.
  func known(_ v: ValueID) -> Tensor? { importer.known[v] }

  /// Input `i`, which must be known at import because it becomes an attribute.
  func constantInput(_ i: Int, _ what: String) throws -> Tensor {
    let v = try input(i)
    guard let t = known(v) else {
      let sources = importer.argumentsFeeding(v)
      let hint = sources.isEmpty ? "" : " It depends on graph input\(sources.count > 1 ? "s" : "") "
        + sources.map { "'\($0)'" }.joined(separator: ", ") + "; make "
        + (sources.count > 1 ? "them constants with " : "it a constant with ")
        + sources.map { "--freeze \($0)=FILE.npy" }.joined(separator: " ")
      throw error("input \(i) ('\(proto.input[i])', the \(what)) must be known at import because it becomes an attribute.\(hint)")
    }
    return t
  }

  /// Optional input `i` that must be known at import when present.
  func optionalConstantInput(_ i: Int, _ what: String) throws -> Tensor? {
    guard optionalInput(i) != nil else { return nil }
    return try constantInput(i, what)
  }

  // MARK: Attributes

  func attribute(_ name: String) -> Onnx_AttributeProto? {
    proto.attribute.first { $0.name == name }
  }
  func has(_ name: String) -> Bool { attribute(name) != nil }

  func int(_ name: String, _ defaultValue: Int) throws -> Int {
    try optionalInt(name) ?? defaultValue
  }
  func optionalInt(_ name: String) throws -> Int? {
    guard let a = attribute(name) else { return nil }
    guard a.type == .int || (a.type == .undefined && a.hasI) else { throw badAttribute(a, "an int") }
    guard a.i <= 1 << 40 && a.i >= -(1 << 40) else { throw error("attribute '\(name)' has an out-of-range value \(a.i)") }
    return Int(clamping: a.i)
  }
  func float(_ name: String, _ defaultValue: Float) throws -> Float {
    guard let a = attribute(name) else { return defaultValue }
    if a.type == .int { return Float(a.i) }
    guard a.type == .float || (a.type == .undefined && a.hasF) else { throw badAttribute(a, "a float") }
    return a.f
  }
  func string(_ name: String, _ defaultValue: String) throws -> String {
    guard let a = attribute(name) else { return defaultValue }
    guard a.type == .string || (a.type == .undefined && a.hasS) else { throw badAttribute(a, "a string") }
    return String(decoding: a.s, as: UTF8.self)
  }
  /// A list of ints; entries beyond ±2^40 are rejected unless `allowHuge` (Slice's
  /// INT64_MAX "to the end" sentinels).
  func ints(_ name: String, allowHuge: Bool = false) throws -> [Int]? {
    guard let a = attribute(name) else { return nil }
    guard a.type == .ints || a.type == .undefined || (a.type == .int) else { throw badAttribute(a, "a list of ints") }
    let values = a.type == .int ? [a.i] : a.ints
    if !allowHuge, let bad = values.first(where: { $0 > 1 << 40 || $0 < -(1 << 40) }) {
      throw error("attribute '\(name)' has an out-of-range value \(bad)")
    }
    return values.map { Int(clamping: $0) }
  }
  func floats(_ name: String) throws -> [Float]? {
    guard let a = attribute(name) else { return nil }
    guard a.type == .floats || a.type == .undefined else { throw badAttribute(a, "a list of floats") }
    return a.floats
  }
  func strings(_ name: String) throws -> [String]? {
    guard let a = attribute(name) else { return nil }
    guard a.type == .strings || a.type == .undefined else { throw badAttribute(a, "a list of strings") }
    return a.strings.map { String(decoding: $0, as: UTF8.self) }
  }
  func tensor(_ name: String) throws -> Tensor? {
    guard let a = attribute(name) else { return nil }
    guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw badAttribute(a, "a tensor") }
    do {
      return try makeTensor(a.t, root: importer.root, what: "attribute '\(name)'")
    } catch let d as Diagnostic {
      throw error(d.message)
    }
  }

  private func badAttribute(_ a: Onnx_AttributeProto, _ want: String) -> Diagnostic {
    error("attribute '\(a.name)' must be \(want), got \(a.type)")
  }

  /// Normalizes a possibly negative axis for `rank`.
  func axis(_ a: Int, rank: Int, _ what: String = "axis") throws -> Int {
    let r = a < 0 ? a + rank : a
    guard r >= 0 && r < max(rank, 1) else { throw error("\(what) \(a) is out of range for rank \(rank)") }
    return r
  }

  func axes(_ list: [Int], rank: Int) throws -> [Int] {
    let out = try list.map { try axis($0, rank: rank, "axes entry") }
    guard Set(out).count == out.count else { throw error("repeated axis in \(list)") }
    return out
  }

  // MARK: Emitting IR

  /// Appends an op (folded to constants when every operand is known and small enough).
  @discardableResult
  func emit(_ kind: OpKind, _ operands: [ValueID], _ attributes: [String: AttributeValue] = [:],
            results: Int? = nil) throws -> [ValueID] {
    let base = proto.output.first.flatMap { $0.isEmpty ? nil : $0 } ?? opType.lowercased()
    let outs = try importer.builder.add(kind, operands, attributes, names: [base + "_t"],
                                        resultCount: results, location: location)
    importer.fold(opIndex: importer.builder.function.ops.count - 1)
    return outs
  }

  func emit1(_ kind: OpKind, _ operands: [ValueID], _ attributes: [String: AttributeValue] = [:]) throws -> ValueID {
    try emit(kind, operands, attributes, results: 1)[0]
  }

  /// A new constant.
  func constant(_ t: Tensor, _ suffix: String = "const") -> ValueID {
    let base = proto.output.first.flatMap { $0.isEmpty ? nil : $0 } ?? opType.lowercased()
    let v = importer.builder.constant(t, name: base + "_" + suffix)
    importer.known[v] = t
    return v
  }

  /// `reshape` unless the shape already matches.
  func reshape(_ v: ValueID, _ shape: [Int]) throws -> ValueID {
    if self.shape(v) == shape { return v }
    return try emit1(.reshape, [v], ["shape": .ints(shape)])
  }
}

extension GraphImporter {
  /// Names of the function arguments `v` is computed from.
  func argumentsFeeding(_ v: ValueID) -> [String] {
    let f = builder.function
    let defining = f.definingOps()
    var seen: Set<ValueID> = [v], stack = [v], found: [String] = []
    while let x = stack.popLast() {
      if f.arguments.contains(x) { found.append(f.name(of: x)); continue }
      guard let i = defining[x] else { continue }
      for o in f.ops[i].operands where seen.insert(o).inserted { stack.append(o) }
    }
    return found.sorted()
  }

  /// Replaces op `index` by constants when all its operands are known, its results are
  /// within the fold limit and the interpreter evaluates it.
  func fold(opIndex index: Int) {
    let f = builder.function
    let op = f.ops[index]
    // Dequantized weights stay ops: fold-qdq reads their integers, scales and zero points
    // (constant-fold evaluates the rest).
    guard op.kind != .constant && op.kind != .dequantize_linear else { return }
    let inputs = op.operands.compactMap { known[$0] }
    guard inputs.count == op.operands.count else { return }
    let size = op.results.reduce(0) { $0 + f.type(of: $1).count }
    guard size <= options.foldLimit else { return }
    guard let results = try? Interpreter.evaluate(op, inputs, in: f, constants: builder.module.constants) else { return }
    builder.function.ops.remove(at: index)
    for (v, t) in zip(op.results, results) {
      let pool = builder.module.constants.add(t, name: f.name(of: v))
      builder.function.ops.append(Operation(.constant, operands: [], results: [v],
                                            attributes: Attributes(.constant, ["name": .string(pool)])))
      known[v] = t
    }
  }
}
