//===--- TensorRef.swift - a tensor the kernels read: owned bytes or arena memory ---===//
//
// Kernels read their operands through `TensorRef`: a type plus either an owned `Tensor`
// (inputs, constants, results of the fallback kernels before they are placed) or a
// pointer into memory the interpreter manages (a slot of the run's arena). The read API
// mirrors `Tensor`'s, so a kernel body does not care where its operands live.

import SparrowIR

public struct TensorRef {
  public let type: TensorType
  let storage: Storage

  enum Storage {
    case owned(Tensor)
    case memory(UnsafeMutableRawPointer)
  }

  /// Wraps an owned tensor (no copy).
  public init(_ tensor: Tensor) {
    type = tensor.type
    storage = .owned(tensor)
  }

  /// The `type.byteCount` bytes at `base` (memory the caller keeps alive and unmoved).
  init(_ type: TensorType, at base: UnsafeMutableRawPointer) {
    self.type = type
    storage = .memory(base)
  }


  /// The arena address, when the bytes live in interpreter-managed memory.
  var address: UnsafeMutableRawPointer? {
    if case let .memory(p) = storage { return p }
    return nil
  }

  /// The same bytes under another type of the same byte count (a view: reshape, identity).
  func reinterpreted(as newType: TensorType) -> TensorRef {
    precondition(newType.byteCount == type.byteCount, "viewing \(type) as \(newType)")
    switch storage {
    case let .owned(t): return TensorRef(Tensor(type: newType, bytes: t.bytes))
    case let .memory(p): return TensorRef(newType, at: p)
    }
  }

  /// An owned copy (results handed back to callers, fallback kernels' inputs).
  public var tensor: Tensor {
    switch storage {
    case let .owned(t): return t
    case .memory: return Tensor(type: type, bytes: withUnsafeBytes { [UInt8]($0) })
    }
  }

  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    switch storage {
    case let .owned(t): return try t.bytes.withUnsafeBytes(body)
    case let .memory(p): return try body(UnsafeRawBufferPointer(start: p, count: type.byteCount))
    }
  }

}

extension Tensor {
  /// This tensor as a kernel operand (no copy).
  var ref: TensorRef { TensorRef(self) }
}

/// What kernels read: a type and its bytes (`Tensor` and `TensorRef`).
protocol TensorBytes {
  var type: TensorType { get }
  func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension TensorRef: TensorBytes {}

extension TensorBytes {
  var shape: [Int] { type.shape }
  var bytes: [UInt8] { withUnsafeBytes { [UInt8]($0) } }

  func array<T: TensorElement>(of: T.Type) -> [T] {
    precondition(T.elementType == type.element, "reading \(type.element) tensor as \(T.elementType)")
    return withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
  }

  func withUnsafeBuffer<T: TensorElement, R>(
    of: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R
  ) rethrows -> R {
    precondition(T.elementType == type.element, "reading \(type.element) tensor as \(T.elementType)")
    return try withUnsafeBytes { try body($0.bindMemory(to: T.self)) }
  }

  /// Element `i` as Double / Int64 (as `Tensor.double(at:)`): for shape math, not loops.
  func double(at i: Int) -> Double { scalar(at: i).double(at: 0) }
  func int64(at i: Int) -> Int64 { scalar(at: i).int64(at: 0) }
  var ints: [Int] { Tensor(type: type, bytes: bytes).ints }
  var doubles: [Double] { Tensor(type: type, bytes: bytes).doubles }

  /// Element `i` as a rank-0 tensor.
  private func scalar(at i: Int) -> Tensor {
    let size = type.element.byteSize
    return withUnsafeBytes { raw in
      Tensor(type: TensorType(type.element, []), bytes: [UInt8](raw[i * size ..< (i + 1) * size]))
    }
  }
}
extension Tensor: TensorBytes {
  func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes(body)
  }
}
