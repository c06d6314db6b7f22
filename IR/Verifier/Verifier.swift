//===--- Verifier.swift - checks a module's invariants -------------------===//
// STUB: replaced by the real verifier.

/// Throws a DiagnosticList naming each op and problem.
public func verify(_ module: Module) throws {}
