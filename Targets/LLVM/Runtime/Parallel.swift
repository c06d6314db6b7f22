//===--- Parallel.swift - one parallel region over the context's thread pool ---===//
//
//   cg.emitParallel(pool: pool, maximum: parts, symbol: name, captures: [c, a, b]) {
//     thread, count, captures in          // thread in 0 ..< count, count <= maximum
//     ... this thread's share, from `captures` ...
//   }
//
// becomes
//
//   <symbol>.work(i8 *arg, i64 thread, i64 count)   unpacks the captures, runs the body
//   caller: captures stored in one struct on its stack;
//           sparrow.pool.fork(pool, <symbol>.work, &struct, maximum)   (ThreadPool.swift)
//
// `pool` is the kernel's last argument (`defineKernel(threaded:)`, NULL: one thread).
// One fork/join per call; the body runs once per part, `thread` the part's index and
// `count` the parts: min(maximum, 4 x the pool's threads), 1 without a pool or with one
// thread. A part runs on one thread at a time (per-part scratch slices are safe).
// The body runs in its own function: values of the caller reach it only as `captures`,
// and it must not fork again. Kernels decide their partition from (thread, count) and
// whether a region pays for a fork (`ParallelCost`).

internal import CLLVM
import Foundation

extension CodegenModule {
  func emitParallel(pool: Value, maximum: Int, symbol: String, captures: [Value],
                    _ body: (_ thread: Value, _ count: Value, _ captures: [Value]) -> Void) {
    var fields: [LType?] = captures.map { LLVMTypeOf($0) }
    let contextType = LLVMStructTypeInContext(context, &fields, UInt32(fields.count), 0)!
    let contextPtr = LLVMPointerType(contextType, 0)!

    let saved = LLVMGetInsertBlock(builder)!
    // The body gets the captures as parameters (pointers `noalias`, like the kernels'),
    // so the optimizer keeps what it knew in the kernel; it is inlined into `work`.
    let inner = addFunction("\(symbol).body", params: captures.map { LLVMTypeOf($0) } + [i64, i64], local: true)
    addEnumAttribute("nounwind", to: inner)
    addEnumAttribute("alwaysinline", to: inner)
    startBlock("entry", in: inner)
    body(param(inner, captures.count), param(inner, captures.count + 1), captures.indices.map { param(inner, $0) })
    retVoid()

    let work = LLVMAddFunction(ref, "\(symbol).work", poolWorkType)!
    LLVMSetLinkage(work, LLVMInternalLinkage)
    addEnumAttribute("nounwind", to: work)
    startBlock("entry", in: work)
    let ctx = LLVMBuildBitCast(builder, param(work, 0), contextPtr, "")!
    let loaded = fields.indices.map { i -> Value in
      let p = LLVMBuildStructGEP2(builder, contextType, ctx, UInt32(i), "")!
      return LLVMBuildLoad2(builder, fields[i]!, p, "")!
    }
    call(function: inner, loaded + [param(work, 1), param(work, 2)])
    retVoid()
    LLVMPositionBuilderAtEnd(builder, saved)

    let slot = entryAlloca(contextType)
    for (i, v) in captures.enumerated() {
      LLVMBuildStore(builder, v, LLVMBuildStructGEP2(builder, contextType, slot, UInt32(i), ""))
    }
    let argument = LLVMBuildBitCast(builder, slot, i8Ptr, "")!
    if maximum <= 1 {
      call(function: work, [argument, int(0), int(1)])
    } else {
      call(function: poolFork(), [pool, work, argument, int(maximum)])
    }
  }

  /// The earlier spelling: `threads` is the kernel's last argument, now the pool.
  func emitParallel(threads pool: Value, maximum: Int, symbol: String, captures: [Value],
                    _ body: (_ thread: Value, _ count: Value, _ captures: [Value]) -> Void) {
    emitParallel(pool: pool, maximum: maximum, symbol: symbol, captures: captures, body)
  }
}

/// Whether a region pays for a fork: estimated one-thread time against the fork/join.
enum ParallelCost {
  /// Parts a kernel splits its work into at most (per-part scratch slices: GEMMs, the
  /// sparse GEMM, max pooling); the pool cuts a region into up to 4 parts per thread.
  static let maximumThreads = 8
  /// One-thread work below which a region stays serial: a fork/join costs ~1-3 µs with
  /// spinning workers, more when they sleep (bench/threads.py measures it). Tests set
  /// `SPARROW_FORK_THRESHOLD_NS=0` when compiling, so every region of a small model forks.
  static var minimumNanoseconds: Int {
    ProcessInfo.processInfo.environment["SPARROW_FORK_THRESHOLD_NS"].flatMap { Int($0) } ?? 20_000
  }

  /// Threads worth using for `units` independent pieces of `nanoseconds` of work: at
  /// least half the minimum per thread.
  static func parts(units: Int, nanoseconds: Int, maximum: Int) -> Int {
    let minimum = minimumNanoseconds
    guard nanoseconds >= minimum else { return 1 }
    let affordable = minimum == 0 ? maximum : nanoseconds * 2 / minimum
    return max(1, min(units, maximum, affordable))
  }

  /// Dense FMAs at ~64 per ns (one core, AVX-512, well below peak).
  static func nanoseconds(fmas: Int) -> Int { fmas / 64 }
  /// Streaming bytes (read + written) at ~16 per ns.
  static func nanoseconds(bytes: Int) -> Int { bytes / 16 }
}
