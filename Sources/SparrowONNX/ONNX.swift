//===--- ONNX.swift - STUB: replaced by the importer ---===//
import SparrowIR

public struct ONNXImportOptions: Sendable {
  /// Shapes bound by `--input-shape NAME=1x3x224x224`.
  public var inputShapes: [String: [Int]] = [:]
  /// Inputs made constant by `--freeze NAME=FILE.npy`.
  public var frozenInputs: [String: Tensor] = [:]
  public init() {}
}

public func importONNX(path: String, options: ONNXImportOptions = ONNXImportOptions()) throws -> Module {
  throw Diagnostic("ONNX import not implemented", at: path)
}
