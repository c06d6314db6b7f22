//===--- Movement.swift - transpose and concat (reshape is a view, no kernel) ---===//
//
// Any element type: elements move as raw bits of their size (ElementValues.swift).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerTranspose() throws -> OpKernel {
    let x = shape(operand: 0), out = shape()
    let perm = attributes.ints("perm")
    let e = type(op.operands[0]).element.raw
    let inStrides = contiguousStrides(x)
    let (dims, strides) = collapseDimensions(out, [contiguousStrides(out), perm.map { inStrides[$0] }])
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex(dims) { idx in
        let v = cg.load(e, operands[0], cg.linearOffset(idx, strides[1]))
        cg.store(e, v, results[0], cg.linearOffset(idx, strides[0]))
      }
    }
    return OpKernel(function: f)
  }

  func lowerConcat() throws -> OpKernel {
    let out = shape()
    let axis = attributes.int("axis")
    let e = type(op.result).element
    let outer = out[..<axis].reduce(1, *), inner = out[(axis + 1)...].reduce(1, *)
    let total = out[axis] * inner
    let f = defineKernel { results, operands, _ in
      var offset = 0
      for (k, src) in operands.enumerated() {
        let chunk = shape(operand: k)[axis] * inner
        if chunk > 0 {
          let start = offset
          cg.forLoop(0, outer) { o in
            cg.copyElements(e, from: src, cg.mul(o, chunk),
                            to: results[0], cg.add(cg.mul(o, total), start), count: chunk)
          }
        }
        offset += chunk
      }
    }
    return OpKernel(function: f)
  }
}
