//===--- Loading.swift - model files in, optimized modules out ------------===//

import Foundation
import SparrowIO
import SparrowIR
import SparrowONNX

/// Reads an .onnx or .sir model, binding input shapes and frozen inputs.
func loadModule(_ o: ModelOptions) throws -> Module {
  guard FileManager.default.fileExists(atPath: o.model) else {
    throw Diagnostic("no such file", at: o.model)
  }
  if o.model.hasSuffix(".sir") {
    guard o.inputShapes.isEmpty && o.freeze.isEmpty else {
      throw Diagnostic("--input-shape and --freeze apply to ONNX models only", at: o.model)
    }
    return try SIRFile.read(path: o.model)
  }
  var options = ONNXImportOptions()
  options.inputShapes = try o.parsedInputShapes()
  for spec in o.freeze {
    let (name, file) = try splitBinding(spec, flag: "--freeze")
    options.frozenInputs[name] = try Npy.read(path: file)
  }
  return try importONNX(path: o.model, options: options)
}

/// A file-name-safe version of a value name (DESIGN.md: other characters become `_`).
func sanitizedFileName(_ name: String) -> String {
  let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
  let s = String(name.map { allowed.contains($0) ? $0 : "_" })
  return s.isEmpty || s == "." || s == ".." ? "_" + s : s
}

/// Milliseconds since `start`.
func elapsedMilliseconds(since start: DispatchTime) -> Double {
  Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
}
