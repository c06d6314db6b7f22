//===--- Compile.swift - `sparrowc compile`: a native artifact from a model ---===//
//
//   sparrowc compile model.onnx -o libnet.so --header net.h --name net
//   sparrowc compile model.sir -o net.ll --emit llvm-ir
//
// By default the artifact carries AVX2 (x86-64-v3) and AVX-512 (x86-64-v4) kernels and
// picks one by CPUID on first use (Emit/PortableLibrary.swift); the bytes do not depend on
// the build machine. `--target-cpu` pins one CPU (`native`: the build machine's).

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

  @Option(name: .customLong("target-cpu"),
          help: "Pin one LLVM CPU (x86-64-v3, x86-64-v4, native, ...). Default: AVX2 and AVX-512 kernels, picked by CPUID at run time.")
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
    try optimize(&module, pipeline, file: model.model, targetCPU: targetCPU)
    try model.checkMemory(module)
    do {
      if targetCPU == nil && targetFeatures == nil && sanitize == nil {
        try compilePortableModel(module, to: output, kind: emit, name: name, header: header)
      } else {
        let target = TargetSpec.resolve(cpu: targetCPU, features: targetFeatures, defaultToHost: sanitize != nil)
        try compileModel(module, to: output, kind: emit, name: name, header: header, target: target,
                         sanitizer: sanitize)
      }
    } catch let d as Diagnostic where d.location == nil {
      throw d.located(model.model)
    }
  }
}
