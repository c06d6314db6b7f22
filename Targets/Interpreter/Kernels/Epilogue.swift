//===--- Epilogue.swift - fused epilogue steps after gemm and conv ------===//
//
// The core kernel computes the op without its residual operands and without the
// `epilogue` attribute; each step then runs through the interpreter's own elementwise
// kernels (relu is the relu kernel, "add" the add kernel, "silu" mul(x, sigmoid(x))), so
// a fused op computes exactly what the unfused ops did.

import SparrowIR

/// `dispatch`, applying the epilogue of ops with the `.hasEpilogue` trait.
func dispatchWithEpilogue(_ k: KernelArgs) throws -> [Tensor] {
  if let mask = ActivationMask(k.attributes, output: k.type().shape), let fill = mask.fill {
    return try applyingMaskedFill(k, fill, mask, run: dispatchWithEpilogue)
  }
  let steps = try epilogueSteps(k.attributes)
  guard !steps.isEmpty else { return try dispatch(k) }
  let residualCount = steps.filter { $0 == .add }.count
  var coreAttributes = k.attributes
  coreAttributes.values["epilogue"] = nil
  let core = KernelArgs(kind: k.kind, attributes: coreAttributes,
                        inputs: Array(k.inputs.dropLast(residualCount)), resultTypes: k.resultTypes)
  var y = try dispatch(core)[0]
  var residuals = k.inputs.suffix(residualCount).makeIterator()
  for step in steps {
    switch step {
    case .add:
      y = try elementwise(.add, Attributes(.add), [y, residuals.next()!])
    case .silu:
      let s = try elementwise(.sigmoid, Attributes(.sigmoid), [y])
      y = try elementwise(.mul, Attributes(.mul), [y, s])
    default:
      let (kind, attributes) = step.unaryOp!
      y = try elementwise(kind, attributes, [y])
    }
  }
  return [y]
}

/// One elementwise op whose result has the first input's type.
private func elementwise(_ kind: OpKind, _ attributes: Attributes, _ inputs: [Tensor]) throws -> Tensor {
  try dispatch(KernelArgs(kind: kind, attributes: attributes, inputs: inputs,
                          resultTypes: [inputs[0].type.dense]))[0]
}
