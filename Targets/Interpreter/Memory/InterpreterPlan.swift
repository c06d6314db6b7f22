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
    MemoryPlan(f, isView: isView, scratch: { scratchBytes(f.ops[$0], in: f) },
               mayRunInPlace: { op, k in mayRunInPlace(op, operand: k, in: f) })
  }

  /// Scratch an op's kernel takes from the arena: conv's im2col columns (one image and
  /// group at a time) when the reference computes its algorithm by im2col
  /// (ReferenceConvMethod in Kernels/Conv.swift); masked convs run their own kernel.
  public static func scratchBytes(_ op: Operation, in f: Function) -> Int {
    guard op.kind == .conv, op.operands.count >= 2 else { return 0 }
    var x = f.type(of: op.operands[0]), y = f.type(of: op.result)
    let w = f.type(of: op.operands[1])
    if op.attributes.convLayout == .nhwc {  // run as NCHW between transposes (Conv.swift)
      (x.shape, y.shape) = (ConvLayout.channelsFirst(x.shape), ConvLayout.channelsFirst(y.shape))
    }
    guard x.shape.count >= 3, w.shape.count == x.shape.count, y.shape.count == x.shape.count,
          ActivationMask(op.attributes, output: y.shape) == nil,
          ReferenceConvMethod(op.attributes.resolvedConvAlgorithm(input: x, weight: w)) == .im2colGemm else { return 0 }
    let cg = x.shape[1] / max(op.attributes.int("group"), 1)
    let kernel = w.shape[2...].reduce(1, *), plane = y.shape[2...].reduce(1, *)
    return cg * kernel * plane * (x.element == .f64 ? 8 : 4)
  }

  /// Ops whose result is their first operand's bytes under a new type.
  public static func isView(_ op: Operation) -> Bool { op.kind == .reshape || op.kind == .identity }

  /// Whether the kernel for `op` may write its result over operand `k`: elementwise
  /// unary and binary float kernels (and their epilogue-free use) whose operand has the
  /// result's shape and element type.
  public static func mayRunInPlace(_ op: Operation, operand k: Int, in f: Function) -> Bool {
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
