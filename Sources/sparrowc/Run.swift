//===--- Run.swift - `sparrowc run`: one inference, outputs as .npy -------===//

import ArgumentParser
import Foundation
import SparrowIO
import SparrowIR
import SparrowInterpreter
import SparrowLLVM

enum Backend: String, ExpressibleByArgument, CaseIterable {
  case interp, llvm
}

/// Rejects backends this build cannot run (all can).
func checkBackend(_ b: Backend) throws {}

/// Runs `module` once on the chosen backend (llvm: JIT-compiled for the host).
func execute(_ module: Module, inputs: [Tensor], backend: Backend, threads: Int) throws -> [Tensor] {
  switch backend {
  case .interp: return try Interpreter.run(module, inputs: inputs)
  case .llvm: return try JITModel(module).run(inputs, threads: threads)
  }
}

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a model once; write each output to DIR/<output>.npy.")

  @OptionGroup var model: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Option(name: .customLong("input"),
          help: ArgumentHelp("An input value from an .npy file (repeatable).", valueName: "NAME=FILE.npy"))
  var inputs: [String] = []

  @Option(name: .customLong("output-dir"), help: "Where to write the outputs (created if missing).")
  var outputDir = "."

  @Option(help: "interp (reference interpreter) or llvm.")
  var backend: Backend = .interp

  @Option(help: "Threads, 0 for all cores (default 1): the llvm backend's thread pool, OpenBLAS's in the interpreter.")
  var threads = 1

  func run() throws {
    try checkBackend(backend)
    var module = try loadModule(model)
    try optimize(&module, pipeline, file: model.model)
    try model.checkMemory(module)
    let f = module.main
    var given: [String: Tensor] = [:]
    for spec in inputs {
      let (name, file) = try splitBinding(spec, flag: "--input")
      guard f.arguments.contains(where: { f.name(of: $0) == name }) else {
        let names = f.arguments.map { "'\(f.name(of: $0))'" }.joined(separator: ", ")
        throw Diagnostic("unknown input '\(name)'; the model's inputs are \(names.isEmpty ? "none" : names)",
                         at: model.model)
      }
      given[name] = try Npy.read(path: file)
    }
    var values: [Tensor] = []
    for arg in f.arguments {
      let name = f.name(of: arg), want = f.type(of: arg).dense
      guard let t = given[name] else {
        throw Diagnostic("missing --input \(name)=FILE.npy (\(want))", at: model.model)
      }
      guard t.type == want else {
        throw Diagnostic("input '\(name)' has \(t.type), the model expects \(want)", at: model.model)
      }
      values.append(t)
    }
    Interpreter.setThreads(threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount)
    let outputs = try execute(module, inputs: values, backend: backend, threads: threads)
    try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
    for (v, t) in zip(f.results, outputs) {
      let path = (outputDir as NSString).appendingPathComponent(sanitizedFileName(f.name(of: v)) + ".npy")
      try Npy.write(t, path: path)
      print("\(f.name(of: v)): \(t.type) -> \(path)")
    }
  }
}
