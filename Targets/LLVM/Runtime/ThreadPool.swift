//===--- ThreadPool.swift - a persistent thread pool emitted into generated code ---===//
//
// No runtime library ships with a model: the pool is generated into every module that
// forks (JIT and `.so` alike). A context owns one pool: `threads - 1` pthreads created
// once, parked between regions and between runs.
//
//   fork(pool, work, arg, count):                worker (threads 1 ..< n):
//     n = min(count, 4 * threads)                  loop:
//     n <= 1, 1 thread or no pool:                   wait until generation changes
//       work(arg, 0, 1); return                        (spin, then futex sleep)
//     work, arg, done = work, arg, 0                 stop? return
//     ticket = (g + 1, n, 1)  part 0 is the caller's claim parts of that generation
//     generation = g + 1; wake sleepers
//     work(arg, 0, n); done += 1
//     claim parts of generation g + 1
//     wait until done == n (spin, then futex)
//
//   claim parts of g: while ticket = (g, n, p) with p < n:
//     CAS ticket (g, n, p) -> (g, n, p + 1); on success read work and arg, run
//     work(arg, p, n), done += 1 (the last part wakes the caller if it sleeps)
//
// One fork/join per parallel region. Parts are claimed, not assigned: a worker that is
// asleep or preempted (a loaded machine, an unreliable vCPU) leaves its part to the
// caller instead of stalling the join, and the join waits only for parts that were
// claimed. Part p is still one contiguous share of the work (`thread` in the body), so
// results do not depend on who runs it. The ticket (generation: 32 bits, parts: 16,
// next part: 16) is the only word a claim decides on: a late worker holding an old
// ticket fails its CAS once the caller has published the next one, and it reads `work`
// and `arg` only after its CAS succeeded, when the region cannot change under it (the
// caller rewrites them only after every part of the last region is done). (An earlier
// version kept the part count in its own field: a late worker could read the next
// region's count beside the last region's exhausted ticket, win its CAS before the new
// ticket was published, and run a part too many; the join then never saw done == n.)
// Sleeping is a Dekker handshake over sequentially consistent atomics: a sleeper bumps
// its `asleep` counter then re-reads the word before `futex(FUTEX_WAIT)`; the waker
// changes the word then reads the counter before `futex(FUTEX_WAKE)`. Data handed to
// workers is published by the release of `ticket` and returned by the release of
// `done` (what ThreadSanitizer checks, `make test-tsan`).
//
// Reentrancy: one pool runs one region at a time (a context runs one call at a time);
// a region's work cannot fork again (it gets no pool). Distinct pools are independent.

internal import CLLVM

/// Iterations of `pause` a waiter spins before it sleeps (~50-100 µs: regions of one
/// run follow each other closely; between runs the workers sleep).
private let spinIterations = 4096
/// Parts a region is cut into per thread (at most; kernels cap it, ParallelCost): a slow
/// vCPU or a preempted worker then holds a small part while the others claim the rest.
private let partsPerThread = 4
/// Linux futex operations (private to the process).
private let futexWaitPrivate = 128, futexWakePrivate = 129, sysFutex = 202

/// Fields of the pool struct (`sparrow.pool`).
private enum PoolField: UInt32 {
  case generation = 0, stop, workersAsleep, work, arg, threads, handles
  case done = 8, callerAsleep, ticket
}

extension CodegenModule {
  /// `void work(i8 *arg, i64 thread, i64 count)`: what a parallel region runs per thread.
  var poolWorkType: LType {
    var params: [LType?] = [i8Ptr, i64, i64]
    return LLVMFunctionType(void, &params, 3, 0)
  }

  /// The pool's struct type (created once per context).
  private var poolType: LType {
    if let t = LLVMGetTypeByName2(context, "sparrow.pool") { return t }
    let t = LLVMStructCreateNamed(context, "sparrow.pool")!
    let pad = LLVMArrayType(i32, 16)!
    var fields: [LType?] = [i32, i32, i32, i8Ptr, i8Ptr, i64, LLVMPointerType(i64, 0),
                            pad, i32, i32, i64, pad]
    LLVMStructSetBody(t, &fields, UInt32(fields.count), 0)
    return t
  }

  private func field(_ pool: Value, _ f: PoolField) -> Value {
    LLVMBuildStructGEP2(builder, poolType, pool, f.rawValue, "")!
  }

  private func fieldType(_ f: PoolField) -> LType {
    LLVMStructGetTypeAtIndex(poolType, f.rawValue)!
  }

