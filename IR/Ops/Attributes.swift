//===--- Attributes.swift - typed op attributes ------------------------===//
//
// Text form: `{axis = 1, perm = [0, 2, 1], mode = "nearest", alpha = 0.2, to = i64}`.

public enum AttributeKind: String, Sendable {
  case int, float, string, bool, ints, floats, strings, type
  /// Typed decisions, written as quoted strings (lists of them) in the text format.
  case convAlgorithm, convLayout, epilogue
}

public enum AttributeValue: Hashable, Sendable {
  case int(Int)
  case float(Float)
  case string(String)
  case bool(Bool)
  case ints([Int])
  case floats([Float])
  case strings([String])
  case type(ElementType)
  case convAlgorithm(ConvAlgorithm)
  case convLayout(ConvLayout)
  case epilogue([EpilogueStep])

  public var kind: AttributeKind {
    switch self {
    case .int: return .int
    case .float: return .float
    case .string: return .string
    case .bool: return .bool
    case .ints: return .ints
    case .floats: return .floats
    case .strings: return .strings
    case .type: return .type
    case .convAlgorithm: return .convAlgorithm
    case .convLayout: return .convLayout
    case .epilogue: return .epilogue
    }
  }

  /// The plain form the text format writes for a typed decision (a quoted case name, a
  /// list of step texts); other values as they are.
  public var spelled: AttributeValue {
    switch self {
    case let .convAlgorithm(v): return .string(v.rawValue)
    case let .convLayout(v): return .string(v.rawValue)
    case let .epilogue(v): return .strings(v.map(\.description))
    default: return self
    }
  }

  /// Why a written value is not a typed decision of `kind` (an unknown case name, a bad
  /// epilogue step), or nil when the kinds differ in the plain sense.
  public func decisionError(for kind: AttributeKind) -> String? {
    switch (self, kind) {
    case let (.string(v), .convAlgorithm):
      return "unknown conv algorithm \"\(v)\" (\(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))"
    case let (.string(v), .convLayout):
      return "unknown conv layout \"\(v)\" (\(ConvLayout.allCases.map(\.rawValue).joined(separator: ", ")))"
    case let (.strings(v), .epilogue):
      do { _ = try v.map(EpilogueStep.init(parsing:)) } catch let d as Diagnostic { return d.message } catch {}
      return nil
    default:
      return nil
    }
  }

  /// Converts to `kind` where that loses nothing a user would notice (int literal for a
  /// float attribute, empty list for any list kind); nil when the kinds do not fit.
  public func coerced(to kind: AttributeKind) -> AttributeValue? {
    if self.kind == kind { return self }
    switch (self, kind) {
    case let (.int(v), .float): return .float(Float(v))
    case let (.int(v), .bool) where v == 0 || v == 1: return .bool(v == 1)
    case let (.ints(v), .floats): return .floats(v.map(Float.init))
    case (.ints([]), .strings): return .strings([])
    case let (.string(v), .convAlgorithm): return ConvAlgorithm(rawValue: v).map(AttributeValue.convAlgorithm)
    case let (.string(v), .convLayout): return ConvLayout(rawValue: v).map(AttributeValue.convLayout)
    case (.ints([]), .epilogue): return .epilogue([])
    case let (.strings(v), .epilogue): return (try? v.map(EpilogueStep.init(parsing:))).map(AttributeValue.epilogue)
    default: return nil
    }
  }
}

public struct AttributeSpec: Sendable {
  public let name: String
  public let kind: AttributeKind
  /// nil: required unless `optional`.
  public let defaultValue: AttributeValue?
  /// May be absent with no default (the op's rule says what absence means).
  public let optional: Bool

  public init(_ name: String, _ kind: AttributeKind, _ defaultValue: AttributeValue? = nil,
              optional: Bool = false) {
    self.name = name
    self.kind = kind
    self.defaultValue = defaultValue
    self.optional = optional
  }
}

/// The attributes stored on one op. Only what was set is stored (so text round-trips
/// exactly); reads fall back to the spec's defaults.
public struct Attributes: Hashable, Sendable {
  public var values: [String: AttributeValue]
  public let kind: OpKind

  public init(_ kind: OpKind, _ values: [String: AttributeValue] = [:]) {
    self.kind = kind
    self.values = values
  }

  public subscript(name: String) -> AttributeValue? {
    get { values[name] ?? kind.spec.attribute(name)?.defaultValue }
    set { values[name] = newValue }
  }

  public func has(_ name: String) -> Bool { self[name] != nil }

  public func int(_ name: String) -> Int {
    guard case let .int(v)? = self[name] else { preconditionFailure("\(kind): no int \(name)") }
    return v
  }
  public func float(_ name: String) -> Float {
    switch self[name] {
    case let .float(v)?: return v
    case let .int(v)?: return Float(v)
    default: preconditionFailure("\(kind): no float \(name)")
    }
  }
  public func bool(_ name: String) -> Bool {
    switch self[name] {
    case let .bool(v)?: return v
    case let .int(v)?: return v != 0
    default: preconditionFailure("\(kind): no bool \(name)")
    }
  }
  public func string(_ name: String) -> String {
    guard case let .string(v)? = self[name] else { preconditionFailure("\(kind): no string \(name)") }
    return v
  }
  public func ints(_ name: String) -> [Int] {
    guard case let .ints(v)? = self[name] else { preconditionFailure("\(kind): no ints \(name)") }
    return v
  }
  /// Present ints, or nil when the optional attribute is absent.
  public func optionalInts(_ name: String) -> [Int]? {
    guard case let .ints(v)? = self[name] else { return nil }
    return v
  }
  public func floats(_ name: String) -> [Float] {
    switch self[name] {
    case let .floats(v)?: return v
    case let .ints(v)?: return v.map(Float.init)
    default: preconditionFailure("\(kind): no floats \(name)")
    }
  }
  public func strings(_ name: String) -> [String] {
    guard case let .strings(v)? = self[name] else { preconditionFailure("\(kind): no strings \(name)") }
    return v
  }
  public func type(_ name: String) -> ElementType {
    guard case let .type(v)? = self[name] else { preconditionFailure("\(kind): no type \(name)") }
    return v
  }
}
