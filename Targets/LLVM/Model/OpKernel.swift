//===--- OpKernel.swift - what lowering one op produces, and its context ---===//
//
// Each op becomes one internal LLVM function specialized to its static shapes, called
// from the entry as `kernel(results..., operands..., scratch, threads)` with `float*`
// arguments and an i64 thread count (<= 0: all cores).
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

  /// Defines the kernel function `kernel(results..., operands..., scratch, threads)` and
  /// emits its body; the builder position of the caller is preserved.
  func defineKernel(
    threaded body: (_ results: [Value], _ operands: [Value], _ scratch: Value, _ threads: Value) throws -> Void
  ) rethrows -> Value {
    let saved = LLVMGetInsertBlock(cg.builder)
    defer { if let saved { LLVMPositionBuilderAtEnd(cg.builder, saved) } }
    let count = op.results.count + op.operands.count + 1
    let f = cg.addFunction(symbol, params: Array(repeating: cg.f32Ptr, count: count) + [cg.i64], local: true)
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

  /// A single-threaded kernel (ignores the thread count).
  func defineKernel(_ body: (_ results: [Value], _ operands: [Value], _ scratch: Value) throws -> Void)
    rethrows -> Value {
    try defineKernel(threaded: { r, o, s, _ in try body(r, o, s) })
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

  /// Nested loops over `shape` (outermost first); `body` gets the index values.
  func forEachIndex(_ shape: [Int], _ body: ([Value]) -> Void) {
    func nest(_ d: Int, _ indices: [Value]) {
      if d == shape.count { body(indices); return }
      forLoop(0, shape[d]) { i in nest(d + 1, indices + [i]) }
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