  /// Natural alignment: the module may have no data layout yet, whose default aligns i64
  /// to 4 bytes (an atomic access would then become a libatomic call).
  private func alignment(_ f: PoolField) -> UInt32 { LLVMGetTypeKind(fieldType(f)) == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(fieldType(f)) == 32 ? 4 : 8 }

  private func loadField(_ pool: Value, _ f: PoolField, _ ordering: LLVMAtomicOrdering? = nil) -> Value {
    let v = LLVMBuildLoad2(builder, fieldType(f), field(pool, f), "")!
    LLVMSetAlignment(v, alignment(f))
    if let ordering { LLVMSetOrdering(v, ordering) }
    return v
  }

  private func storeField(_ pool: Value, _ f: PoolField, _ v: Value, _ ordering: LLVMAtomicOrdering? = nil) {
    let s = LLVMBuildStore(builder, v, field(pool, f))!
    LLVMSetAlignment(s, alignment(f))
    if let ordering { LLVMSetOrdering(s, ordering) }
  }

  private func atomicAdd(_ p: Value, _ v: Value) -> Value {
    LLVMBuildAtomicRMW(builder, LLVMAtomicRMWBinOpAdd, p, v, LLVMAtomicOrderingSequentiallyConsistent, 0)!
  }

  /// A function without the kernels' `noalias` parameters (other threads share the pool).
  private func poolFunction(_ name: String, params: [LType], returns: LType? = nil, exported: Bool = false) -> Value {
    var p = params.map { Optional($0) }
    let f = LLVMAddFunction(ref, name, LLVMFunctionType(returns ?? void, &p, UInt32(p.count), 0))!
    if !exported { LLVMSetLinkage(f, LLVMInternalLinkage) }
    addEnumAttribute("nounwind", to: f)
    return f
  }

  private func cast(_ v: Value, to t: LType) -> Value { LLVMBuildBitCast(builder, v, t, "")! }

