//===--- Epilogue.swift - fused epilogue steps after gemm and conv ------===//
//
// The core kernel computes the op without its residual operands and without the
// `epilogue` attribute; each step then runs through the interpreter's own elementwise
// kernels (relu is the relu kernel, "add" the add kernel, "silu" mul(x, sigmoid(x))), so
// a fused op computes exactly what the unfused ops did.

import SparrowIR

/// `dispatchKernel`, applying the epilogue of ops with the `.hasEpilogue` trait. Each
/// step runs in place on the core kernel's result (at its destination when it has one).
func dispatchWithEpilogue(_ k: KernelArgs) throws -> [TensorRef] {
  if let mask = ActivationMask(k.attributes, output: k.type().shape), let fill = mask.fill {
    return try applyingMaskedFill(k.allocatingResults, fill, mask) {
      try dispatchWithEpilogue($0).map(\.tensor)
    }.map(\.ref)
  }
  let steps = epilogueSteps(k.attributes)
  guard !steps.isEmpty else { return try dispatchKernel(k) }
  let residualCount = steps.filter { $0 == .add }.count
  var coreAttributes = k.attributes
  coreAttributes.values["epilogue"] = nil
  let core = KernelArgs(kind: k.kind, attributes: coreAttributes,
                        refs: Array(k.inputs.dropLast(residualCount)), resultTypes: k.resultTypes,
                        destinations: k.destinations, scratch: k.scratch)
  var y = try dispatchKernel(core)[0]
  var residuals = k.inputs.suffix(residualCount).makeIterator()
  for step in steps {
    switch step {
    case .add:
      y = try elementwise(.add, Attributes(.add), [y, residuals.next()!], into: y.address)
    case .silu:
      let s = try elementwise(.sigmoid, Attributes(.sigmoid), [y], into: nil)
      y = try elementwise(.mul, Attributes(.mul), [y, s], into: y.address)
    default:
      let (kind, attributes) = step.unaryOp!
      y = try elementwise(kind, attributes, [y], into: y.address)
    }
  }
  return [y]
}

/// One elementwise op whose result has the first input's type, written at `destination`
/// (in place over the first input when that is where it lives).
func elementwise(_ kind: OpKind, _ attributes: Attributes, _ inputs: [TensorRef],
                         into destination: UnsafeMutableRawPointer?) throws -> TensorRef {
  try dispatchKernel(KernelArgs(kind: kind, attributes: attributes, refs: inputs,
                                resultTypes: [inputs[0].type.dense], destinations: [destination]))[0]
}
