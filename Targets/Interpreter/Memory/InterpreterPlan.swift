//===--- InterpreterPlan.swift - the interpreter's memory plan -------------===//
//
// The shared `MemoryPlan` (Targets/Support) with the interpreter's answers: reshape and
// identity are views; elementwise ops whose kernels read element i before writing
// element i may write over an operand that is not broadcast (same shape as the result).

import SparrowIR
import SparrowTargetSupport

extension Interpreter {
  /// The arena layout `run` uses for `f`.
  public static func memoryPlan(for f: Function) -> MemoryPlan {
    MemoryPlan(f, isView: isView, mayRunInPlace: { op, k in mayRunInPlace(op, operand: k, in: f) })
  }

  /// Ops whose result is their first operand's bytes under a new type.
  public static func isView(_ op: Operation) -> Bool { op.kind == .reshape || op.kind == .identity }

  /// Whether the kernel for `op` may write its result over operand `k`: elementwise
  /// unary and binary float kernels (and their epilogue-free use) whose operand has the
  /// result's shape and element type.
  static func mayRunInPlace(_ op: Operation, operand k: Int, in f: Function) -> Bool {
    let inPlaceKinds: Set<OpKind> = [
      .abs, .neg, .exp, .log, .sqrt, .reciprocal, .floor, .ceil, .round, .sign, .sin, .cos,
      .tan, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh, .erf, .tanh,
      .sigmoid, .relu, .softplus, .softsign, .mish, .hard_swish, .leaky_relu, .elu, .selu,
      .celu, .thresholded_relu, .hard_sigmoid, .gelu, .clip, .shrink,
      .add, .sub, .mul, .div,
    ]
    guard inPlaceKinds.contains(op.kind), op.operands.count <= 2 else { return false }
    let operand = f.type(of: op.operands[k]), result = f.type(of: op.result)
    return operand.dense == result.dense && result.element == .f32
  }
}
