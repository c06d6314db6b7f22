//===--- Parallel.swift - fork/join over pthreads inside generated code ---===//
//
//   count = threads <= 0 ? min(online cores, maximum) : min(threads, maximum)
//   for i in 1 ..< count: pthread_create(worker, &context[i])   (falls back to inline)
//   worker(&context[0]); join the others
//
// The worker body is emitted once into `<symbol>.worker(i8*)`; values it needs from the
// caller are passed as `captures` (pointers) in a per-thread context on the stack.
// Nothing is shared between calls, so the code stays reentrant.

internal import CLLVM

extension CodegenModule {
  func emitParallel(threads: Value, maximum: Int, symbol: String, captures: [Value],
                    _ body: (_ thread: Value, _ count: Value, _ captures: [Value]) -> Void) {
    var fields: [LType?] = [i64, i64] + captures.map { LLVMTypeOf($0) }
    let contextType = LLVMStructTypeInContext(context, &fields, UInt32(fields.count), 0)!
    let contextPtr = LLVMPointerType(contextType, 0)!

    // The worker: unpack the context and run the body.
    let saved = LLVMGetInsertBlock(builder)!
    let worker = addFunction("\(symbol).worker", params: [i8Ptr], returns: i8Ptr, local: true)
    addEnumAttribute("nounwind", to: worker)
    startBlock("entry", in: worker)
    let ctx = LLVMBuildBitCast(builder, param(worker, 0), contextPtr, "")!
    let loaded = fields.indices.map { i -> Value in
      let p = LLVMBuildStructGEP2(builder, contextType, ctx, UInt32(i), "")!
      return LLVMBuildLoad2(builder, fields[i]!, p, "")!
    }
    body(loaded[0], loaded[1], Array(loaded[2...]))
    ret(LLVMConstNull(i8Ptr))
    LLVMPositionBuilderAtEnd(builder, saved)

    func fill(_ slot: Value, _ thread: Value, _ count: Value) {
      let values = [thread, count] + captures
      for (i, v) in values.enumerated() {
        LLVMBuildStore(builder, v, LLVMBuildStructGEP2(builder, contextType, slot, UInt32(i), ""))
      }
    }
    func slot(_ array: Value, _ type: LType, _ i: Value) -> Value {
      var idx: [Value?] = [int(0), i]
      return LLVMBuildInBoundsGEP2(builder, LLVMArrayType(type, UInt32(maximum)), array, &idx, 2, "")
    }
    let arrayOfContexts = entryAlloca(LLVMArrayType(contextType, UInt32(maximum)))
    if maximum == 1 {
      fill(slot(arrayOfContexts, contextType, int(0)), int(0), int(1))
      call(function: worker, [LLVMBuildBitCast(builder, arrayOfContexts, i8Ptr, "")])
      return
    }
    let handles = entryAlloca(LLVMArrayType(i64, UInt32(maximum)))
    let started = entryAlloca(LLVMArrayType(i1, UInt32(maximum)))
    // count = clamp(threads <= 0 ? cores : threads, 1, maximum)
    let (sysconf, sysconfType) = externalFunction("sysconf", params: [i32], returns: i64)
    var scArgs: [Value?] = [int32(84)]  // _SC_NPROCESSORS_ONLN
    let cores = LLVMBuildCall2(builder, sysconfType, sysconf, &scArgs, 1, "")!
    var count = select(icmp(LLVMIntSLE, threads, int(0)), cores, threads)
    count = smin(count, int(maximum))
    count = select(icmp(LLVMIntSLT, count, int(1)), int(1), count)

    let workerType = LLVMPointerType(LLVMGlobalGetValueType(worker), 0)!
    let (create, createType) = externalFunction(
      "pthread_create", params: [LLVMPointerType(i64, 0), i8Ptr, workerType, i8Ptr], returns: i32)
    let (join, joinType) = externalFunction("pthread_join", params: [i64, LLVMPointerType(i8Ptr, 0)], returns: i32)
    forLoop(int(1), count) { i in
      let c = slot(arrayOfContexts, contextType, i)
      fill(c, i, count)
      let argument = LLVMBuildBitCast(builder, c, i8Ptr, "")!
      var args: [Value?] = [slot(handles, i64, i), LLVMConstNull(i8Ptr), worker, argument]
      let status = LLVMBuildCall2(builder, createType, create, &args, 4, "")!
      let ok = icmp(LLVMIntEQ, status, int32(0))
      LLVMBuildStore(builder, ok, slot(started, i1, i))
      ifThen(LLVMBuildNot(builder, ok, "")) { call(function: worker, [argument]) }
    }
    let first = slot(arrayOfContexts, contextType, int(0))
    fill(first, int(0), count)
    call(function: worker, [LLVMBuildBitCast(builder, first, i8Ptr, "")])
    forLoop(int(1), count) { i in
      let ok = LLVMBuildLoad2(builder, i1, slot(started, i1, i), "")!
      ifThen(ok) {
        let handle = LLVMBuildLoad2(builder, i64, slot(handles, i64, i), "")!
        var args: [Value?] = [handle, LLVMConstNull(LLVMPointerType(i8Ptr, 0))]
        LLVMBuildCall2(builder, joinType, join, &args, 2, "")
      }
    }
  }
}
