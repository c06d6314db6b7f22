//===--- Transpose.swift - host-side 2-D transposes of arrays and tensors ---===//
//
//   [a b c]      [a d]
//   [d e f]  =>  [b e]
//                [c f]
//
// The one transpose of row-major matrices on the host: passes transpose constant weights
// (sparsify, fold-qdq), the LLVM target packs weights, the driver's benchmarks build
// operands. Generated kernels transpose with their own vector code.

/// The transpose of a row-major `rows` x `columns` matrix.
public func transposedMatrix<T>(_ x: [T], rows: Int, columns: Int) -> [T] {
  precondition(x.count == rows * columns, "transposedMatrix: \(x.count) elements for \(rows)x\(columns)")
  guard let first = x.first else { return [] }
  var out = [T](repeating: first, count: x.count)
  for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = x[r * columns + c] } }
  return out
}

extension Tensor {
  /// The transpose of a rank-2 tensor, any element type (moved as whole elements' bytes).
  public func transposed2D() -> Tensor {
    precondition(shape.count == 2, "transposed2D of \(type)")
    let (rows, columns, size) = (shape[0], shape[1], element.byteSize)
    var out = [UInt8](repeating: 0, count: bytes.count)
    bytes.withUnsafeBufferPointer { a in
      for r in 0..<rows {
        for c in 0..<columns {
          for b in 0..<size { out[(c * rows + r) * size + b] = a[(r * columns + c) * size + b] }
        }
      }
    }
    return Tensor(type: TensorType(element, [columns, rows]), bytes: out)
  }
}