  /// Emits `while true { body() }` where `body` branches to the returned exit block to leave.
  private func loop(_ body: (_ exit: LLVMBasicBlockRef) -> Void) {
    let f = LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))!
    let header = LLVMAppendBasicBlockInContext(context, f, "spin")!
    let exit = LLVMAppendBasicBlockInContext(context, f, "done")!
    LLVMBuildBr(builder, header)
    LLVMPositionBuilderAtEnd(builder, header)
    body(exit)
    LLVMBuildBr(builder, header)
    LLVMPositionBuilderAtEnd(builder, exit)
  }

  /// Leaves `loop` (to `exit`) when `cond` holds; continues after it otherwise.
  private func breakIf(_ cond: Value, _ exit: LLVMBasicBlockRef) {
    let f = LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))!
    let next = LLVMAppendBasicBlockInContext(context, f, "next")!
    LLVMBuildCondBr(builder, cond, exit, next)
    LLVMPositionBuilderAtEnd(builder, next)
  }

  /// `syscall(SYS_futex, word, op, value, NULL)`: FUTEX_WAIT sleeps while `*word ==
  /// value` (no timeout: every wake is paired with a change of the word, see above).
  private func futex(_ word: Value, _ op: Int, _ value: Value) {
    var params: [LType?] = [i64]
    let type = LLVMFunctionType(i64, &params, 1, 1)!
    let f = LLVMGetNamedFunction(ref, "syscall") ?? LLVMAddFunction(ref, "syscall", type)!
    var args: [Value?] = [int(sysFutex), word, int(op), LLVMBuildZExt(builder, value, i64, ""), LLVMConstNull(i8Ptr)]
    LLVMBuildCall2(builder, type, f, &args, 5, "")
  }

  /// `sparrow.pool.await(i32 *word, i32 *asleep, i32 old) -> i32`: waits until `*word`
  /// differs from `old` (spin, then futex sleep) and returns its new value (acquire).
  private func poolAwait() -> Value {
    if let f = LLVMGetNamedFunction(ref, "sparrow.pool.await") { return f }
    let saved = LLVMGetInsertBlock(builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(builder, saved) } }
    let i32Ptr = LLVMPointerType(i32, 0)!
    let f = poolFunction("sparrow.pool.await", params: [i32Ptr, i32Ptr, i32], returns: i32)
    startBlock("entry", in: f)
    let word = param(f, 0), asleep = param(f, 1), old = param(f, 2)
    func read(_ ordering: LLVMAtomicOrdering) -> Value {
      let v = LLVMBuildLoad2(builder, i32, word, "")!
      LLVMSetOrdering(v, ordering)
      return v
    }
    let (pause, pauseType) = intrinsic("llvm.x86.sse2.pause", [])
    forLoop(0, spinIterations) { _ in
      let v = read(LLVMAtomicOrderingAcquire)
      ifThen(icmp(LLVMIntNE, v, old)) { ret(v); _ = startBlock("dead", in: f) }
      LLVMBuildCall2(builder, pauseType, pause, nil, 0, "")
    }
    loop { _ in
      _ = atomicAdd(asleep, int32(1))
      ifThen(icmp(LLVMIntEQ, read(LLVMAtomicOrderingSequentiallyConsistent), old)) {
        futex(word, futexWaitPrivate, old)
      }
      _ = atomicAdd(asleep, int32(-1))
      let v = read(LLVMAtomicOrderingAcquire)
      ifThen(icmp(LLVMIntNE, v, old)) { ret(v); _ = startBlock("dead", in: f) }
    }
    LLVMBuildUnreachable(builder)
    return f
  }

  /// Changes nothing but wakes every sleeper on `word` if its `asleep` counter says so
  /// (after the caller changed `word` with a sequentially consistent operation).
  private func wakeSleepers(_ word: Value, _ asleep: Value) {
    let sleeping = LLVMBuildLoad2(builder, i32, asleep, "")!
    LLVMSetOrdering(sleeping, LLVMAtomicOrderingSequentiallyConsistent)
    ifThen(icmp(LLVMIntNE, sleeping, int32(0))) { futex(word, futexWakePrivate, int32(Int(Int32.max))) }
  }

  /// `sparrow.pool.claim(pool, i32 generation)`: runs parts of that generation's region
  /// until none is left (or the region is gone).
  private func poolClaim() -> Value {
    if let f = LLVMGetNamedFunction(ref, "sparrow.pool.claim") { return f }
    let saved = LLVMGetInsertBlock(builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(builder, saved) } }
    let f = poolFunction("sparrow.pool.claim", params: [LLVMPointerType(poolType, 0), i32])
    startBlock("entry", in: f)
    let pool = param(f, 0)
    let generation = LLVMBuildZExt(builder, param(f, 1), i64, "")!
    loop { exit in
      let ticket = loadField(pool, .ticket, LLVMAtomicOrderingAcquire)
      breakIf(icmp(LLVMIntNE, LLVMBuildLShr(builder, ticket, int(32), ""), generation), exit)
      let part = LLVMBuildAnd(builder, ticket, int(0xffff), "")!
      let count = LLVMBuildAnd(builder, LLVMBuildLShr(builder, ticket, int(16), ""), int(0xffff), "")!
      breakIf(icmp(LLVMIntSGE, part, count), exit)
      let exchange = LLVMBuildAtomicCmpXchg(builder, field(pool, .ticket), ticket, add(ticket, 1),
                                            LLVMAtomicOrderingAcquireRelease, LLVMAtomicOrderingAcquire, 0)!
      ifThen(LLVMBuildExtractValue(builder, exchange, 1, "")) {
        // The region is ours to read now: it cannot end before this part is done.
        let work = loadField(pool, .work, LLVMAtomicOrderingMonotonic)
        let arg = loadField(pool, .arg, LLVMAtomicOrderingMonotonic)
        var args: [Value?] = [arg, part, count]
        LLVMBuildCall2(builder, poolWorkType, cast(work, to: LLVMPointerType(poolWorkType, 0)), &args, 3, "")
        finishPart(pool, count: count)
      }
    }
    retVoid()
    return f
  }

  /// done += 1 (release); the last part of the region wakes the caller if it sleeps.
  private func finishPart(_ pool: Value, count: Value) {
    let before = atomicAdd(field(pool, .done), int32(1))
    let last = icmp(LLVMIntEQ, LLVMBuildSExt(builder, add32(before, 1), i64, ""), count)
    ifThen(last) { wakeSleepers(field(pool, .done), field(pool, .callerAsleep)) }
  }

  private func add32(_ a: Value, _ b: Int) -> Value { LLVMBuildAdd(builder, a, int32(b), "")! }

  /// `sparrow.pool.worker(i8 *pool) -> i8*`: the pthread start routine.
  private func poolWorker() -> Value {
    if let f = LLVMGetNamedFunction(ref, "sparrow.pool.worker") { return f }
    let saved = LLVMGetInsertBlock(builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(builder, saved) } }
    let f = poolFunction("sparrow.pool.worker", params: [i8Ptr], returns: i8Ptr)
    startBlock("entry", in: f)
    let pool = cast(param(f, 0), to: LLVMPointerType(poolType, 0))
    let seen = entryAlloca(i32)
    LLVMBuildStore(builder, int32(0), seen)
    loop { _ in
      let old = LLVMBuildLoad2(builder, i32, seen, "")!
      let now = call(function: poolAwait(), [field(pool, .generation), field(pool, .workersAsleep), old])
      LLVMBuildStore(builder, now, seen)
      ifThen(icmp(LLVMIntNE, loadField(pool, .stop), int32(0))) { ret(LLVMConstNull(i8Ptr)); _ = startBlock("dead", in: f) }
      call(function: poolClaim(), [pool, now])
    }
    LLVMBuildUnreachable(builder)
    return f
  }

  /// `sparrow.pool.fork(i8 *pool, work, i8 *arg, i64 count)`: runs `work(arg, i, n)` for
  /// i in 0 ..< n = min(count, 4 x the pool's threads), each part on whichever thread
  /// claims it, the caller taking i = 0; serially (`work(arg, 0, 1)`) without a pool or
  /// with one thread.
  func poolFork() -> Value {
    if let f = LLVMGetNamedFunction(ref, "sparrow.pool.fork") { return f }
    let saved = LLVMGetInsertBlock(builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(builder, saved) } }
    let workPtr = LLVMPointerType(poolWorkType, 0)!
    let f = poolFunction("sparrow.pool.fork", params: [i8Ptr, workPtr, i8Ptr, i64])
    startBlock("entry", in: f)
    let work = param(f, 1), arg = param(f, 2)
    let serial = LLVMAppendBasicBlockInContext(context, f, "serial")!
    let parallel = LLVMAppendBasicBlockInContext(context, f, "parallel")!
    let hasPool = LLVMAppendBasicBlockInContext(context, f, "pool")!
    LLVMBuildCondBr(builder, LLVMBuildIsNull(builder, param(f, 0), ""), serial, hasPool)
    LLVMPositionBuilderAtEnd(builder, hasPool)
    let pool = cast(param(f, 0), to: LLVMPointerType(poolType, 0))
    let threads = loadField(pool, .threads)
    let n = smin(smin(param(f, 3), mul(threads, partsPerThread)), int(0xffff))  // 16 bits of the ticket
    let alone = LLVMBuildOr(builder, icmp(LLVMIntSLE, threads, int(1)), icmp(LLVMIntSLE, n, int(1)), "")!
    LLVMBuildCondBr(builder, alone, serial, parallel)

    LLVMPositionBuilderAtEnd(builder, serial)
    var one: [Value?] = [arg, int(0), int(1)]
    LLVMBuildCall2(builder, poolWorkType, work, &one, 3, "")
    retVoid()

    LLVMPositionBuilderAtEnd(builder, parallel)
    storeField(pool, .work, cast(work, to: i8Ptr), LLVMAtomicOrderingMonotonic)
    storeField(pool, .arg, arg, LLVMAtomicOrderingMonotonic)
    storeField(pool, .done, int32(0), LLVMAtomicOrderingMonotonic)
    // Only the caller changes `generation`: a plain read of it is its own last write.
    let generation = add32(loadField(pool, .generation, LLVMAtomicOrderingMonotonic), 1)
    let ticket = LLVMBuildOr(builder, LLVMBuildShl(builder, LLVMBuildZExt(builder, generation, i64, ""), int(32), ""),
                             LLVMBuildOr(builder, LLVMBuildShl(builder, n, int(16), ""), int(1), "")!, "")!
    storeField(pool, .ticket, ticket, LLVMAtomicOrderingRelease)
    storeField(pool, .generation, generation, LLVMAtomicOrderingSequentiallyConsistent)
    wakeSleepers(field(pool, .generation), field(pool, .workersAsleep))
    var mine: [Value?] = [arg, int(0), n]
    LLVMBuildCall2(builder, poolWorkType, work, &mine, 3, "")
    finishPart(pool, count: n)
    call(function: poolClaim(), [pool, generation])
    // Join: wait until every part is done (parts still unclaimed were run above).
    loop { exit in
      let done = loadField(pool, .done, LLVMAtomicOrderingAcquire)
      breakIf(icmp(LLVMIntEQ, LLVMBuildSExt(builder, done, i64, ""), n), exit)
      _ = call(function: poolAwait(), [field(pool, .done), field(pool, .callerAsleep), done])
    }
    retVoid()
    return f
  }

  /// Defines the exported `<prefix>_context_create(int32_t threads) -> void*` (threads
  /// <= 0: all online cores; NULL when out of memory) and `<prefix>_context_destroy(void*)`.
  func emitContextFunctions(prefix: String) {
    let saved = LLVMGetInsertBlock(builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(builder, saved) } }
    let poolPtr = LLVMPointerType(poolType, 0)!
    let size = LLVMSizeOf(poolType)!
    let (calloc, callocType) = externalFunction("calloc", params: [i64, i64], returns: i8Ptr)
    let (free, freeType) = externalFunction("free", params: [i8Ptr], returns: void)
    let (sysconf, sysconfType) = externalFunction("sysconf", params: [i32], returns: i64)
    let startType = LLVMPointerType(LLVMGlobalGetValueType(poolWorker()), 0)!
    let (create, createType) = externalFunction(
      "pthread_create", params: [LLVMPointerType(i64, 0), i8Ptr, startType, i8Ptr], returns: i32)
    let (join, joinType) = externalFunction("pthread_join", params: [i64, LLVMPointerType(i8Ptr, 0)], returns: i32)

    let make = poolFunction("\(prefix)_context_create", params: [i32], returns: i8Ptr, exported: true)
    startBlock("entry", in: make)
    var callocArgs: [Value?] = [int(1), size]
    let raw = LLVMBuildCall2(builder, callocType, calloc, &callocArgs, 2, "")!
    ifThen(LLVMBuildIsNull(builder, raw, "")) { ret(raw); _ = startBlock("dead", in: make) }
    let pool = cast(raw, to: poolPtr)
    let requested = LLVMBuildSExt(builder, param(make, 0), i64, "")!
    var scArgs: [Value?] = [int32(84)]  // _SC_NPROCESSORS_ONLN
    let cores = LLVMBuildCall2(builder, sysconfType, sysconf, &scArgs, 1, "")!
    var threads = select(icmp(LLVMIntSLE, requested, int(0)), cores, requested)
    threads = select(icmp(LLVMIntSLT, threads, int(1)), int(1), threads)
    var handleArgs: [Value?] = [threads, int(8)]
    let handles = LLVMBuildCall2(builder, callocType, calloc, &handleArgs, 2, "")!
    ifThen(LLVMBuildIsNull(builder, handles, "")) {
      var a: [Value?] = [raw]
      LLVMBuildCall2(builder, freeType, free, &a, 1, "")
      ret(LLVMConstNull(i8Ptr)); _ = startBlock("dead", in: make)
    }
    storeField(pool, .handles, cast(handles, to: LLVMPointerType(i64, 0)))
    // Threads that fail to start are simply not there: the pool runs with fewer.
    let started = entryAlloca(i64)
    LLVMBuildStore(builder, int(1), started)
    let handleArray = cast(handles, to: LLVMPointerType(i64, 0))
    forLoop(int(1), threads) { _ in
      let k = LLVMBuildLoad2(builder, i64, started, "")!
      var args: [Value?] = [gep(i64, handleArray, k), LLVMConstNull(i8Ptr), poolWorker(), raw]
      let status = LLVMBuildCall2(builder, createType, create, &args, 4, "")!
      ifThen(icmp(LLVMIntEQ, status, int32(0))) { LLVMBuildStore(builder, add(k, 1), started) }
    }
    storeField(pool, .threads, LLVMBuildLoad2(builder, i64, started, "")!)
    ret(raw)

    let destroy = poolFunction("\(prefix)_context_destroy", params: [i8Ptr], exported: true)
    startBlock("entry", in: destroy)
    ifThen(LLVMBuildIsNull(builder, param(destroy, 0), "")) { retVoid(); _ = startBlock("dead", in: destroy) }
    let victim = cast(param(destroy, 0), to: poolPtr)
    storeField(victim, .stop, int32(1))
    _ = atomicAdd(field(victim, .generation), int32(1))
    wakeSleepers(field(victim, .generation), field(victim, .workersAsleep))
    // (Joined workers never touch the pool again.)
    let victimHandles = loadField(victim, .handles)
    forLoop(int(1), loadField(victim, .threads)) { k in
      var args: [Value?] = [LLVMBuildLoad2(builder, i64, gep(i64, victimHandles, k), "")!,
                            LLVMConstNull(LLVMPointerType(i8Ptr, 0))]
      LLVMBuildCall2(builder, joinType, join, &args, 2, "")
    }
    var freeHandles: [Value?] = [cast(victimHandles, to: i8Ptr)]
    LLVMBuildCall2(builder, freeType, free, &freeHandles, 1, "")
    var freePool: [Value?] = [param(destroy, 0)]
    LLVMBuildCall2(builder, freeType, free, &freePool, 1, "")
    retVoid()
  }
}
