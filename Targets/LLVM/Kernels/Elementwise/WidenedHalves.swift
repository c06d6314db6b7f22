//===--- WidenedHalves.swift - f16/bf16 products through the f32 kernels ---===//
//
// gemm, matmul, conv, softmax and the reductions on halves run as the interpreter runs them
// (`computingInFloat`):
// every half operand is widened into f32 scratch, the f32 kernel runs on the copies, and
// each half result is rounded back once (to nearest even) from f32 scratch.
//
//   scratch: [f32 kernel's scratch | widened operands... | f32 results...]   (64-byte aligned)
//
// A fused epilogue runs as the interpreter runs it (Interpreter/Kernels/Epilogue.swift):
// the f32 kernel computes the core op without it, then each step reads the rounded
// result, computes in f32 and rounds again (silu as sigmoid, rounded, then the product).

internal import CLLVM
import SparrowIR

extension ModelCodegen {
  /// Ops whose f32 lowering also serves f16/bf16 values (widened around the kernel).
  static let widenedHalfOps: Set<OpKind> = [
    .gemm, .matmul, .conv, .softmax, .log_softmax,
    .reduce_sum, .reduce_mean, .reduce_max, .reduce_min, .reduce_sum_square, .reduce_l1,
    .reduce_l2, .reduce_prod, .reduce_log_sum, .reduce_log_sum_exp,
  ]
}

extension OpContext {
  /// Whether this op runs through the f32 kernel on widened copies: it is one of
  /// `widenedHalfOps`, every value computes in f32 and some value is a half.
  var widensHalves: Bool {
    ModelCodegen.widenedHalfOps.contains(op.kind) && computesInF32
      && (op.operands + op.results).contains { type($0).element.isHalf }
  }

  /// Lowers the op with `lowerF32` (as if every value were f32) and wraps that kernel in
  /// the conversions of its half operands and results.
  func lowerWidened(_ lowerF32: (OpContext) throws -> OpKernel) throws -> OpKernel {
    var core = op, steps: [GemmEpilogueStep] = [], residual: Int?
    if attributes.has("epilogue") {
      let adds = attributes.epilogue.filter { $0 == .add }.count
      (steps, residual) = try fusedEpilogue(coreOperands: op.operands.count - adds)
      core.attributes.values["epilogue"] = nil
      core.operands.removeLast(adds)
      guard op.results.count == 1 else { throw unsupported("an epilogue on \(op.results.count) results") }
    }
    var innerContext = OpContext(cg: cg, op: core, function: function, constants: constants,
                                 constantNames: constantNames, symbol: symbol + ".f32")
    innerContext.widened = true
    let inner = try lowerF32(innerContext)

    func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }
    var offset = aligned(inner.scratchBytes)
    /// Float offsets into scratch of each widened operand and result (nil: passed as is).
    func place(_ v: ValueID) -> Int? {
      let t = type(v)
      guard t.element.isHalf else { return nil }
      defer { offset += aligned(t.count * 4) }
      return offset / 4
    }
    let operandSlots = core.operands.map(place), resultSlots = op.results.map(place)

    let f = try defineKernel(threaded: { results, operands, scratch, threads in
      func widened(_ slot: Int?, _ p: Value) -> Value { slot.map { cg.at(scratch, $0) } ?? p }
      for (i, slot) in operandSlots.enumerated() {
        guard let slot else { continue }
        let e = type(op.operands[i]).element
        cg.forLoop(0, type(op.operands[i]).count) { j in
          cg.store(.f32, cg.load(e, operands[i], j), cg.at(scratch, slot), j)
        }
      }
      let args = zip(resultSlots, results).map { widened($0, $1) } + zip(operandSlots, operands.prefix(core.operands.count)).map { widened($0, $1) }
      cg.call(function: inner.function, args + [scratch, threads])
      for (i, slot) in resultSlots.enumerated() {
        guard let slot else { continue }
        let e = type(op.results[i]).element
        cg.forLoop(0, type(op.results[i]).count) { j in
          cg.store(e, cg.load(.f32, cg.at(scratch, slot), j), results[i], j)
        }
      }
      guard !steps.isEmpty else { return }
      // The epilogue, each step rounding through the result.
      let e = type(op.result).element
      cg.forLoop(0, type(op.result).count) { j in
        for step in steps {
          let y = cg.load(e, results[0], j)
          switch step {
          case .addResidual:
            let r = residual!
            cg.store(e, cg.fadd(y, cg.load(type(op.operands[r]).element, operands[r], j)), results[0], j)
          case .activation(.silu):
            cg.store(e, cg.sigmoid(y), results[0], j)
            cg.store(e, cg.fmul(y, cg.load(e, results[0], j)), results[0], j)
          case let .activation(a):
            cg.store(e, cg.apply(a, y), results[0], j)
          }
        }
      }
    })
    return OpKernel(function: f, embeddedOperands: inner.embeddedOperands, scratchBytes: offset)
  }
}
