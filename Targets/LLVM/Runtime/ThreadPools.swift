//===--- ThreadPools.swift - the JIT's contexts, one per thread count ---===//
//
// A JIT-compiled module exports `<prefix>_context_create/_destroy` like a `.so`
// (ThreadPool.swift). The JIT keeps one context per thread count it was asked for, so
// `bench --threads 2` creates its threads once, not per run. Contexts are destroyed
// (threads joined) before the JIT session frees the code they run.

import SparrowIR

final class ThreadPools {
  private typealias Create = @convention(c) (Int32) -> UnsafeMutableRawPointer?
  private typealias Destroy = @convention(c) (UnsafeMutableRawPointer?) -> Void
  private let create: Create
  private let destroy: Destroy
  private var pools: [Int: UnsafeMutableRawPointer] = [:]

  init(_ session: JITSession, prefix: String) throws {
    create = unsafeBitCast(UInt(try session.address(of: "\(prefix)_context_create")), to: Create.self)
    destroy = unsafeBitCast(UInt(try session.address(of: "\(prefix)_context_destroy")), to: Destroy.self)
  }

  /// The context for `threads` threads (<= 0: all cores); nil when out of memory.
  func pool(threads: Int) -> UnsafeMutableRawPointer? {
    let key = max(threads, 0)
    if let p = pools[key] { return p }
    let p = create(Int32(clamping: key))
    pools[key] = p
    return p
  }

  /// Joins every pool's threads; call before the session goes.
  func destroyAll() {
    for p in pools.values { destroy(p) }
    pools = [:]
  }
}
