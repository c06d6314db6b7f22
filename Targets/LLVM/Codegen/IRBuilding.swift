//===--- IRBuilding.swift - integer math, loops and vectors for emitters ---===//
//
// Thin helpers over the LLVM C builder so kernel emitters read like the loops they
// generate: `forLoop(0, n) { i in ... }`, `load(vectorAt: p)`, `fma(a, b, c)`.
// Indices are i64; element pointers are `float*`.

internal import CLLVM

extension CodegenModule {
  // MARK: Constants

  func int(_ v: Int) -> Value { LLVMConstInt(i64, UInt64(bitPattern: Int64(v)), 1) }
  func int32(_ v: Int) -> Value { LLVMConstInt(i32, UInt64(bitPattern: Int64(v)), 1) }
  func float(_ v: Float) -> Value { LLVMConstReal(f32, Double(v)) }
  func nullFloatPointer() -> Value { LLVMConstNull(f32Ptr) }

  /// A vector with every lane `v` (constant).
  func splat(_ v: Float) -> Value {
    let element: Value = float(v)
    var items = [Value?](repeating: element, count: lanes)
    return LLVMConstVector(&items, UInt32(lanes))
  }

  /// An i32 vector with every lane `v` (constant).
  func splat(int32 v: Int) -> Value {
    let element: Value = int32(v)
    var items = [Value?](repeating: element, count: lanes)
    return LLVMConstVector(&items, UInt32(lanes))
  }

  /// A lane mask with the first `n` lanes set.
  func prefixMask(_ n: Int) -> Value {
    var bits: [Value?] = (0..<lanes).map { LLVMConstInt(i1, $0 < n ? 1 : 0, 0) }
    return LLVMConstVector(&bits, UInt32(lanes))
  }

  // MARK: Integer math

  func add(_ a: Value, _ b: Value) -> Value { LLVMBuildAdd(builder, a, b, "") }
  func add(_ a: Value, _ b: Int) -> Value { b == 0 ? a : add(a, int(b)) }
  func sub(_ a: Value, _ b: Value) -> Value { LLVMBuildSub(builder, a, b, "") }
  func mul(_ a: Value, _ b: Int) -> Value { b == 1 ? a : LLVMBuildMul(builder, a, int(b), "") }
  func mul(_ a: Value, _ b: Value) -> Value { LLVMBuildMul(builder, a, b, "") }
  func udiv(_ a: Value, _ b: Int) -> Value { LLVMBuildUDiv(builder, a, int(b), "") }
  func udiv(_ a: Value, _ b: Value) -> Value { LLVMBuildUDiv(builder, a, b, "") }
  func urem(_ a: Value, _ b: Int) -> Value { LLVMBuildURem(builder, a, int(b), "") }
  func urem(_ a: Value, _ b: Value) -> Value { LLVMBuildURem(builder, a, b, "") }
  func icmp(_ p: LLVMIntPredicate, _ a: Value, _ b: Value) -> Value { LLVMBuildICmp(builder, p, a, b, "") }
  func select(_ c: Value, _ a: Value, _ b: Value) -> Value { LLVMBuildSelect(builder, c, a, b, "") }
  func smin(_ a: Value, _ b: Value) -> Value { select(icmp(LLVMIntSLT, a, b), a, b) }

  // MARK: Pointers and memory

  /// `p + offset` elements of the pointee type `element`.
  func gep(_ element: LType, _ p: Value, _ offset: Value) -> Value {
    var idx: [Value?] = [offset]
    return LLVMBuildInBoundsGEP2(builder, element, p, &idx, 1, "")
  }
  func at(_ p: Value, _ offset: Value) -> Value { gep(f32, p, offset) }
  func at(_ p: Value, _ offset: Int) -> Value { offset == 0 ? p : gep(f32, p, int(offset)) }

  func load(_ p: Value) -> Value {
    let v = LLVMBuildLoad2(builder, f32, p, "")!
    LLVMSetAlignment(v, 4)
    return v
  }
  func store(_ v: Value, _ p: Value) {
    LLVMSetAlignment(LLVMBuildStore(builder, v, p), 4)
  }

  /// A full vector load at `p` (a `float*`, 4-byte aligned).
  func load(vectorAt p: Value) -> Value {
    let vp = LLVMBuildBitCast(builder, p, vecPtr, "")
    let v = LLVMBuildLoad2(builder, vec, vp, "")!
    LLVMSetAlignment(v, 4)
    return v
  }
  func store(vector v: Value, at p: Value) {
    let vp = LLVMBuildBitCast(builder, p, vecPtr, "")
    LLVMSetAlignment(LLVMBuildStore(builder, v, vp), 4)
  }

