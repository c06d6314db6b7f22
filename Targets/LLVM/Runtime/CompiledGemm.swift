//===--- CompiledGemm.swift - one generated GEMM, JIT-compiled and callable ---===//
//
// For tests and `sparrowc bench-gemm`: generate the kernel for a descriptor, JIT it for
// the host (or a given CPU) and call it on caller-owned buffers.

import Foundation
import SparrowIR

public final class CompiledGemm {
  public let descriptor: GemmDescriptor
  public let tiling: GemmTiling
  private let session: JITSession
  private typealias Entry = @convention(c) (
    UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
    UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutableRawPointer?) -> Void
  private let entry: Entry
  private let pools: ThreadPools
  private let scratch: UnsafeMutableRawPointer
  /// Milliseconds spent generating, optimizing and compiling.
  public let compileMilliseconds: Double

  public init(_ descriptor: GemmDescriptor, target: TargetSpec = .host) throws {
    let start = Date()
    self.descriptor = descriptor
    session = try JITSession(target: target)
    let module = session.makeModule(name: "gemm")
    let emitter = GemmEmitter(module, descriptor, name: "gemm")
    tiling = emitter.t
    emitter.emit()
    module.emitContextFunctions(prefix: "gemm")
    try session.add(module)
    entry = unsafeBitCast(UInt(try session.address(of: "gemm")), to: Entry.self)
    pools = try ThreadPools(session, prefix: "gemm")
    let bytes = max(64, emitter.scratchBytes)
    scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    compileMilliseconds = Date().timeIntervalSince(start) * 1000
  }

  deinit {
    pools.destroyAll()
    scratch.deallocate()
  }

  /// C = epilogue(A · B); pass nil for constant operands and an absent residual.
  /// `threads` <= 0 means all cores.
  public func callAsFunction(c: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>?,
                             b: UnsafePointer<Float>?, residual: UnsafePointer<Float>? = nil,
                             threads: Int = 1) {
    precondition(descriptor.a.isConstant || a != nil, "A is a run-time operand")
    precondition(descriptor.b.isConstant || b != nil, "B is a run-time operand")
    precondition(!descriptor.epilogue.residual || residual != nil, "residual expected")
    entry(c, a, b, residual, scratch.assumingMemoryBound(to: Float.self), pools.pool(threads: threads))
  }
}
