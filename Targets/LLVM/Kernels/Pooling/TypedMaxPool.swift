//===--- TypedMaxPool.swift - max_pool of every element type, with indices ---===//
//
// max_pool on values other than f32, or with its second result (each maximum's flat index
// into the input), following the interpreter (Interpreter/Kernels/Pool.swift):
//
//   values   f32, f64, f16/bf16 (in f32); integers up to 32 bits in f64 (exact), the
//            result converted as `cast` (an all-padding window's -inf becomes 0)
//   maximum  without indices: v >= best ? v : best from -inf (a NaN tap is skipped);
//            with indices: the first tap, then each tap strictly greater
//   indices  n, c, spatial... row-major, or with storage_order = 1 column-major over the
//            spatial axes (the first varies fastest); 0 for a window of padding only
//
// Taps outside the input are skipped. One output element per iteration, 1-3 spatial axes.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// Whether Pooling.swift's f32 kernels do not apply: other values or the indices result.
  var needsTypedMaxPool: Bool {
    op.kind == .max_pool && (op.results.count == 2 || type(op.operands[0]).element != .f32)
  }

  func lowerTypedMaxPool() throws -> OpKernel {
    let e = type(op.operands[0]).element, x = shape(operand: 0), y = shape()
    let rank = x.count - 2
    guard (1...3).contains(rank) else { throw unsupported("\(rank) spatial axes (1 to 3 are supported)") }
    guard e.isFloat || (e.isInteger && e.byteSize <= 4) else { throw unsupported("\(e) values") }
    guard op.results.count == 1 || type(op.results[1]).element == .i64 else {
      throw unsupported("\(type(op.results[1])) indices")
    }
    let a = attributes
    let kernel = a.ints("kernel"), strides = a.ints("strides"), pads = a.ints("pads")
    let dilations = a.ints("dilations"), order = a.int("storage_order")
    guard order == 0 || order == 1 else { throw unsupported("storage_order \(order)") }
    let wantIndices = op.results.count == 2
    let input = Array(x[2...]), inputSize = input.reduce(1, *)
    let inStrides = Array(contiguousStrides(x)[2...])
    // The flat spatial index's strides, per storage order.
    let indexStrides = order == 0 ? inStrides : input.indices.map { input[..<$0].reduce(1, *) }
    let wide: ElementType = e.isInteger ? .f64 : e
    let outShape = [x[0] * x[1]] + Array(y[2...])

    let f = defineKernel { results, operands, _ in
      let b = cg.builder
      cg.forEachIndex(outShape) { idx in
        let base = cg.mul(idx[0], inputSize)
        let out = Array(idx[1...])
        // Nested loops over the window carrying (best, its spatial index or -1).
        func nest(_ d: Int, _ carried: [Value], _ valid: Value, _ offset: Value, _ index: Value) -> [Value] {
          if d == rank {
            let v = cg.convert(cg.load(e, operands[0], cg.add(base, offset)), from: e, to: wide)
            let take: Value
            if wantIndices {
              let first = cg.icmp(LLVMIntSLT, carried[1], cg.int(0))
              take = LLVMBuildOr(b, first, LLVMBuildFCmp(b, LLVMRealOGT, v, carried[0], "")!, "")!
            } else {
              take = LLVMBuildFCmp(b, LLVMRealOGE, v, carried[0], "")!
            }
            let use = LLVMBuildAnd(b, valid, take, "")!
            return [cg.select(use, v, carried[0]), cg.select(use, index, carried[1])]
          }
          return cg.forLoop(cg.int(0), cg.int(kernel[d]), carrying: carried) { k, values in
            let i = cg.add(cg.sub(cg.mul(out[d], strides[d]), cg.int(pads[d])), cg.mul(k, dilations[d]))
            let inside = LLVMBuildAnd(b, valid, cg.inRange(i, input[d]), "")!
            let at = cg.clamp(i, input[d])
            return nest(d + 1, values, inside, cg.add(offset, cg.mul(at, inStrides[d])),
                        cg.add(index, cg.mul(at, indexStrides[d])))
          }
        }
        let yes = LLVMConstInt(cg.i1, 1, 0)!
        let best = nest(0, [cg.constant(-.infinity, as: wide), cg.int(-1)], yes, cg.int(0), cg.int(0))
        let o = cg.linearOffset(idx, contiguousStrides(outShape))
        cg.store(e, cg.convert(best[0], from: wide, to: e), results[0], o)
        if wantIndices {
          let spatial = cg.select(cg.icmp(LLVMIntSLT, best[1], cg.int(0)), cg.int(0), best[1])
          cg.store(.i64, cg.add(base, spatial), results[1], o)
        }
      }
    }
    return strict(OpKernel(function: f))
  }
}