  /// Loads the first `n` lanes (the rest are `passthrough`, default zero).
  func load(vectorAt p: Value, lanes n: Int, passthrough: Value? = nil) -> Value {
    if n >= lanes { return load(vectorAt: p) }
    return load(vectorAt: p, mask: prefixMask(n), passthrough: passthrough ?? splat(0))
  }
  /// Stores the first `n` lanes.
  func store(vector v: Value, at p: Value, lanes n: Int) {
    if n >= lanes { return store(vector: v, at: p) }
    store(vector: v, at: p, mask: prefixMask(n))
  }

  /// The lanes of `mask` (an i1 vector, constant or not) loaded from `p`, the others
  /// from `passthrough`; masked-off lanes are not accessed.
  func load(vectorAt p: Value, mask: Value, passthrough: Value) -> Value {
    let (f, t) = intrinsic("llvm.masked.load", [vec, vecPtr])
    var args: [Value?] = [LLVMBuildBitCast(builder, p, vecPtr, ""), int32(4), mask, passthrough]
    return LLVMBuildCall2(builder, t, f, &args, 4, "")
  }
  /// Stores the lanes of `mask`.
  func store(vector v: Value, at p: Value, mask: Value) {
    let (f, t) = intrinsic("llvm.masked.store", [vec, vecPtr])
    var args: [Value?] = [v, LLVMBuildBitCast(builder, p, vecPtr, ""), int32(4), mask]
    LLVMBuildCall2(builder, t, f, &args, 4, "")
  }

  /// Prefetches the cache line holding `p` into every cache level (`write`: for a store).
  func prefetch(_ p: Value, write: Bool = false) {
    let (f, t) = intrinsic("llvm.prefetch", [i8Ptr])
    var args: [Value?] = [LLVMBuildBitCast(builder, p, i8Ptr, ""), int32(write ? 1 : 0), int32(3), int32(1)]
    LLVMBuildCall2(builder, t, f, &args, 4, "")
  }

  /// A scalar loaded and broadcast to every lane.
  func broadcast(_ scalar: Value) -> Value {
    let undef = LLVMGetUndef(vec)
    let one = LLVMBuildInsertElement(builder, undef, scalar, int32(0), "")
    let zeros = LLVMConstNull(LLVMVectorType(i32, UInt32(lanes)))
    return LLVMBuildShuffleVector(builder, one, undef, zeros, "")
  }

  // MARK: Float math (vector or scalar)

  func fadd(_ a: Value, _ b: Value) -> Value { LLVMBuildFAdd(builder, a, b, "") }
  func fsub(_ a: Value, _ b: Value) -> Value { LLVMBuildFSub(builder, a, b, "") }
  func fmul(_ a: Value, _ b: Value) -> Value { LLVMBuildFMul(builder, a, b, "") }
  func fdiv(_ a: Value, _ b: Value) -> Value { LLVMBuildFDiv(builder, a, b, "") }
  func fneg(_ a: Value) -> Value { LLVMBuildFNeg(builder, a, "") }

  /// Calls a unary/binary/ternary float intrinsic overloaded on the operand type.
  func call(_ name: String, _ args: [Value]) -> Value {
    let (f, t) = intrinsic(name, [LLVMTypeOf(args[0])])
    var a = args.map { Optional($0) }
    return LLVMBuildCall2(builder, t, f, &a, UInt32(a.count), "")
  }
  func fma(_ a: Value, _ b: Value, _ c: Value) -> Value { call("llvm.fma", [a, b, c]) }
  func fmax(_ a: Value, _ b: Value) -> Value { call("llvm.maxnum", [a, b]) }
  func fmin(_ a: Value, _ b: Value) -> Value { call("llvm.minnum", [a, b]) }

  /// Horizontal sum / max of a vector.
  func reduceAdd(_ v: Value) -> Value {
    let (f, t) = intrinsic("llvm.vector.reduce.fadd", [vec])
    var a: [Value?] = [float(-0.0), v]
    let call = LLVMBuildCall2(builder, t, f, &a, 2, "")!
    return call
  }
  func reduceMax(_ v: Value) -> Value { call("llvm.vector.reduce.fmax", [v]) }

  // MARK: Control flow

