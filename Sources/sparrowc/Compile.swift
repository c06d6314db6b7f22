//===--- Compile.swift - `sparrowc compile`: a native artifact from a model ---===//
//
//   sparrowc compile model.onnx -o libnet.so --header net.h --name net
//   sparrowc compile model.sir -o net.ll --emit llvm-ir
//
// The default CPU is x86-64-v4 (AVX-512, host-independent bytes); `--target-cpu native`
// asks for the build machine's CPU and features.

import ArgumentParser
import SparrowIR
import SparrowLLVM

extension ArtifactKind: ExpressibleByArgument {}
extension Sanitizer: ExpressibleByArgument {}

struct Compile: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compile a model to a shared library (+ C header), object file, LLVM IR or assembly.",
    discussion: """
      Threads are chosen by the library's caller, not here: <name>_run(..., num_threads) per call \
      (1: the calling thread only; <= 0: all cores), or a context from <name>_context_create(num_threads) \
      whose thread pool persists between <name>_run_context calls (see the generated header).
      """)

  @OptionGroup var model: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Option(name: .shortAndLong, help: "The file to write.")
  var output: String

  @Option(help: "so (default), obj, llvm-ir or asm.")
  var emit: ArtifactKind = .so

  @Option(help: "Also write the C header to this file.")
  var header: String?

  @Option(help: "Symbol prefix of the generated functions (a C identifier).")
  var name = "net"

  @Option(name: .customLong("target-cpu"), help: "An LLVM CPU name, or native (default x86-64-v4).")
  var targetCPU: String?

  @Option(name: .customLong("target-features"), help: "LLVM feature string, e.g. +avx512f,+fma.")
  var targetFeatures: String?

  @Option(help: .hidden)  // `thread`: ThreadSanitizer-instrumented code (make test-tsan)
  var sanitize: Sanitizer?

  func validate() throws {
    guard isValidLibraryName(name) else {
      throw ValidationError("--name '\(name)' must be a C identifier")
    }
  }

  func run() throws {
    var module = try loadModule(model)
    try optimize(&module, pipeline, file: model.model)
    try model.checkMemory(module)
    let target = TargetSpec.resolve(cpu: targetCPU, features: targetFeatures, defaultToHost: false)
    do {
      try compileModel(module, to: output, kind: emit, name: name, header: header, target: target,
                       sanitizer: sanitize)
    } catch let d as Diagnostic where d.location == nil {
      throw d.located(model.model)
    }
  }
}
