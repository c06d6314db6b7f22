//===--- Module.swift - modules, functions, ops and SSA values ----------===//
//
// A module holds a constant pool and functions; a function is a list of ops in
// topological order over SSA values. Values are indices into the function's value table
// (name + type); names come from the model (ONNX value names) and are unique per function.

public struct ValueID: Hashable, Comparable, Sendable {
  public let index: Int
  public init(_ index: Int) { self.index = index }
  public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
}

public struct ValueInfo: Hashable, Sendable {
  public var name: String
  public var type: TensorType
  public init(name: String, type: TensorType) {
    self.name = name
    self.type = type
  }
}

public struct Operation: Hashable, Sendable {
  public var kind: OpKind
  public var operands: [ValueID]
  public var results: [ValueID]
  public var attributes: Attributes
  /// Where the op's text came from (`model.onnx: node 'conv1' (Conv)` or `net.sir:12:5`),
  /// for diagnostics.
  public var location: String?
  /// The model's nodes and weights the op computes (Origin.swift); kept by every pass.
  public var origin: Origin

  public init(_ kind: OpKind, operands: [ValueID], results: [ValueID],
              attributes: Attributes? = nil, location: String? = nil, origin: Origin = Origin()) {
    self.kind = kind
    self.operands = operands
    self.results = results
    self.attributes = attributes ?? Attributes(kind)
    self.location = location
    self.origin = origin
  }

  /// The diagnostic location: the source position and the model names.
  public var diagnosticLocation: String? {
    guard !origin.isEmpty else { return location }
    guard let location else { return origin.summary }
    return location.contains(origin.summary) ? location : "\(location) [\(origin.summary)]"
  }

  public var result: ValueID {
    precondition(results.count == 1, "\(kind) has \(results.count) results")
    return results[0]
  }

  /// The pool name of a `constant` op.
  public var constantName: String? { kind == .constant ? attributes.string("name") : nil }
}

public struct Function: Sendable {
  public var name: String
  public var values: [ValueInfo] = []
  public var arguments: [ValueID] = []
  public var results: [ValueID] = []
  public var ops: [Operation] = []

  public init(name: String) { self.name = name }

  public func type(of v: ValueID) -> TensorType { values[v.index].type }
  public func name(of v: ValueID) -> String { values[v.index].name }

  /// Adds a value; `name` is made unique by a numeric suffix if taken.
  public mutating func addValue(name: String, type: TensorType) -> ValueID {
    let id = ValueID(values.count)
    values.append(ValueInfo(name: uniqueName(name), type: type))
    usedNames.insert(values[id.index].name)
    return id
  }

  private var usedNames: Set<String> = []
  public func isNameTaken(_ name: String) -> Bool { usedNames.contains(name) }

  /// Renames a value; `name` is made unique by a numeric suffix if taken. Returns the name used.
  @discardableResult
  public mutating func rename(_ v: ValueID, to name: String) -> String {
    if values[v.index].name == name { return name }
    usedNames.remove(values[v.index].name)
    let unique = uniqueName(name)
    values[v.index].name = unique
    usedNames.insert(unique)
    return unique
  }

  private func uniqueName(_ base: String) -> String {
    if !usedNames.contains(base) { return base }
    var i = 1
    while usedNames.contains("\(base)_\(i)") { i += 1 }
    return "\(base)_\(i)"
  }

  /// Ops that use each value, by op index.
  public func users() -> [ValueID: [Int]] {
    var map: [ValueID: [Int]] = [:]
    for (i, op) in ops.enumerated() { for v in op.operands { map[v, default: []].append(i) } }
    return map
  }

  /// The op index defining each value (arguments have none).
  public func definingOps() -> [ValueID: Int] {
    var map: [ValueID: Int] = [:]
    for (i, op) in ops.enumerated() { for r in op.results { map[r] = i } }
    return map
  }
}

/// Named weights, in insertion order (so printing and sidecars are deterministic).
public struct ConstantPool: Sendable {
  public private(set) var names: [String] = []
  private var tensors: [String: Tensor] = [:]

  public init() {}

  public subscript(name: String) -> Tensor? { tensors[name] }
  public var count: Int { names.count }

  /// Stores a tensor; a new name gets a numeric suffix if taken. Returns the name used.
  @discardableResult
  public mutating func add(_ tensor: Tensor, name: String) -> String {
    var unique = name
    var i = 1
    while tensors[unique] != nil { unique = "\(name)_\(i)"; i += 1 }
    names.append(unique)
    tensors[unique] = tensor
    return unique
  }

  /// Replaces the data of an existing entry.
  public mutating func replace(_ name: String, with tensor: Tensor) {
    precondition(tensors[name] != nil, "no constant @\(name)")
    tensors[name] = tensor
  }

  /// Drops entries no longer referenced.
  public mutating func retain(only used: Set<String>) {
    names.removeAll { !used.contains($0) }
    tensors = tensors.filter { used.contains($0.key) }
  }
}

public struct Module: Sendable {
  public var name: String
  /// Sidecar safetensors file holding the weights too large to print inline.
  public var weightsFile: String?
  public var constants = ConstantPool()
  public var functions: [Function] = []

  public init(name: String) { self.name = name }

  /// The entry function (`@main`, else the first).
  public var main: Function {
    get { functions.first { $0.name == "main" } ?? functions[0] }
    set {
      let i = functions.firstIndex { $0.name == "main" } ?? 0
      functions[i] = newValue
    }
  }

  /// Drops pool entries no function references.
  public mutating func removeUnusedConstants() {
    var used: Set<String> = []
    for f in functions { for op in f.ops { if let n = op.constantName { used.insert(n) } } }
    constants.retain(only: used)
  }
}
