//===--- Pass.swift - the Pass protocol, typed options, the pass context ---===//
//
// A pass names itself, declares its options (parsed from `name{opt=v}` in a pipeline
// string), and transforms one function at a time. Passes that need the whole module (DCE
// drops unused pool entries) override `run(on module:context:)`.

import SparrowIR
import SparrowTargetSupport

/// An IR transformation.
public protocol Pass: Sendable {
  /// The name used in `--passes=` and `--print-ir-after=`.
  static var name: String { get }
  /// One line for `sparrowc passes` and `--help`.
  static var summary: String { get }
  /// The options the pass accepts in `name{opt=v}`.
  static var options: [PassOptionSpec] { get }

  /// Creates the pass from validated options (every declared option has a value).
  init(options: PassOptions) throws

  /// Transforms `function`; returns whether anything changed.
  func run(on function: inout Function, context: PassContext) throws -> Bool

  /// Transforms every function of `module`. The default runs `run(on:context:)` on each.
  func run(on module: inout Module, context: PassContext) throws -> Bool
}

extension Pass {
  public static var options: [PassOptionSpec] { [] }

  public var name: String { Self.name }

  public func run(on module: inout Module, context: PassContext) throws -> Bool {
    var changed = false
    for i in module.functions.indices {
      changed = try run(on: &module.functions[i], context: context) || changed
    }
    return changed
  }
}

/// What a pass sees besides the function: the module's constant pool (read and extend it
/// through the context), the CPU the code is for (cost models read its rates) and the
/// change counters `--stats` prints.
public final class PassContext {
  public var constants: ConstantPool
  public let target: TargetDescription
  public var changes = ChangeCounts()
  /// Lines an analysis reports under `--stats` (e.g. plan-memory's arena size).
  public var notes: [String] = []

  public init(constants: ConstantPool, target: TargetDescription = .reference) {
    self.constants = constants
    self.target = target
  }

  /// The tensor behind a `constant` op, if `op` is one.
  public func tensor(of op: Operation) -> Tensor? {
    op.constantName.flatMap { constants[$0] }
  }
}

/// Ops removed, added and rewritten in place by a pass.
public struct ChangeCounts: Equatable, Sendable {
  public var removed = 0
  public var added = 0
  public var rewritten = 0

  public init(removed: Int = 0, added: Int = 0, rewritten: Int = 0) {
    self.removed = removed
    self.added = added
    self.rewritten = rewritten
  }

  public var isEmpty: Bool { removed == 0 && added == 0 && rewritten == 0 }

  public static func += (a: inout ChangeCounts, b: ChangeCounts) {
    a.removed += b.removed
    a.added += b.added
    a.rewritten += b.rewritten
  }
}

// MARK: - Options

/// The type of a pass option's value.
public enum PassOptionKind: String, Sendable {
  case int, float, bool, string
}

/// A pass option's value.
public enum PassOptionValue: Hashable, Sendable, CustomStringConvertible {
  case int(Int)
  case float(Double)
  case bool(Bool)
  case string(String)

  public var description: String {
    switch self {
    case let .int(v): return "\(v)"
    case let .float(v): return "\(v)"
    case let .bool(v): return "\(v)"
    case let .string(v): return v
    }
  }

  /// Parses `text` as a value of `kind`; nil when it does not fit.
  public init?(parsing text: String, as kind: PassOptionKind) {
    switch kind {
    case .int: guard let v = Int(text) else { return nil }; self = .int(v)
    case .float: guard let v = Double(text) else { return nil }; self = .float(v)
    case .bool:
      switch text {
      case "true", "1": self = .bool(true)
      case "false", "0": self = .bool(false)
      default: return nil
      }
    case .string: self = .string(text)
    }
  }
}

/// A declared option: name, type, default and help.
public struct PassOptionSpec: Sendable {
  public let name: String
  public let kind: PassOptionKind
  public let defaultValue: PassOptionValue
  public let help: String

  public init(_ name: String, _ defaultValue: PassOptionValue, help: String) {
    self.name = name
    self.defaultValue = defaultValue
    self.help = help
    switch defaultValue {
    case .int: kind = .int
    case .float: kind = .float
    case .bool: kind = .bool
    case .string: kind = .string
    }
  }
}

/// The option values a pass is created with: defaults overridden by the pipeline string.
public struct PassOptions: Sendable {
  public private(set) var values: [String: PassOptionValue]

  public init(_ values: [String: PassOptionValue] = [:]) { self.values = values }

  /// Defaults of `specs` overridden by `given`.
  public init(specs: [PassOptionSpec], given: [String: PassOptionValue]) {
    var v = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.defaultValue) })
    v.merge(given) { $1 }
    values = v
  }

  public func int(_ name: String) -> Int {
    guard case let .int(v)? = values[name] else { preconditionFailure("no int option \(name)") }
    return v
  }
  public func float(_ name: String) -> Double {
    switch values[name] {
    case let .float(v)?: return v
    case let .int(v)?: return Double(v)
    default: preconditionFailure("no float option \(name)")
    }
  }
  public func bool(_ name: String) -> Bool {
    guard case let .bool(v)? = values[name] else { preconditionFailure("no bool option \(name)") }
    return v
  }
  public func string(_ name: String) -> String {
    guard case let .string(v)? = values[name] else { preconditionFailure("no string option \(name)") }
    return v
  }
}
