//===--- Diagnostic.swift - user-facing errors with a location ----------===//
//
// User mistakes and bad files throw a Diagnostic; internal invariants use precondition.
// The location names a file and, where there is one, a node (`model.onnx: node 'conv1'
// (Conv)`) or a text position (`net.sir:12:5`).

public struct Diagnostic: Error, CustomStringConvertible, Sendable {
  public var location: String?
  public var message: String

  public init(_ message: String, at location: String? = nil) {
    self.message = message
    self.location = location
  }

  /// The same diagnostic with an outer location prefixed (`file: inner`).
  public func located(_ outer: String) -> Diagnostic {
    Diagnostic(message, at: location.map { "\(outer): \($0)" } ?? outer)
  }

  public var description: String {
    if let location { return "\(location): error: \(message)" }
    return "error: \(message)"
  }
}

/// Several diagnostics reported at once (e.g. every unsupported op of a model).
public struct DiagnosticList: Error, CustomStringConvertible, Sendable {
  public var diagnostics: [Diagnostic]
  public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
