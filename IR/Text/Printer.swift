//===--- Printer.swift - the .sir text form of a module ------------------===//
// STUB: replaced by the real printer.

/// How constants are printed.
public struct PrintOptions: Sendable {
  /// Constants with at most this many elements print inline (`= [1.0, 2.0]`).
  public var inlineLimit: Int
  /// Larger constants: `<sidecar>` (full round trip through safetensors) when true,
  /// `<elided N x f32>` (dumps) when false.
  public var sidecar: Bool
  public init(inlineLimit: Int = 16, sidecar: Bool = false) {
    self.inlineLimit = inlineLimit
    self.sidecar = sidecar
  }
  /// For `dump-ir` and diagnostics.
  public static let dump = PrintOptions()
  /// For `.sir` files with a weights sidecar.
  public static let roundTrip = PrintOptions(sidecar: true)
}

public func printModule(_ module: Module, options: PrintOptions = .dump) -> String {
  fatalError("printer not implemented")
}
