//===--- DataDependent.swift - NonZero, Unique, NonMaxSuppression ---------===//
//
// These ops' output shapes depend on their input values, and every IR value has a static
// shape. When the input is known at compile time (a constant, a folded value or a frozen
// input) NonZero and Unique are evaluated at import (as numpy does: NonZero's indices in
// row-major order; Unique's sorted or first-occurrence order, with indices, inverse
// indices and counts). Otherwise, and always for NonMaxSuppression, the diagnostic says
// why the op is refused and which inputs to freeze. No bounded-shape form is designed.

import SparrowIR

let dataDependentConverters: [String: Converter] = [
  "NonZero": { n in
    let x = try dataDependentInput(n, 0)
    let shape = x.shape, strides = contiguousStrides(shape)
    guard !shape.isEmpty else { throw n.error("NonZero of a scalar is not supported") }
    let hits = (0..<x.count).filter { x.double(at: $0) != 0 }
    guard !hits.isEmpty else { throw n.error("NonZero finds no non-zero element; empty tensors are not supported") }
    var coordinates = [Int64](repeating: 0, count: shape.count * hits.count)
    for (k, flat) in hits.enumerated() {
      for d in shape.indices { coordinates[d * hits.count + k] = Int64(flat / strides[d] % shape[d]) }
    }
    return [n.constant(Tensor(shape: [shape.count, hits.count], scalars: coordinates), "indices")]
  },
  "Unique": convertUnique,
  "NonMaxSuppression": { n in
    throw n.error("NonMaxSuppression's output shape depends on the boxes and scores, and every IR value has a static shape; it is not supported")
  },
]

private func dataDependentInput(_ n: ONNXNode, _ i: Int) throws -> Tensor {
  try n.compileTimeInput(i, "input", because: "\(n.opType)'s output shape depends on its values and IR shapes are static, so Sparrow evaluates it at import")
}

private func convertUnique(_ n: ONNXNode) throws -> [ValueID] {
  let x = try dataDependentInput(n, 0)
  guard x.count > 0 else { throw n.error("Unique of an empty tensor is not supported") }
  let axis = try n.optionalInt("axis").map { try n.axis($0, rank: x.shape.count) }
  let sorted = try n.int("sorted", 1) != 0
  // Rows: the slices along `axis` (elements when there is no axis), as values in order.
  let shape = axis == nil ? [x.count] : x.shape
  let a = axis ?? 0
  let strides = contiguousStrides(shape)
  let rowCount = shape[a], inner = strides[a], outer = shape[..<a].reduce(1, *)
  let rows: [[Double]] = (0..<rowCount).map { r in
    (0..<outer).flatMap { o in (0..<inner).map { i in x.double(at: o * rowCount * inner + r * inner + i) } }
  }
  var firstOf: [[Double]: Int] = [:]
  var order: [Int] = []  // first occurrences, in input order
  for (r, row) in rows.enumerated() where firstOf[row] == nil {
    firstOf[row] = r
    order.append(r)
  }
  if sorted { order.sort { rows[$0].lexicographicallyPrecedes(rows[$1]) } }
  var position: [[Double]: Int] = [:]
  for (k, r) in order.enumerated() { position[rows[r]] = k }
  let inverse = rows.map { Int64(position[$0]!) }
  var counts = [Int64](repeating: 0, count: order.count)
  for i in inverse { counts[Int(i)] += 1 }
  var outShape = shape
  outShape[a] = order.count
  let flat = Tensor(type: TensorType(x.element, shape), bytes: x.bytes)
  let y = gatherElements(flat, TensorType(x.element, outShape)) { idx in
    var s = 0
    for d in idx.indices { s += (d == a ? order[idx[d]] : idx[d]) * strides[d] }
    return s
  }
  return [n.constant(y, "unique"), n.constant(Tensor(shape: [order.count], scalars: order.map { Int64($0) }), "indices"),
          n.constant(Tensor(shape: [rowCount], scalars: inverse), "inverse_indices"),
          n.constant(Tensor(shape: [order.count], scalars: counts), "counts")]
}
