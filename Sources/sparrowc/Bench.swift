//===--- Bench.swift - `sparrowc bench`: latency on seeded random inputs --===//

import ArgumentParser
import Foundation
import SparrowIO
import SparrowIR
import SparrowInterpreter
import SparrowLLVM
import SparrowTargetSupport

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time a model on seeded random inputs: median and p90 latency, compile time.")

  @OptionGroup var model: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Option(help: "interp (reference interpreter) or llvm.")
  var backend: Backend = .interp

  @Option(help: "Threads, 0 for all cores (default 1): the llvm backend's thread pool, OpenBLAS's in the interpreter.")
  var threads = 1

  @Option(help: "Timed iterations.")
  var iterations = 10

  @Option(help: "Untimed warm-up iterations.")
  var warmup = 2

  @Flag(help: "Print one JSON object instead of text.")
  var json = false

  @Flag(help: "Time every kernel (llvm backend): per op kind, output shape, time and share, slowest first.")
  var profile = false

  func validate() throws {
    guard iterations >= 1, warmup >= 0, threads >= 0 else {
      throw ValidationError("--iterations must be at least 1, --warmup and --threads at least 0")
    }
    guard !profile || backend == .llvm else { throw ValidationError("--profile needs --backend llvm") }
  }

  func run() throws {
    try checkBackend(backend)
    let start = DispatchTime.now()
    var module = try loadModule(model)
    try optimize(&module, pipeline, file: model.model)
    try model.checkMemory(module)
    let jit = backend == .llvm ? try JITModel(module, profile: profile) : nil
    let compileMs = elapsedMilliseconds(since: start)
    let inputs = randomInputs(for: module.main, seed: 0)
    Interpreter.setThreads(threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount)
    let runOnce = { try jit?.run(inputs, threads: threads) ?? Interpreter.run(module, inputs: inputs) }
    for _ in 0..<warmup { _ = try runOnce() }
    var times: [Double] = []
    var kernelTimes = KernelTimes()
    for _ in 0..<iterations {
      let t0 = DispatchTime.now()
      _ = try runOnce()
      times.append(elapsedMilliseconds(since: t0))
      if let jit { kernelTimes.add(jit.lastProfile()) }
    }
    times.sort()
    let median = times[times.count / 2]
    let p90 = times[min(times.count - 1, Int((Double(times.count) * 0.9).rounded(.up)) - 1)]
    if json {
      let fields: [(String, String)] = [
        ("model", "\(jsonQuoted(model.model))"), ("backend", "\"\(backend.rawValue)\""),
        ("threads", "\(threads)"), ("iterations", "\(iterations)"),
        ("compile_ms", fmt(compileMs)), ("median_ms", fmt(median)), ("p90_ms", fmt(p90)),
        ("min_ms", fmt(times[0])),
      ] + (backend == .interp ? [("blas", jsonQuoted(blasCoreReport()))] : [])
      let profileField = profile ? [("profile", kernelTimes.json(module.main))] : []
      print("{" + (fields + profileField).map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    } else {
      print("\(model.model): backend \(backend.rawValue), \(threads) thread(s), \(iterations) iterations")
      print("  compile \(fmt(compileMs)) ms, median \(fmt(median)) ms, p90 \(fmt(p90)) ms, min \(fmt(times[0])) ms")
      if backend == .interp { print("  BLAS: \(blasCoreReport())") }
      if profile { print(kernelTimes.table(module.main), terminator: "") }
    }
  }

  private func fmt(_ v: Double) -> String { String(format: "%.3f", v) }
}