  /// Emits `for (i = start; i < end; i += step) body(i)` at the builder's position and
  /// leaves the builder after the loop. Start and end are i64 values.
  func forLoop(_ start: Value, _ end: Value, step: Int = 1, _ body: (Value) -> Void) {
    let f = LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))!
    let entry = LLVMGetInsertBlock(builder)!
    let header = LLVMAppendBasicBlockInContext(context, f, "loop")!
    let bodyBlock = LLVMAppendBasicBlockInContext(context, f, "body")!
    let exit = LLVMAppendBasicBlockInContext(context, f, "exit")!
    LLVMBuildBr(builder, header)
    LLVMPositionBuilderAtEnd(builder, header)
    let i = LLVMBuildPhi(builder, i64, "i")!
    LLVMBuildCondBr(builder, icmp(LLVMIntSLT, i, end), bodyBlock, exit)
    LLVMPositionBuilderAtEnd(builder, bodyBlock)
    body(i)
    let next = add(i, step)
    let latch = LLVMGetInsertBlock(builder)!
    LLVMBuildBr(builder, header)
    var values: [Value?] = [start, next]
    var blocks: [LLVMBasicBlockRef?] = [entry, latch]
    LLVMAddIncoming(i, &values, &blocks, 2)
    LLVMPositionBuilderAtEnd(builder, exit)
  }
  func forLoop(_ start: Int, _ end: Int, step: Int = 1, _ body: (Value) -> Void) {
    forLoop(int(start), int(end), step: step, body)
  }

  /// Emits a loop carrying `initial` values (e.g. accumulators); returns their final values.
  func forLoop(_ start: Value, _ end: Value, step: Int = 1, carrying initial: [Value],
               _ body: (Value, [Value]) -> [Value]) -> [Value] {
    let f = LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))!
    let entry = LLVMGetInsertBlock(builder)!
    let header = LLVMAppendBasicBlockInContext(context, f, "loop")!
    let bodyBlock = LLVMAppendBasicBlockInContext(context, f, "body")!
    let exit = LLVMAppendBasicBlockInContext(context, f, "exit")!
    LLVMBuildBr(builder, header)
    LLVMPositionBuilderAtEnd(builder, header)
    let i = LLVMBuildPhi(builder, i64, "i")!
    let phis = initial.map { LLVMBuildPhi(builder, LLVMTypeOf($0), "acc")! }
    LLVMBuildCondBr(builder, icmp(LLVMIntSLT, i, end), bodyBlock, exit)
    LLVMPositionBuilderAtEnd(builder, bodyBlock)
    let updated = body(i, phis)
    let next = add(i, step)
    let latch = LLVMGetInsertBlock(builder)!
    LLVMBuildBr(builder, header)
    var blocks: [LLVMBasicBlockRef?] = [entry, latch]
    var values: [Value?] = [start, next]
    LLVMAddIncoming(i, &values, &blocks, 2)
    for (phi, (a, b)) in zip(phis, zip(initial, updated)) {
      var v: [Value?] = [a, b]
      LLVMAddIncoming(phi, &v, &blocks, 2)
    }
    LLVMPositionBuilderAtEnd(builder, exit)
    return phis
  }

  /// Emits `if cond { then() }`.
  func ifThen(_ cond: Value, _ then: () -> Void) {
    let f = LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))!
    let thenBlock = LLVMAppendBasicBlockInContext(context, f, "then")!
    let join = LLVMAppendBasicBlockInContext(context, f, "join")!
    LLVMBuildCondBr(builder, cond, thenBlock, join)
    LLVMPositionBuilderAtEnd(builder, thenBlock)
    then()
    LLVMBuildBr(builder, join)
    LLVMPositionBuilderAtEnd(builder, join)
  }

  /// Emits `cond ? a() : b()` over values of one type, with real branches.
  func ifElse(_ cond: Value, _ a: () -> [Value], _ b: () -> [Value]) -> [Value] {
    let f = LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))!
    let thenBlock = LLVMAppendBasicBlockInContext(context, f, "then")!
    let elseBlock = LLVMAppendBasicBlockInContext(context, f, "else")!
    let join = LLVMAppendBasicBlockInContext(context, f, "join")!
    LLVMBuildCondBr(builder, cond, thenBlock, elseBlock)
    LLVMPositionBuilderAtEnd(builder, thenBlock)
    let va = a()
    let endA = LLVMGetInsertBlock(builder)!
    LLVMBuildBr(builder, join)
    LLVMPositionBuilderAtEnd(builder, elseBlock)
    let vb = b()
    let endB = LLVMGetInsertBlock(builder)!
    LLVMBuildBr(builder, join)
    LLVMPositionBuilderAtEnd(builder, join)
    return zip(va, vb).map { x, y in
      let phi = LLVMBuildPhi(builder, LLVMTypeOf(x), "")!
      var values: [Value?] = [x, y]
      var blocks: [LLVMBasicBlockRef?] = [endA, endB]
      LLVMAddIncoming(phi, &values, &blocks, 2)
      return phi
    }
  }

  func retVoid() { LLVMBuildRetVoid(builder) }
  func ret(_ v: Value) { LLVMBuildRet(builder, v) }

  /// Calls a function defined in this module.
  @discardableResult
  func call(function f: Value, _ args: [Value]) -> Value {
    var a = args.map { Optional($0) }
    let type = LLVMGlobalGetValueType(f)
    return LLVMBuildCall2(builder, type, f, &a, UInt32(a.count), "")
  }
}
