import SparrowIR

// Stub: replaced by the real kernels.
func evaluateRecurrent(_ k: KernelArgs) throws -> [Tensor] { throw k.unsupported("evaluation yet") }
