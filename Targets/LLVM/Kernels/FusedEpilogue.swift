//===--- FusedEpilogue.swift - the `epilogue` attribute of gemm and conv ---===//
//
//   %z = conv %x, %w, %b, %r {epilogue = ["add", "relu"], ...}   // relu(conv + r)
//
// Steps run in order after the bias: "relu", "clip:MIN:MAX", "leaky_relu:ALPHA",
// "sigmoid", "tanh", "hard_swish", "silu", "gelu", "gelu:tanh", and "add" (the next
// residual operand, trailing the bias). The generated GEMM applies them on its
// accumulators; one residual add per op is supported.

import SparrowIR

extension OpContext {
  /// The fused steps and the operand index of the residual (after `coreOperands`).
  func fusedEpilogue(coreOperands: Int) throws -> (steps: [GemmEpilogueStep], residual: Int?) {
    guard case let .strings(texts)? = op.attributes.values["epilogue"] else { return ([], nil) }
    var steps: [GemmEpilogueStep] = []
    for text in texts {
      let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      let numbers = parts.dropFirst().compactMap(Float.init)
      switch (parts[0], numbers.count, parts.count) {
      case ("add", 0, 1): steps.append(.addResidual)
      case ("relu", 0, 1): steps.append(.activation(.relu))
      case ("sigmoid", 0, 1): steps.append(.activation(.sigmoid))
      case ("tanh", 0, 1): steps.append(.activation(.tanh))
      case ("hard_swish", 0, 1): steps.append(.activation(.hardSwish))
      case ("silu", 0, 1): steps.append(.activation(.silu))
      case ("gelu", 0, 1): steps.append(.activation(.gelu(tanhApproximation: false)))
      case ("gelu", 0, 2) where parts[1] == "tanh" || parts[1] == "none":
        steps.append(.activation(.gelu(tanhApproximation: parts[1] == "tanh")))
      case ("clip", 2, 3): steps.append(.activation(.clip(min: numbers[0], max: numbers[1])))
      case ("leaky_relu", 1, 2): steps.append(.activation(.leakyRelu(alpha: numbers[0])))
      default: throw unsupported("the epilogue step '\(text)'")
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
