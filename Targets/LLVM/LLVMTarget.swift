//===--- LLVMTarget.swift - the LLVM target's public API ---===//
//
//   let model = try JITModel(module)                  // run/bench --backend llvm
//   let outputs = try model.run(inputs)
//   try compileModel(module, to: "libnet.so", kind: .so, name: "net", header: "net.h")

import Foundation
import SparrowIO
import SparrowIR

/// A C identifier for symbol prefixes (`--name`).
public func isValidLibraryName(_ name: String) -> Bool {
  guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
  else { return false }
  return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
}

/// Writes `module` as a native artifact (and, when `header` is given, its C header);
/// `sanitizer` instruments the generated code (testing only, see Sanitizer.swift).
public func compileModel(_ module: Module, to path: String, kind: ArtifactKind, name: String = "net",
                         header: String? = nil, target: TargetSpec = .host,
                         sanitizer: Sanitizer? = nil) throws {
  guard isValidLibraryName(name) else {
    throw Diagnostic("--name '\(name)' is not a C identifier")
  }
  let phases = PhaseTimer()
  let cg = CodegenModule(name: name, lanes: target.hasAVX512 ? 16 : 8)
  cg.hasVNNI = target.hasVNNI
  var codegen = ModelCodegen(cg, module: module, name: name)
  try codegen.emit()
  phases.mark("IR construction")
  let machine = try TargetMachine(target, relocation: .pic)
  try cg.write(kind, to: path, with: machine, sanitizer: sanitizer, phases: phases)
  if let header { try writeAtomically(Array(cHeader(name: name, function: module.main).utf8), to: header) }
}

/// A model JIT-compiled into this process.
public final class JITModel {
  private let session: JITSession
  private let function: Function
  private typealias RunEntry = @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<UnsafeRawPointer?>?, UnsafePointer<UnsafeMutableRawPointer?>?,
    UnsafeMutableRawPointer?) -> Int32
  private let entry: RunEntry
  /// The generated code's thread pools (`model_context_create`), one per thread count
  /// asked for, created on first use and kept (their threads park between runs).
  private let pools: ThreadPools
  private let workspace: UnsafeMutableRawPointer
  /// The results' buffers, allocated once like the workspace: fresh ones on every run
  /// made `bench` time the first-touch page faults of large outputs inside the last
  /// kernel (a 1x96x112x112 transpose: 0.4 or 2.1 ms, by the process).
  private let outputs: [UnsafeMutableRawPointer]
  /// Milliseconds spent generating and compiling.
  public let compileMilliseconds: Double
  /// With `profile`: the timestamp array and the op index of each timed kernel.
  private let profileTicks: UnsafePointer<Int64>?
  private let profiledOps: [Int]

  /// Compiles `module`; with `profile`, every run also records each kernel's time
  /// (`lastProfile`), at the cost of two clock reads per kernel.
  public init(_ module: Module, target: TargetSpec = .host, profile: Bool = false) throws {
    let start = Date()
    let phases = PhaseTimer()
    session = try JITSession(target: target)
    function = module.main
    let cg = session.makeModule(name: "model")
    var codegen = ModelCodegen(cg, module: module, name: "model", profile: profile)
    try codegen.emit()
    phases.mark("IR construction")
    try session.add(cg)
    phases.mark("optimize")
    entry = unsafeBitCast(UInt(try session.address(of: "model_run_context")), to: RunEntry.self)
    pools = try ThreadPools(session, prefix: "model")
    profiledOps = codegen.profiledOps
    profileTicks = profile ? UnsafePointer(bitPattern: UInt(try session.address(of: profileSymbol("model")))) : nil
    phases.mark("machine code")
    workspace = UnsafeMutableRawPointer.allocate(byteCount: max(64, codegen.workspaceSize), alignment: 64)
    outputs = module.main.results.map { result in
      UnsafeMutableRawPointer.allocate(byteCount: max(module.main.type(of: result).dense.byteCount, 4), alignment: 64)
    }
    compileMilliseconds = Date().timeIntervalSince(start) * 1000
  }

  deinit {
    pools.destroyAll()
    workspace.deallocate()
    for b in outputs { b.deallocate() }
  }

  /// The kernels of the last run, in execution order: the index of the op in the entry
  /// function and its time in nanoseconds. Empty unless compiled with `profile`.
  public func lastProfile() -> [(op: Int, nanoseconds: Int)] {
    guard let ticks = profileTicks else { return [] }
    return profiledOps.enumerated().map { k, op in (op, Int(ticks[k + 1] - ticks[k])) }
  }

  /// Runs once; inputs must match the entry function's argument types. `threads` <= 0:
  /// all cores. Not reentrant (one workspace): one call at a time per model.
  public func run(_ inputs: [Tensor], threads: Int = 1) throws -> [Tensor] {
    guard inputs.count == function.arguments.count else {
      throw Diagnostic("expected \(function.arguments.count) inputs, got \(inputs.count)")
    }
    for (arg, t) in zip(function.arguments, inputs) where t.type.dense != function.type(of: arg).dense {
      throw Diagnostic("input '\(function.name(of: arg))' must be \(function.type(of: arg).dense), got \(t.type)")
    }
    let types = function.results.map { function.type(of: $0).dense }
    let status = withPointers(inputs) { inputPointers in
      entry(pools.pool(threads: threads), inputPointers, outputs.map { Optional($0) }, workspace)
    }
    guard status == 0 else { throw Diagnostic("generated code failed with status \(status)") }
    return zip(types, outputs).map { type, b in
      Tensor(type: type, bytes: Array(UnsafeRawBufferPointer(start: b, count: type.byteCount)))
    }
  }
}

private func withPointers<R>(_ tensors: [Tensor], _ body: ([UnsafeRawPointer?]) throws -> R) rethrows -> R {
  func go(_ i: Int, _ acc: [UnsafeRawPointer?]) throws -> R {
    if i == tensors.count { return try body(acc) }
    return try tensors[i].bytes.withUnsafeBytes { try go(i + 1, acc + [$0.baseAddress ?? UnsafeRawPointer(bitPattern: 64)]) }
  }
  return try go(0, [])
}

/// `SPARROW_COMPILE_TIMES=1`: prints the time of each compile phase to stderr.
final class PhaseTimer {
  private var last = Date()
  private let enabled = ProcessInfo.processInfo.environment["SPARROW_COMPILE_TIMES"] != nil

  func mark(_ phase: String) {
    guard enabled else { return }
    let now = Date()
    FileHandle.standardError.write("sparrow: \(phase): \(Int(now.timeIntervalSince(last) * 1000)) ms\n".data(using: .utf8)!)
    last = now
  }
}
