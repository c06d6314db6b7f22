import SparrowIR

// Stub: replaced by the real kernels.
func evaluateMovement(_ k: KernelArgs) throws -> [Tensor] { throw k.unsupported("evaluation yet") }
