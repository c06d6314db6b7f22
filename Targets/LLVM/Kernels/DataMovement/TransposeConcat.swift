//===--- TransposeConcat.swift - transpose and concat (reshape is a view, no kernel) ---===//
//
// Any element type: elements move as raw bits of their size (ElementValues.swift); f32
// NCHW <-> NHWC-like transposes move 16 x 16 tiles through registers.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerTranspose() throws -> OpKernel {
    let x = shape(operand: 0), out = shape()
    let perm = attributes.ints("perm")
    let e = type(op.operands[0]).element.raw
    let inStrides = contiguousStrides(x)
    let (dims, strides) = collapseDimensions(out, [contiguousStrides(out), perm.map { inStrides[$0] }])
    if type(op.operands[0]).element == .f32, let f = blockedTranspose(dims, out: strides[0], in: strides[1]) {
      return OpKernel(function: f)
    }
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex(dims) { idx in
        let v = cg.load(e, operands[0], cg.linearOffset(idx, strides[1]))
        cg.store(e, v, results[0], cg.linearOffset(idx, strides[0]))
      }
    }
    return OpKernel(function: f)
  }

  /// A transpose whose two innermost (collapsed) dimensions swap which one is contiguous,
  /// as NCHW <-> NHWC does: out[a][b] = in[b][a] in 16 x 16 register tiles (16 vector
  /// loads along a, zips, 16 vector stores along b) instead of one element at a time at
  /// a stride of a whole plane. Nil when the dimensions do not have that form.
  private func blockedTranspose(_ dims: [Int], out: [Int], in inStrides: [Int]) -> Value? {
    let n = dims.count, lanes = cg.lanes
    guard n >= 2, out[n - 1] == 1, inStrides[n - 2] == 1, out[n - 2] == dims[n - 1],
          dims[n - 1] >= lanes / 2, dims[n - 2] >= lanes / 2 else { return nil }
    let (extentA, extentB, inRow) = (dims[n - 2], dims[n - 1], inStrides[n - 1])
    return defineKernel { results, operands, _ in
      cg.forEachIndex(Array(dims.prefix(n - 2))) { idx in
        let source = cg.at(operands[0], cg.linearOffset(idx, Array(inStrides.prefix(n - 2))))
        let destination = cg.at(results[0], cg.linearOffset(idx, Array(out.prefix(n - 2))))
        // One tile: rows b0 ..< b0+rows of `in` (each `columns` long from a0) to rows
        // a0 ..< a0+columns of `out`.
        func tile(_ a0: Value, _ b0: Value, rows: Int, columns: Int) {
          let vectors = (0..<rows).map { r in
            cg.load(vectorAt: cg.at(source, cg.add(cg.mul(cg.add(b0, r), inRow), a0)), lanes: columns)
          }
          cg.storeTransposed(vectors, cg.at(destination, cg.add(cg.mul(a0, extentB), b0)), stride: cg.int(extentB),
                             firstColumn: 0, columns: columns)
        }
        // b innermost: each pass writes `columns` whole rows of `out` (sequential stores).
        func rowsOfOut(_ a0: Value, columns: Int) {
          if extentB / lanes > 0 {
            cg.forLoop(0, extentB / lanes * lanes, step: lanes) { b0 in tile(a0, b0, rows: lanes, columns: columns) }
          }
          if extentB % lanes > 0 { tile(a0, cg.int(extentB / lanes * lanes), rows: extentB % lanes, columns: columns) }
        }
        if extentA / lanes > 0 {
          cg.forLoop(0, extentA / lanes * lanes, step: lanes) { a0 in rowsOfOut(a0, columns: lanes) }
        }
        if extentA % lanes > 0 { rowsOfOut(cg.int(extentA / lanes * lanes), columns: extentA % lanes) }
      }
    }
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
