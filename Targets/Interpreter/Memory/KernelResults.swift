//===--- KernelResults.swift - where a kernel writes its results -----------===//
//
// A kernel asks `k.result(i, of: T.self) { p in ... }` for result `i`: with a destination
// (a slot of the interpreter's arena, possibly an operand's slot when the plan runs the
// op in place) the elements are written there; without one (constant folding, tests) a
// new owned tensor is allocated. `zeroed` clears the slot first, for kernels that
// accumulate into their output.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SparrowIR

extension KernelArgs {
  /// Where result `i` must be written; nil when the kernel allocates it.
  func destination(_ i: Int) -> UnsafeMutableRawPointer? {
    i < destinations.count ? destinations[i] : nil
  }

  /// These arguments without destinations: every result allocated by the kernel.
  var allocatingResults: KernelArgs {
    KernelArgs(kind: kind, attributes: attributes, refs: inputs, resultTypes: resultTypes)
  }

  /// These arguments with other inputs (and the same results and destinations).
  func with(inputs: [TensorRef]) -> KernelArgs {
    KernelArgs(kind: kind, attributes: attributes, refs: inputs, resultTypes: resultTypes,
               destinations: destinations, scratch: scratch)
  }

  /// Result `i`, whose elements `fill` writes (every element, unless `zeroed`).
  func result<T: TensorElement>(_ i: Int = 0, of: T.Type, zeroed: Bool = false,
                                _ fill: (UnsafeMutablePointer<T>) throws -> Void) rethrows -> TensorRef {
    try resultRef(resultTypes[i], of: T.self, at: destination(i), zeroed: zeroed, fill)
  }
}

/// A tensor of `type` filled by `fill`: written at `destination` when given, else owned.
@inline(__always)
func resultRef<T: TensorElement>(_ type: TensorType, of: T.Type, at destination: UnsafeMutableRawPointer?,
                                 zeroed: Bool = false,
                                 _ fill: (UnsafeMutablePointer<T>) throws -> Void) rethrows -> TensorRef {
  precondition(T.elementType == type.element || (T.self == UInt16.self && type.element.byteSize == 2),
               "filling \(type) with \(T.self)")
  if let p = destination {
    if zeroed { memset(p, 0, type.byteCount) }
    try fill(p.bindMemory(to: T.self, capacity: type.count))
    return TensorRef(type, at: p)
  }
  // Owned: a zeroed array (one plain loop; the uninitialized-capacity initializer inside
  // this generic, rethrowing helper crashes the 6.3 optimizer).
  var bytes = [UInt8](repeating: 0, count: type.byteCount)
  try bytes.withUnsafeMutableBytes { raw in
    let base = raw.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!
    try fill(base.bindMemory(to: T.self, capacity: type.count))
  }
  return Tensor(type: type, bytes: bytes).ref
}

/// A tensor of `type` whose bytes `fill` writes (all of them), for kernels that move
/// bytes whatever the element type: at `destination` when given, else owned.
func rawResult(_ type: TensorType, at destination: UnsafeMutableRawPointer?,
               _ fill: (UnsafeMutableRawPointer) throws -> Void) rethrows -> TensorRef {
  if let p = destination {
    try fill(p)
    return TensorRef(type, at: p)
  }
  var bytes = [UInt8](repeating: 0, count: type.byteCount)
  try bytes.withUnsafeMutableBytes { try fill($0.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!) }
  return Tensor(type: type, bytes: bytes).ref
}
