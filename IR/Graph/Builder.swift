//===--- Builder.swift - appends ops to a function, inferring types -----===//

public struct Builder {
  public var module: Module
  public var function: Function
  /// The origin given to every op appended (the importer sets it per node and initializer).
  public var origin = Origin()

  public init(module: Module, function: Function) {
    self.module = module
    self.function = function
  }

  /// Adds a function argument.
  public mutating func addArgument(name: String, type: TensorType) -> ValueID {
    let v = function.addValue(name: name, type: type)
    function.arguments.append(v)
    return v
  }

  /// Appends an op; result types come from the op's shape rule. Throws a Diagnostic
  /// (at `location`) when operands, attributes or shapes are invalid.
  @discardableResult
  public mutating func add(_ kind: OpKind, _ operands: [ValueID],
                           _ attributes: [String: AttributeValue] = [:],
                           names: [String] = [], resultCount: Int? = nil,
                           location: String? = nil) throws -> [ValueID] {
    let attrs = Attributes(kind, attributes)
    let operandTypes = operands.map { function.type(of: $0) }
    var types: [TensorType]
    do {
      try checkSignature(kind, operandCount: operands.count, attributes: attrs)
      types = try inferResultTypes(kind, operandTypes, attrs, constants: module.constants)
    } catch let d as Diagnostic {
      throw Diagnostic(d.message, at: location ?? d.location)
    }
    if let n = resultCount {
      precondition(n <= types.count, "\(kind) has only \(types.count) results")
      types = Array(types.prefix(n))
    }
    let results = types.enumerated().map { i, t in
      function.addValue(name: i < names.count ? names[i] : "t\(function.values.count)", type: t)
    }
    function.ops.append(Operation(kind, operands: operands, results: results,
                                  attributes: attrs, location: location, origin: origin))
    return results
  }

  /// Appends an op with one result.
  public mutating func add1(_ kind: OpKind, _ operands: [ValueID],
                            _ attributes: [String: AttributeValue] = [:],
                            name: String? = nil, location: String? = nil) throws -> ValueID {
    try add(kind, operands, attributes, names: name.map { [$0] } ?? [], resultCount: 1,
            location: location)[0]
  }

  /// Adds `tensor` to the pool and a `constant` op referring to it.
  public mutating func constant(_ tensor: Tensor, name: String,
                                layout: SparseLayout? = nil) -> ValueID {
    let poolName = module.constants.add(tensor, name: name)
    var type = tensor.type
    type.layout = layout
    let v = function.addValue(name: name, type: type)
    function.ops.append(Operation(.constant, operands: [], results: [v],
                                  attributes: Attributes(.constant, ["name": .string(poolName)]),
                                  origin: origin))
    return v
  }

  /// Finishes: sets the results and stores the function in the module.
  public mutating func finish(results: [ValueID]) -> Module {
    function.results = results
    if let i = module.functions.firstIndex(where: { $0.name == function.name }) {
      module.functions[i] = function
    } else {
      module.functions.append(function)
    }
    return module
  }
}

/// Checks operand count and attribute names/kinds/required-ness against the op's spec.
public func checkSignature(_ kind: OpKind, operandCount: Int, attributes: Attributes) throws {
  let spec = kind.spec
  guard spec.operands.contains(operandCount) else {
    let want = spec.operands.upperBound == manyOperands
      ? "at least \(spec.operands.lowerBound)"
      : spec.operands.count == 1 ? "\(spec.operands.lowerBound)"
      : "\(spec.operands.lowerBound) to \(spec.operands.upperBound)"
    throw Diagnostic("'\(kind.rawValue)' takes \(want) operands, got \(operandCount)")
  }
  for (name, value) in attributes.values.sorted(by: { $0.key < $1.key }) {
    guard let a = spec.attribute(name) else {
      throw Diagnostic("'\(kind.rawValue)' has no attribute '\(name)'")
    }
    guard value.kind == a.kind else {
      throw Diagnostic("attribute '\(name)' of '\(kind.rawValue)' must be \(a.kind.rawValue), got \(value.kind.rawValue)")
    }
  }
  for a in spec.attributes where a.defaultValue == nil && !a.optional {
    guard attributes.values[a.name] != nil else {
      throw Diagnostic("'\(kind.rawValue)' requires attribute '\(a.name)'")
    }
  }
}
