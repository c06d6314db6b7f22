//===--- DumpIR.swift - `sparrowc dump-ir`: print the optimized IR --------===//

import ArgumentParser
import SparrowIO
import SparrowIR

enum IRFormat: String, ExpressibleByArgument, CaseIterable {
  /// The .sir text form, large constants elided.
  case text
  /// Graphviz: one node per op with its result shapes.
  case dot
  /// Ops, operands, types and attributes as one JSON object.
  case json
}

struct DumpIR: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dump-ir",
    abstract: "Print a model's IR after the pass pipeline (large constants elided).")

  @OptionGroup var model: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Option(help: "Output format: text (.sir), dot (Graphviz) or json.")
  var format: IRFormat = .text

  func run() throws {
    var module = try loadModule(model)
    try optimize(&module, pipeline, file: model.model)
    switch format {
    case .text: print(printModule(module), terminator: "")
    case .dot: print(dotGraph(module), terminator: "")
    case .json: print(jsonIR(module), terminator: "")
    }
  }
}

struct Opt: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "IR in, IR out (like mlir-opt): run passes and write a .sir file with its weights sidecar.")

  @OptionGroup var model: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Option(name: .shortAndLong, help: "The output .sir file (weights go to <stem>.safetensors beside it).")
  var output: String

  func validate() throws {
    guard output.hasSuffix(".sir") else { throw ValidationError("-o must name a .sir file") }
  }

  func run() throws {
    var module = try loadModule(model)
    try optimize(&module, pipeline, file: model.model)
    try SIRFile.write(module, path: output)
  }
}
