//===--- Quantize.swift - quantize_linear / dequantize_linear ---===//
//
// The interpreter's rules (Interpreter/Kernels/Quantize.swift):
//
//   quantize:   y = saturate(round_half_even(x / scale) + zero_point)   (type of zero_point)
//   dequantize: y = f32(i64(x) - i64(zero_point)) * scale               (type of scale)
//
// x / scale is one f32 division (x of f16/bf16 widens, i32 converts to f32 first); the
// rounded quotient plus the zero point is clamped in f64 and converted as `cast` (NaN
// becomes 0). Halves among the scales widen on load; a half result rounds on store.
// Scales (and zero points, same shape) are per tensor, per axis (a vector along `axis`)
// or blocked (`block_size` > 0: same rank as x, ceil(d / block_size) along `axis`).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerQuantize() throws -> OpKernel {
    let quantize = op.kind == .quantize_linear
    let xe = type(op.operands[0]).element, scaleE = type(op.operands[1]).element
    let zeroE = type(op.operands[2]).element, result = type(op.result).element
    let x = shape(operand: 0), scales = shape(operand: 1)
    guard [.f32, .f16, .bf16].contains(scaleE) else { throw unsupported("\(scaleE) scales") }
    if quantize {
      guard [.f32, .f16, .bf16, .i32].contains(xe) else { throw unsupported("\(xe) input") }
      guard zeroE.isInteger else { throw unsupported("\(zeroE) results") }
    } else {
      guard xe.isInteger else { throw unsupported("\(xe) input") }
      guard zeroE == xe else { throw unsupported("a \(zeroE) zero point for \(xe) input") }
    }
    guard shape(operand: 2).reduce(1, *) == scales.reduce(1, *) else {
      throw unsupported("a zero point of shape \(shape(operand: 2)) for scales \(scales)")
    }

    // The [outer, axis, inner] view of x and each element's scale index.
    let count = scales.reduce(1, *), block = attributes.int("block_size"), axis = attributes.int("axis")
    let perTensor = count == 1 && block == 0
    guard perTensor || x.indices.contains(axis) else { throw unsupported("axis \(axis) of \(x)") }
    let axisSize = perTensor ? 1 : x[axis]
    let inner = perTensor ? x.reduce(1, *) : x[(axis + 1)...].reduce(1, *)
    let outer = perTensor ? 1 : x[..<axis].reduce(1, *)
    let blockSize = max(block, 1), blocks = (axisSize + blockSize - 1) / blockSize
    if !perTensor {
      var want = x
      want[axis] = block > 0 ? blocks : x[axis]
      guard scales == (block > 0 ? want : [x[axis]]) else {
        throw unsupported("scales of shape \(scales) for input \(x) (axis \(axis), block_size \(block))")
      }
    }

    let f = defineKernel { results, operands, _ in
      let b = cg.builder
      cg.forEachIndex([outer, axisSize, inner]) { idx in
        let at = cg.add(cg.mul(cg.add(cg.mul(idx[0], axisSize), idx[1]), inner), idx[2])
        let s: Value
        if perTensor { s = cg.int(0) }
        else if block > 0 { s = cg.add(cg.mul(cg.add(cg.mul(idx[0], blocks), cg.udiv(idx[1], blockSize)), inner), idx[2]) }
        else { s = idx[1] }
        let scale = cg.load(scaleE, operands[1], s)
        if quantize {
          let v = cg.convert(cg.load(xe, operands[0], at), from: xe, to: .f32)
          let q = cg.call("llvm.roundeven", [cg.fdiv(v, scale)])
          let double = cg.storageType(.f64)
          let zero = cg.convert(cg.load(zeroE, operands[2], s), from: zeroE, to: .f64)
          let sum = cg.fadd(LLVMBuildFPExt(b, q, double, "")!, zero)
          let lo = cg.constant(minimum(zeroE), as: .f64)
          let hi = cg.constant(maximum(zeroE), as: .f64)
          // Ordered compares: NaN passes through and converts to 0.
          let low = cg.select(LLVMBuildFCmp(b, LLVMRealOLT, sum, lo, "")!, lo, sum)
          let clamped = cg.select(LLVMBuildFCmp(b, LLVMRealOGT, low, hi, "")!, hi, low)
          cg.store(zeroE, cg.convert(clamped, from: .f64, to: zeroE), results[0], at)
        } else {
          let v = cg.convert(cg.load(xe, operands[0], at), from: xe, to: .i64)
          let zero = cg.convert(cg.load(zeroE, operands[2], s), from: zeroE, to: .i64)
          let d = LLVMBuildSIToFP(b, cg.sub(v, zero), cg.f32, "")!
          cg.store(result, cg.fmul(d, scale), results[0], at)
        }
      }
    }
    return strict(OpKernel(function: f))
  }

  /// The smallest value of integer type `e`, as a double (the interpreter's `Double(T.min)`).
  private func minimum(_ e: ElementType) -> Double {
    e.isSignedInteger ? Double(Int64.min >> (64 - e.byteSize * 8)) : 0
  }

  /// The largest value of integer type `e`, as a double (the interpreter's `Double(T.max)`).
  private func maximum(_ e: ElementType) -> Double {
    let bits = e.byteSize * 8
    if e.isSignedInteger { return Double(Int64.max >> (64 - bits)) }
    return Double(UInt64.max >> (64 - bits))
  }
}
