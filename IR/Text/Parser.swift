//===--- Parser.swift - reads the .sir text form ------------------------===//
// STUB: replaced by the real parser.

/// Parses `.sir` text. `file` names the source in diagnostics (`file:line:col`);
/// `sidecar` supplies constants printed as `<sidecar>`.
public func parseModule(_ text: String, file: String = "<input>",
                        sidecar: [String: Tensor] = [:]) throws -> Module {
  throw Diagnostic("parser not implemented", at: file)
}
