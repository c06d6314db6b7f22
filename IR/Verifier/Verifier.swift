//===--- Verifier.swift - checks a module's invariants -------------------===//
//
// Per function: every operand is defined before use (SSA in topological order), each
// value is defined once, value names are unique, the results are defined; per op: the
// operand count and attributes fit the op's spec, the result types are what the shape
// rule infers, and a `constant` names an existing pool entry of the same dense type whose
// data conforms to the op's sparse layout; quantized types follow QuantizationRules.swift.
// All problems are reported together.

/// Throws a DiagnosticList naming each op and problem.
public func verify(_ module: Module) throws {
  var problems: [Diagnostic] = []
  var functionNames: Set<String> = []
  for function in module.functions {
    if !functionNames.insert(function.name).inserted {
      problems.append(Diagnostic("function @\(spellName(function.name)) is defined twice"))
    }
    problems += verify(function, in: module)
  }
  if !problems.isEmpty { throw DiagnosticList(problems) }
}

/// The problems of one function (empty when it is valid).
public func verify(_ function: Function, in module: Module) -> [Diagnostic] {
  var checker = FunctionVerifier(function: function, module: module)
  checker.run()
  return checker.problems
}

private struct FunctionVerifier {
  let function: Function
  let module: Module
  var problems: [Diagnostic] = []
  var defined: Set<ValueID> = []
  /// The op index of each `constant` op's result.
  let constantOps: [ValueID: Int]

  init(function: Function, module: Module) {
    self.function = function
    self.module = module
    var constants: [ValueID: Int] = [:]
    for (i, op) in function.ops.enumerated() where op.kind == .constant && op.results.count == 1 {
      constants[op.results[0]] = i
    }
    self.constantOps = constants
  }

  var where_: String { "in @\(spellName(function.name))" }

  func isValid(_ v: ValueID) -> Bool { v.index >= 0 && v.index < function.values.count }

  func name(_ v: ValueID) -> String {
    isValid(v) ? "%\(spellName(function.name(of: v)))" : "<invalid value #\(v.index)>"
  }

  /// `%y = gemm` (or `gemm` for an op without results).
  func describe(_ op: Operation) -> String {
    op.results.isEmpty ? op.kind.rawValue
      : "\(op.results.map(name).joined(separator: ", ")) = \(op.kind.rawValue)"
  }

  mutating func report(_ op: Operation, _ message: String) {
    problems.append(Diagnostic("\(describe(op)): \(message)", at: op.diagnosticLocation))
  }

  mutating func run() {
    var names: [String: ValueID] = [:]
    for (i, info) in function.values.enumerated() {
      if let other = names[info.name] {
        problems.append(Diagnostic("\(where_): values #\(other.index) and #\(i) are both named %\(spellName(info.name))"))
      }
      names[info.name] = ValueID(i)
    }
    for a in function.arguments {
      guard isValid(a) else {
        problems.append(Diagnostic("\(where_): argument \(name(a)) is not in the value table"))
        continue
      }
      if !defined.insert(a).inserted {
        problems.append(Diagnostic("\(where_): argument \(name(a)) is listed twice"))
      }
    }
    for (i, info) in function.values.enumerated() {
      if let problem = quantizationProblem(of: info.type) {
        problems.append(Diagnostic("\(where_): value %\(spellName(info.name)) (#\(i)): \(problem)"))
      }
    }
    for op in function.ops { check(op) }
    for r in function.results where !defined.contains(r) {
      problems.append(Diagnostic("\(where_): result \(name(r)) is never defined"))
    }
  }

  mutating func check(_ op: Operation) {
    var operandsReady = true
    for (i, v) in op.operands.enumerated() where !defined.contains(v) {
      report(op, isValid(v) ? "operand \(i) (\(name(v))) is used before it is defined"
                            : "operand \(i) is not in the value table")
      operandsReady = false
    }
    var resultsValid = true
    for r in op.results {
      if !isValid(r) {
        report(op, "result \(name(r)) is not in the value table")
        resultsValid = false
      } else if !defined.insert(r).inserted {
        report(op, "\(name(r)) is defined more than once")
      }
    }
    guard resultsValid else { return }
    do {
      try checkSignature(op.kind, operandCount: op.operands.count, attributes: op.attributes)
    } catch let d as Diagnostic {
      report(op, d.message)
      return
    } catch {
      report(op, "\(error)")
      return
    }
    let spec = op.kind.spec
    guard spec.results.contains(op.results.count) else {
      report(op, "'\(op.kind.rawValue)' has \(describeCount(spec.results)) results, got \(op.results.count)")
      return
    }
    if op.kind == .constant {
      checkConstant(op)
      return
    }
    guard operandsReady else { return }
    let inferred: [TensorType]
    do {
      inferred = try inferResultTypes(op.kind, op.operands.map(function.type(of:)), op.attributes,
                                      constants: module.constants)
    } catch let d as Diagnostic {
      report(op, d.message)
      return
    } catch {
      report(op, "\(error)")
      return
    }
    guard op.results.count <= inferred.count else {
      report(op, "produces \(inferred.count) results here, got \(op.results.count)")
      return
    }
    for (r, expected) in zip(op.results, inferred) {
      if let problem = resultTypeProblem(op.kind, written: function.type(of: r), inferred: expected) {
        report(op, "result \(name(r)): \(problem)")
      }
    }
    for problem in quantizationProblems(op, in: function, constant: constantTensor) { report(op, problem) }
  }

  /// The pool tensor behind `v` when a `constant` op defines it.
  func constantTensor(_ v: ValueID) -> Tensor? {
    guard let i = constantOps[v] else { return nil }
    return module.constants[function.ops[i].attributes.string("name")]
  }

  mutating func checkConstant(_ op: Operation) {
    let poolName = op.attributes.string("name")
    guard let tensor = module.constants[poolName] else {
      report(op, "no constant @\(spellName(poolName)) in the pool")
      return
    }
    let type = function.type(of: op.results[0])
    if let problem = resultTypeProblem(.constant, written: type, inferred: tensor.type) {
      report(op, problem)
      return
    }
    if let layout = type.layout, let violation = layoutViolation(of: tensor, layout: layout) {
      report(op, "data of @\(spellName(poolName)) does not conform to its layout: \(violation)")
    }
  }
}
