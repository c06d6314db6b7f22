//===--- ONNX.swift - the frontend's public entry point -------------------===//

import Foundation
import SparrowIR

public struct ONNXImportOptions: Sendable {
  /// Shapes bound by `--input-shape NAME=1x3x224x224`.
  public var inputShapes: [String: [Int]] = [:]
  /// Inputs made constant by `--freeze NAME=FILE.npy`.
  public var frozenInputs: [String: Tensor] = [:]
  /// Constant folding at import stops at results with more elements than this.
  public var foldLimit = 1 << 22
  /// The most bytes a sparse initializer may take once densified: a few bytes of COO can
  /// declare a huge dense shape, so this is checked before anything is allocated.
  public var maxSparseInitializerBytes = 1 << 30
  public init() {}
}

/// Reads an ONNX model file and converts it to an IR module with static shapes.
///
/// Throws a `Diagnostic` naming the file (and node) for a bad file, or a `DiagnosticList`
/// listing every unsupported op of the model at once.
public func importONNX(path: String, options: ONNXImportOptions = ONNXImportOptions()) throws -> Module {
  let data: Data
  do {
    data = try Data(contentsOf: URL(fileURLWithPath: path))
  } catch {
    throw Diagnostic("cannot read the model file", at: path)
  }
  let model: Onnx_ModelProto
  do {
    model = try Onnx_ModelProto(serializedBytes: data)
  } catch {
    throw Diagnostic("not a valid ONNX model (protobuf parse failed: \(error))", at: path)
  }
  return try importONNX(model: model, path: path, options: options)
}

/// Converts an already parsed model; `path` names the file in diagnostics and locates
/// external data (relative to its folder).
public func importONNX(model: Onnx_ModelProto, path: String,
                       options: ONNXImportOptions = ONNXImportOptions()) throws -> Module {
  let folder = (path as NSString).deletingLastPathComponent
  let root = ExternalDataRoot(folder: folder.isEmpty ? "." : folder, modelFile: path)
  let importer = try GraphImporter(model: model, file: path, root: root, options: options)
  return try importer.run()
}
