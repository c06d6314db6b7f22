//===--- CompiledSparseGemm.swift - one generated sparse GEMM, JIT-compiled ---===//
//
// For tests and the sparse GEMM benchmark: generate the weight-specialized kernel,
// JIT it for the host and call it on caller-owned buffers.

import Foundation

public final class CompiledSparseGemm {
  public let descriptor: SparseGemmDescriptor
  private let session: JITSession
  private typealias Entry = @convention(c) (
    UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
    UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutableRawPointer?) -> Void
  private let entry: Entry
  private let scratch: UnsafeMutableRawPointer
  /// Milliseconds spent generating, optimizing and compiling.
  public let compileMilliseconds: Double

  public init(_ descriptor: SparseGemmDescriptor, target: TargetSpec = .host) throws {
    let start = Date()
    self.descriptor = descriptor
    session = try JITSession(target: target)
    let module = session.makeModule(name: "sparse_gemm")
    SparseGemmEmitter(cg: module, d: descriptor, name: "sparse_gemm").emit()
    scratch = UnsafeMutableRawPointer.allocate(byteCount: max(descriptor.scratchBytes(lanes: module.lanes), 64), alignment: 64)
    try session.add(module)
    entry = unsafeBitCast(UInt(try session.address(of: "sparse_gemm")), to: Entry.self)
    compileMilliseconds = Date().timeIntervalSince(start) * 1000
  }

  deinit { scratch.deallocate() }

  /// C [M, N] = epilogue(W · X) with X [K, N] row-major; transposed: C [N, M] =
  /// epilogue(X · W^T) with X [N, K].
  public func callAsFunction(c: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                             residual: UnsafePointer<Float>? = nil) {
    precondition(!descriptor.epilogue.residual || residual != nil, "residual expected")
    entry(c, nil, x, residual, scratch.assumingMemoryBound(to: Float.self), nil)
  }
}
