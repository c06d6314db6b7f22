import SparrowIR

// Stub: replaced by the real kernels.
func evaluateUnary(_ k: KernelArgs) throws -> [Tensor] { throw k.unsupported("evaluation yet") }
