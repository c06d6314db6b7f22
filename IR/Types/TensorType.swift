//===--- TensorType.swift - static tensor types with a sparse layout ----===//
//
//   tensor<1x64xf32>   tensor<f32> (rank 0)   tensor<10x64xf32, #nm<2,4>>
//   tensor<1x64xu8, #quant<0.02:128>>   tensor<10x64xi8, #nm<2,4>, #quant<axis=0, ...>>
//
// Sparsity is a property of the type (as MLIR's sparse_tensor encodings): a `gemm` whose
// weight has an `#nm<2,4>` type is the sparse GEMM. Quantization is too
// (Quantization.swift): the element type is then the storage type.

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
  /// Scales and zero points when the elements are quantized reals; nil for plain values.
  public var quantization: Quantization?

  public init(_ element: ElementType, _ shape: [Int], layout: SparseLayout? = nil,
              quantization: Quantization? = nil) {
    self.element = element
    self.shape = shape
    self.layout = layout
    self.quantization = quantization
  }

  public var rank: Int { shape.count }
  public var count: Int { shape.reduce(1, *) }
  public var byteCount: Int { count * element.byteSize }

  /// The type of the stored buffer: without a sparse layout or a quantization.
  public var dense: TensorType { TensorType(element, shape) }

  /// The same type with `quantization` (nil drops it).
  public func with(quantization: Quantization?) -> TensorType {
    TensorType(element, shape, layout: layout, quantization: quantization)
  }

  public func with(element: ElementType) -> TensorType { TensorType(element, shape, layout: layout) }
  public func with(shape: [Int]) -> TensorType { TensorType(element, shape) }

  public var description: String {
    let dims = shape.map { "\($0)x" }.joined()
    let suffix = (layout.map { ", \($0)" } ?? "") + (quantization.map { ", \($0)" } ?? "")
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
