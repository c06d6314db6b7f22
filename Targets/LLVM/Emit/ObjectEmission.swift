//===--- ObjectEmission.swift - .o, .s, .ll and .so files from a module ---===//
//
// Every file is written atomically (SparrowIO's writeAtomically; the linker's output is
// renamed into place the same way) so a failed command leaves no
// partial output. Bytes depend only on the module and the target spec.

internal import CLLVM
import Foundation
import SparrowIO
import SparrowIR

/// What `sparrowc compile --emit` writes.
public enum ArtifactKind: String, CaseIterable, Sendable {
  case so, obj, asm
  case llvmIR = "llvm-ir"
}

extension CodegenModule {
  /// Machine code or assembly for `machine` (the module must already be optimized).
  func emit(_ fileType: LLVMCodeGenFileType, with machine: TargetMachine) throws -> [UInt8] {
    var error: UnsafeMutablePointer<CChar>?
    var buffer: LLVMMemoryBufferRef?
    guard LLVMTargetMachineEmitToMemoryBuffer(machine.ref, ref, fileType, &error, &buffer) == 0,
          let buffer else {
      throw Diagnostic("LLVM code generation failed: \(takeMessage(error))")
    }
    defer { LLVMDisposeMemoryBuffer(buffer) }
    let start = LLVMGetBufferStart(buffer)!
    let size = LLVMGetBufferSize(buffer)
    return start.withMemoryRebound(to: UInt8.self, capacity: size) {
      Array(UnsafeBufferPointer(start: $0, count: size))
    }
  }

  /// Writes the artifact to `path`: optimizes for `machine` first unless `optimized`
  /// (then instruments for `sanitizer`, if given).
  func write(_ kind: ArtifactKind, to path: String, with machine: TargetMachine, optimized: Bool = false,
             sanitizer: Sanitizer? = nil, phases: PhaseTimer = PhaseTimer()) throws {
    if !optimized { try machine.optimize(ref) }
    if let sanitizer { try instrument(for: sanitizer, with: machine) }
    phases.mark("optimize")
    defer { phases.mark("machine code and link") }
    switch kind {
    case .llvmIR: try writeAtomically(Array(printed().utf8), to: path)
    case .asm: try writeAtomically(emit(LLVMAssemblyFile, with: machine), to: path)
    case .obj: try writeAtomically(emit(LLVMObjectFile, with: machine), to: path)
    case .so:
      let object = try emit(LLVMObjectFile, with: machine)
      try linkSharedLibrary(object: object, to: path)
    }
  }
}

private func temporaryPath(near path: String, suffix: String = "") -> String {
  let dir = (path as NSString).deletingLastPathComponent
  let base = (path as NSString).lastPathComponent
  let name = ".\(base).tmp\(ProcessInfo.processInfo.processIdentifier)\(suffix)"
  return dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
}

private func moveIntoPlace(_ temp: String, _ path: String) throws {
  guard rename(temp, path) == 0 else {
    unlink(temp)
    throw Diagnostic("cannot write: \(String(cString: strerror(errno)))", at: path)
  }
}

/// Links an object into a shared library with the system C compiler; the library needs
/// only libc, libm and libpthread.
func linkSharedLibrary(object: [UInt8], to path: String) throws {
  let objectPath = temporaryPath(near: path, suffix: ".o")
  let temp = temporaryPath(near: path, suffix: ".so")
  defer { unlink(objectPath) }
  guard FileManager.default.createFile(atPath: objectPath, contents: Data(object)) else {
    throw Diagnostic("cannot write", at: objectPath)
  }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["cc", "-shared", "-o", temp, objectPath, "-Wl,--as-needed", "-lm",
                       "-lpthread", "-Wl,-z,noexecstack"]
  let errors = Pipe()
  process.standardError = errors
  try process.run()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    unlink(temp)
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    throw Diagnostic("linking with cc failed: \(message)", at: path)
  }
  try moveIntoPlace(temp, path)
}
