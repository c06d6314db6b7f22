//===--- TensorType.swift - static tensor types with a sparse layout ----===//
//
//   tensor<1x64xf32>   tensor<f32> (rank 0)   tensor<10x64xf32, #nm<2,4>>
//
// Sparsity is a property of the type (as MLIR's sparse_tensor encodings): a `gemm` whose
// weight has an `#nm<2,4>` type is the sparse GEMM.

/// How a weight's non-zeros are laid out; absent means dense.
public enum SparseLayout: Hashable, Sendable, CustomStringConvertible {
  /// At most `n` non-zeros in every `m` consecutive elements along the reduction axis.
  case nm(n: Int, m: Int)
  /// Block-sparse rows of `r` x `c` dense blocks.
  case bsr(r: Int, c: Int)
  /// Unstructured compressed sparse rows.
  case csr

  public var description: String {
    switch self {
    case let .nm(n, m): return "#nm<\(n),\(m)>"
    case let .bsr(r, c): return "#bsr<\(r),\(c)>"
    case .csr: return "#csr"
    }
  }
}

public struct TensorType: Hashable, Sendable, CustomStringConvertible {
  public var element: ElementType
  public var shape: [Int]
  public var layout: SparseLayout?

  public init(_ element: ElementType, _ shape: [Int], layout: SparseLayout? = nil) {
    self.element = element
    self.shape = shape
    self.layout = layout
  }

  public var rank: Int { shape.count }
  public var count: Int { shape.reduce(1, *) }
  public var byteCount: Int { count * element.byteSize }

  /// The same type without a sparse layout.
  public var dense: TensorType { TensorType(element, shape) }

  public func with(element: ElementType) -> TensorType { TensorType(element, shape, layout: layout) }
  public func with(shape: [Int]) -> TensorType { TensorType(element, shape) }

  public var description: String {
    let dims = shape.map { "\($0)x" }.joined()
    let suffix = layout.map { ", \($0)" } ?? ""
    return "tensor<\(dims)\(element.rawValue)\(suffix)>"
  }
}

/// Row-major strides of a shape, in elements.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var s = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[i] = s
    s *= shape[i]
  }
  return strides
}

/// Advances a row-major multi-index over `shape` by one (last axis fastest); after the
/// last element it wraps to all zeros.
@inlinable
public func advance(_ index: inout [Int], within shape: [Int]) {
  var axis = shape.count - 1
  while axis >= 0 {
    index[axis] += 1
    if index[axis] < shape[axis] { return }
    index[axis] = 0
    axis -= 1
  }
}
