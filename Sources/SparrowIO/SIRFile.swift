//===--- SIRFile.swift - .sir text files with a safetensors weights sidecar ---===//
//
//   OUT.sir              module @net weights "OUT.safetensors" { ... = <sidecar> ... }
//   OUT.safetensors      every constant above the inline limit, in pool order
//
// The sidecar is named by a relative file name and resolved beside the .sir; absolute
// paths and `..` are refused so a .sir cannot point at arbitrary files.

import SparrowIR

public enum SIRFile {
  /// Reads a .sir file and, when a constant is `<sidecar>`, the weights file it names.
  public static func read(path: String) throws -> Module {
    let bytes = try readFileBytes(path)
    let text = String(decoding: bytes, as: UTF8.self)
    let folder = splitPath(path).folder
    return try parseModule(text, file: path, loadSidecar: { name in
      try Safetensors.read(path: try sidecarPath(name, besides: folder))
    })
  }

  /// Writes `OUT.sir` and, when some constant has more than `inlineLimit` elements, the
  /// sidecar `OUT.safetensors` beside it (both atomically; sidecar first).
  public static func write(_ module: Module, path: String, inlineLimit: Int = PrintOptions.roundTrip.inlineLimit) throws {
    let options = PrintOptions(inlineLimit: inlineLimit, sidecar: true)
    var module = module
    var large: [(name: String, tensor: Tensor)] = []
    for name in module.constants.names {
      if let t = module.constants[name], !options.printsInline(count: t.count) { large.append((name, t)) }
    }
    let (folder, file) = splitPath(path)
    let stem = file.hasSuffix(".sir") ? String(file.dropLast(4)) : file
    let weightsName = stem + ".safetensors"
    let weightsPath = folder.isEmpty ? weightsName : "\(folder)/\(weightsName)"
    if large.isEmpty {
      module.weightsFile = nil
    } else {
      module.weightsFile = weightsName
      try Safetensors.write(large, path: weightsPath)
    }
    do {
      try writeAtomically(Array(printModule(module, options: options).utf8), to: path)
    } catch {
      // No half-written pair: the sidecar goes when its .sir cannot be written.
      if !large.isEmpty { removeFile(weightsPath) }
      throw error
    }
  }

  /// The path of the sidecar `name` beside a .sir in `folder`; refuses absolute paths and
  /// `..` components.
  static func sidecarPath(_ name: String, besides folder: String) throws -> String {
    guard !name.isEmpty, !name.hasPrefix("/"),
          !name.split(separator: "/").contains("..") else {
      throw Diagnostic("the weights file must be a relative path inside the .sir's folder (no '/' prefix or '..')",
                       at: name)
    }
    return folder.isEmpty ? name : "\(folder)/\(name)"
  }
}
