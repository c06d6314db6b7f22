//===--- OpKernel.swift - what lowering one op produces, and its context ---===//
//
// Each op becomes one internal LLVM function specialized to its static shapes, called
// from the entry as `kernel(results..., operands..., scratch, pool)` with `float*`
// arguments and the context's thread pool (`i8*`, NULL: one thread; Parallel.swift).
// Kernels may embed constant operands (packed weights) and then ignore their pointer.

internal import CLLVM
import SparrowIR

struct OpKernel {
  let function: Value
  /// Operand indices the kernel embeds itself (their pointer is passed as null).
  var embeddedOperands: Set<Int> = []
  /// Workspace bytes the kernel needs during its call.
  var scratchBytes = 0
}

/// Everything a lowering needs about one op.
struct OpContext {
  let cg: CodegenModule
  let op: Operation
  let function: Function
  let constants: ConstantPool
  /// Constant operands' pool names (operands defined by `constant` ops).
  let constantNames: [ValueID: String]
  /// A unique symbol prefix for this op's functions and globals.
  let symbol: String
  /// Set on the f32 lowering of an op whose halves are widened around it (WidenedHalves.swift).
  var widened = false

  var attributes: Attributes { op.attributes }
  func type(_ v: ValueID) -> TensorType { function.type(of: v) }
  func shape(operand i: Int) -> [Int] { type(op.operands[i]).shape }
  func shape(result i: Int = 0) -> [Int] { type(op.results[i]).shape }

  /// The operand's value when it is a compile-time constant.
  func constant(operand i: Int) -> [Float]? {
    guard i < op.operands.count, let name = constantNames[op.operands[i]],
          let t = constants[name], t.element == .f32 else { return nil }
    return t.array(of: Float.self)
  }

  /// A user error at this op.
  func unsupported(_ what: String) -> Diagnostic {
    Diagnostic("the llvm target does not support \(what) ('\(op.kind.rawValue)')", at: op.diagnosticLocation)
  }

  /// Defines the kernel function `kernel(results..., operands..., scratch, pool)` and
  /// emits its body; the builder position of the caller is preserved. `threads` is the
  /// pool to hand to `emitParallel` and to the GEMMs the kernel calls.
  func defineKernel(
    threaded body: (_ results: [Value], _ operands: [Value], _ scratch: Value, _ threads: Value) throws -> Void
  ) rethrows -> Value {
    let saved = LLVMGetInsertBlock(cg.builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(cg.builder, saved) } }
    let count = op.results.count + op.operands.count + 1
    let f = cg.addFunction(symbol, params: Array(repeating: cg.f32Ptr, count: count) + [cg.i8Ptr], local: true)
    cg.addEnumAttribute("nounwind", to: f)
    // One call per run: inlining every kernel into `<name>_run` buys nothing and makes
    // one huge function the optimizer and code generator are slow on.
    cg.addEnumAttribute("noinline", to: f)
    cg.startBlock("entry", in: f)
    let params = (0..<count).map { cg.param(f, $0) }
    try body(Array(params[0..<op.results.count]),
             Array(params[op.results.count..<(count - 1)]), params[count - 1], cg.param(f, count))
    cg.retVoid()
    return f
  }

  /// A single-threaded kernel (ignores the pool).
  func defineKernel(_ body: (_ results: [Value], _ operands: [Value], _ scratch: Value) throws -> Void)
    rethrows -> Value {
    try defineKernel(threaded: { r, o, s, _ in try body(r, o, s) })
  }

  /// A kernel whose work splits into `units` independent pieces (rows, channels ...):
  /// each thread runs `body` on its contiguous share [begin, end) of them, in one
  /// parallel region when `nanoseconds` (the one-thread estimate) pays for a fork
  /// (ParallelCost). `prologue` runs first on the calling thread (it may fill scratch the
  /// threads then only read). With `scratchPerThread` bytes, `body`'s scratch is its
  /// thread's slice (the kernel then needs `ParallelCost.maximumThreads` slices).
  func defineKernel(
    parallelOver units: Int, nanoseconds: Int, scratchPerThread: Int = 0,
    prologue: ((_ results: [Value], _ operands: [Value], _ scratch: Value) -> Void)? = nil,
    _ body: (_ results: [Value], _ operands: [Value], _ scratch: Value, _ begin: Value, _ end: Value) throws -> Void
  ) rethrows -> Value {
    let parts = ParallelCost.parts(units: units, nanoseconds: nanoseconds, maximum: ParallelCost.maximumThreads)
    let resultCount = op.results.count
    return try defineKernel(threaded: { results, operands, scratch, pool in
      prologue?(results, operands, scratch)
      var failure: Error?
      cg.emitParallel(pool: pool, maximum: parts, symbol: symbol, captures: results + operands + [scratch]) {
        thread, count, captured in
        let (begin, end) = cg.share(units, thread: thread, count: count)
        let slice = scratchPerThread > 0 ? cg.at(captured.last!, cg.mul(thread, scratchPerThread / 4)) : captured.last!
        do {
          try body(Array(captured[..<resultCount]), Array(captured[resultCount..<(captured.count - 1)]), slice, begin, end)
        } catch {
          failure = error
        }
      }
      if let failure { throw failure }
    })
  }

  /// One-thread time of streaming the op's operands and results once (ParallelCost).
  var streamingNanoseconds: Int {
    let bytes = (op.operands + op.results).map { type($0).dense.byteCount }.reduce(0, +)
    return ParallelCost.nanoseconds(bytes: bytes)
  }
}

extension CodegenModule {
  /// Thread `thread`'s share [U*t/n, U*(t+1)/n) of `units`.
  func share(_ units: Int, thread: Value, count: Value) -> (begin: Value, end: Value) {
    (udiv(mul(thread, units), count), udiv(mul(add(thread, 1), units), count))
  }
}

extension CodegenModule {
  /// Defines a helper function with `float*` parameters, preserving the caller's position.
  func defineHelper(_ name: String, pointers: Int, _ body: ([Value]) -> Void) -> Value {
    let saved = LLVMGetInsertBlock(builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(builder, saved) } }
    let f = addFunction(name, params: Array(repeating: f32Ptr, count: pointers), local: true)
    addEnumAttribute("nounwind", to: f)
    startBlock("entry", in: f)
    body((0..<pointers).map { param(f, $0) })
    retVoid()
    return f
  }

  /// Nested loops over `shape` (outermost first); `body` gets the index values. With
  /// `outermost`, the outermost loop runs over that range only (a thread's share).
  func forEachIndex(_ shape: [Int], outermost: (Value, Value)? = nil, _ body: ([Value]) -> Void) {
    func nest(_ d: Int, _ indices: [Value]) {
      if d == shape.count { body(indices); return }
      if d == 0, let (begin, end) = outermost {
        forLoop(begin, end) { i in nest(d + 1, indices + [i]) }
      } else {
        forLoop(0, shape[d]) { i in nest(d + 1, indices + [i]) }
      }
    }
    nest(0, [])
  }

  /// Σ index[d] * strides[d] as an i64 value.
  func linearOffset(_ indices: [Value], _ strides: [Int]) -> Value {
    var total = int(0)
    for (i, s) in zip(indices, strides) where s != 0 { total = add(total, mul(i, s)) }
    return total
  }
}
