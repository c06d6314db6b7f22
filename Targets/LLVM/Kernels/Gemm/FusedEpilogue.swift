//===--- FusedEpilogue.swift - the `epilogue` attribute of gemm and conv ---===//
//
//   %z = conv %x, %w, %b, %r {epilogue = ["add", "relu"], ...}   // relu(conv + r)
//
// The steps (IR/Ops/Epilogue.swift declares them) run in order after the bias; the
// generated GEMM applies them on its accumulators. One residual add per op is supported.

import SparrowIR

extension OpContext {
  /// The fused steps and the operand index of the residual (after `coreOperands`).
  func fusedEpilogue(coreOperands: Int) throws -> (steps: [GemmEpilogueStep], residual: Int?) {
    let steps: [GemmEpilogueStep] = epilogueSteps(op.attributes).map { step in
      switch step {
      case .add: return .addResidual
      case .relu: return .activation(.relu)
      case .sigmoid: return .activation(.sigmoid)
      case .tanh: return .activation(.tanh)
      case .hardSwish: return .activation(.hardSwish)
      case .silu: return .activation(.silu)
      case let .gelu(approximate): return .activation(.gelu(tanhApproximation: approximate == "tanh"))
      case let .clip(lo, hi): return .activation(.clip(min: lo, max: hi))
      case let .leakyRelu(alpha): return .activation(.leakyRelu(alpha: alpha))
      }
    }
    let adds = steps.filter { $0 == .addResidual }.count
    guard adds <= 1 else { throw unsupported("more than one residual add in an epilogue") }
    guard op.operands.count == coreOperands + adds else {
      throw unsupported("\(op.operands.count) operands with \(adds) residual add(s)")
    }
    return (steps, adds == 1 ? coreOperands : nil)
  }
}
