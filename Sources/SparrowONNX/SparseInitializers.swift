//===--- SparseInitializers.swift - ONNX SparseTensorProto to a constant ---===//
//
// A sparse initializer is COO: `values` [NNZ] and `indices`, either [NNZ] linearized
// indices or [NNZ, rank] index tuples, over the dense shape `dims`. onnx.proto requires the
// indices in ascending order without duplicates (lexicographic for tuples, which is the
// ascending order of their linearized form).
//
// The import checks all of that and writes the values into a zero-filled dense tensor: a
// plain constant whose zeros `analyze-sparsity` and `sparsify` see like any pruned weight's,
// so the layer gets the format its pattern supports (N:M, BSR, CSR) and its cost model
// picks. A malformed sparse initializer is a diagnostic naming the value at fault.

import SparrowIR

/// Reads a sparse initializer as a dense tensor holding its values at its indices; the
/// dense tensor may take at most `maxBytes`.
func makeTensor(_ s: Onnx_SparseTensorProto, root: ExternalDataRoot, what: String,
                maxBytes: Int = 1 << 30) throws -> Tensor {
  guard s.hasValues else { throw Diagnostic("\(what) has no values tensor") }
  guard s.dims.allSatisfy({ $0 >= 0 }) else { throw Diagnostic("\(what) has negative dims \(s.dims)") }
  let shape = s.dims.map { Int(truncatingIfNeeded: $0) }
  let element = try elementType(onnxCode: s.values.dataType, what: what + " values")
  let count = try denseCount(shape, maxCount: maxBytes / element.byteSize, what: what)

  let values = try makeTensor(s.values, root: root, what: what + " values")
  guard values.shape.count == 1 else {
    throw Diagnostic("\(what): values must have shape [NNZ], not \(values.shape)")
  }
  let nnz = values.count
  guard nnz <= count else {
    throw Diagnostic("\(what): \(nnz) values do not fit \(count) elements of dims \(shape)")
  }
  let linear = try linearIndices(s, nnz: nnz, shape: shape, count: count, root: root, what: what)

  var out = Tensor(zeros: TensorType(values.element, shape))
  let size = values.element.byteSize
  out.bytes.withUnsafeMutableBytes { dst in
    values.bytes.withUnsafeBytes { src in
      for (i, l) in linear.enumerated() {
        dst.baseAddress!.advanced(by: l * size)
          .copyMemory(from: src.baseAddress!.advanced(by: i * size), byteCount: size)
      }
    }
  }
  return out
}

/// The element count of `shape`, refusing overflow and more than `maxCount` elements.
private func denseCount(_ shape: [Int], maxCount: Int, what: String) throws -> Int {
  var count = 1
  for d in shape {
    let (c, overflow) = count.multipliedReportingOverflow(by: d)
    guard !overflow, c <= maxCount else {
      throw Diagnostic("\(what) is too large to hold densely (dims \(shape); Sparrow densifies sparse "
                       + "initializers and allows \(maxCount) elements)")
    }
    count = c
  }
  return count
}

/// The linearized index of every value, checked in range and strictly ascending.
private func linearIndices(_ s: Onnx_SparseTensorProto, nnz: Int, shape: [Int], count: Int,
                           root: ExternalDataRoot, what: String) throws -> [Int] {
  guard s.hasIndices else {
    guard nnz == 0 else { throw Diagnostic("\(what) has \(nnz) values but no indices tensor") }
    return []
  }
  let indices = try makeTensor(s.indices, root: root, what: what + " indices")
  guard [.i64, .i32, .i16, .i8, .u64, .u32, .u16, .u8].contains(indices.element) else {
    throw Diagnostic("\(what): indices must be integers (int64), not \(indices.element)")
  }
  let rank = shape.count
  let tuples: Bool
  if indices.shape == [nnz] {
    tuples = false
  } else if indices.shape == [nnz, rank] {
    tuples = true
  } else {
    throw Diagnostic("\(what): indices have shape \(indices.shape); \(nnz) values of a rank-\(rank) "
                     + "tensor need [\(nnz)] (linearized) or [\(nnz), \(rank)]")
  }
  let strides = contiguousStrides(shape)
  var linear: [Int] = []
  linear.reserveCapacity(nnz)
  for i in 0..<nnz {
    var l = 0
    if tuples {
      for d in 0..<rank {
        let j = indices.int64(at: i * rank + d)
        guard j >= 0, j < shape[d] else {
          throw Diagnostic("\(what): value \(i) has index \(j) in dimension \(d), outside 0..<\(shape[d])")
        }
        l += Int(j) * strides[d]
      }
    } else {
      let j = indices.int64(at: i)
      guard j >= 0, j < count else {
        throw Diagnostic("\(what): value \(i) has linearized index \(j), outside 0..<\(count) (dims \(shape))")
      }
      l = Int(j)
    }
    if let previous = linear.last, l <= previous {
      throw Diagnostic("\(what): indices must be ascending without duplicates; value \(i) "
                       + (l == previous ? "repeats the index of value \(i - 1)" : "comes before value \(i - 1)"))
    }
    linear.append(l)
  }
  return linear
}
