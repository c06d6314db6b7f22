//===--- Binary.swift - elementwise ops with numpy broadcasting -----------===//
//
// Arithmetic, comparisons, logic, bit ops, `where`, and the variadic max/min/sum/mean
// (folded left to right over the broadcast). Integer semantics follow onnxruntime (C):
// wrapping add/sub/mul, division truncating toward zero (x / 0 gives x instead of a
// trap), `mod` with the divisor's sign unless `fmod = 1` (then the dividend's, as C `%`
// and `fmod`). `pow` may mix element types: the result has the base's type.

import SparrowIR

func evaluateBinary(_ k: KernelArgs) throws -> [TensorRef] {
  switch k.kind {
  case .where: return [try evaluateWhere(k).ref]
  case .pow: return [try evaluatePow(k).ref]
  case .and, .or, .xor: return [logic(k).ref]
  case .equal, .greater, .greater_or_equal, .less, .less_or_equal:
    let outs: [Tensor] = try computingInFloat(k.allocatingResults) { k -> [Tensor] in
      let e = k.inputs[0].element
      if e == .bool { return [try compare(k, UInt8.self)] }
      if let t = try withFloatType(e, Comparison(k: k)) ?? withIntegerType(e, Comparison(k: k)) {
        return [t]
      }
      throw k.unsupported("\(e)")
    }
    return outs.map(\.ref)
  case .max, .min, .sum, .mean:
    if k.inputs.count == 1 { return [Tensor(type: k.type(), bytes: k.inputs[0].bytes).ref] }
  default: break
  }
  return try computingInFloat(k) { k -> [TensorRef] in
    let e = k.inputs[0].element
    if let t = try withFloatType(e, FloatBinary(k: k)) ?? withIntegerType(e, IntegerBinary(k: k)) {
      return [t]
    }
    throw k.unsupported("\(e)")
  }
}

/// Folds `op` over the operands left to right, each step broadcasting into its own shape;
/// the last step writes the result at its destination.
@inline(__always)
private func fold<T: TensorElement>(_ k: KernelArgs, _: T.Type, _ op: (T, T) -> T) -> TensorRef {
  var acc = k.inputs[0]
  for (i, b) in k.inputs.dropFirst().enumerated() {
    let last = i == k.inputs.count - 2
    let shape = last ? k.type().shape : (try? broadcastShapes([acc.shape, b.shape]))!
    let type = TensorType(T.elementType, shape)
    acc = acc.withElements(T.self) { pa in
      b.withElements(T.self) { pb in
        resultRef(type, of: T.self, at: last ? k.destination(0) : nil) { po in
          binaryMap(pa, acc.shape, pb, b.shape, po, shape, op)
        }
      }
    }
  }
  return acc
}

// MARK: - Floats

private struct FloatBinary: FloatKernel {
  let k: KernelArgs

  func run<T: KernelFloat>(_: T.Type) throws -> TensorRef {
    switch k.kind {
    case .add, .sum: return fold(k, T.self, +)
    case .sub: return fold(k, T.self, -)
    case .mul: return fold(k, T.self, *)
    case .div: return fold(k, T.self, /)
    // NaN propagates (as onnxruntime's Max/Min).
    case .max: return fold(k, T.self) { $0.isNaN || $0 > $1 ? $0 : $1 }
    case .min: return fold(k, T.self) { $0.isNaN || $0 < $1 ? $0 : $1 }
    case .mean:
      let s = fold(k.allocatingResults, T.self, +)
      let scale = 1 / T(k.inputs.count)
      return mapTensor(s, T.self, to: k.type()) { $0 * scale }.ref
    case .mod:
      if k.attributes.bool("fmod") { return fold(k, T.self) { T.fmod($0, $1) } }
      return fold(k, T.self) { a, b in
        let r = T.fmod(a, b)
        return r != 0 && (r < 0) != (b < 0) ? r + b : r
      }
    case .prelu: return fold(k, T.self) { x, slope in x < 0 ? slope * x : x }
    default: throw k.unsupported("\(T.elementType)")
    }
  }
}

// MARK: - Integers

private struct IntegerBinary: IntegerKernel {
  let k: KernelArgs

  func run<T: KernelInteger>(_: T.Type) throws -> TensorRef {
    switch k.kind {
    case .add, .sum: return fold(k, T.self, &+)
    case .sub: return fold(k, T.self, &-)
    case .mul: return fold(k, T.self, &*)
    case .div: return fold(k, T.self) { $0.dividedReportingOverflow(by: $1).partialValue }
    case .max: return fold(k, T.self) { Swift.max($0, $1) }
    case .min: return fold(k, T.self) { Swift.min($0, $1) }
    case .mod:
      if k.attributes.bool("fmod") {
        return fold(k, T.self) { $0.remainderReportingOverflow(dividingBy: $1).partialValue }
      }
      return fold(k, T.self) { a, b in
        let r = a.remainderReportingOverflow(dividingBy: b).partialValue
        return r != 0 && (r < 0) != (b < 0) ? r &+ b : r
      }
    case .prelu: return fold(k, T.self) { x, slope in x < 0 ? slope &* x : x }
    case .bitwise_and: return fold(k, T.self, &)
    case .bitwise_or: return fold(k, T.self, |)
    case .bitwise_xor: return fold(k, T.self, ^)
    case .bit_shift:
      // The shift amount is read as unsigned (a negative amount is a huge one), and an
      // amount of the bit width or more shifts every bit out: LEFT gives 0, RIGHT fills
      // with the sign (arithmetic for signed types), as onnxruntime.
      switch k.attributes.string("direction") {
      case "LEFT": return fold(k, T.self) { $0 << T.Magnitude(truncatingIfNeeded: $1) }
      case "RIGHT": return fold(k, T.self) { $0 >> T.Magnitude(truncatingIfNeeded: $1) }
      case let d: throw k.unsupported("direction \"\(d)\" (use \"LEFT\" or \"RIGHT\")")
      }
    default: throw k.unsupported("\(T.elementType)")
    }
  }
}

// MARK: - Comparisons, logic, where

private struct Comparison: FloatKernel, IntegerKernel {
  let k: KernelArgs
  func run<T: KernelFloat>(_: T.Type) throws -> Tensor { try compare(k, T.self) }
  func run<T: KernelInteger>(_: T.Type) throws -> Tensor { try compare(k, T.self) }
}

private func compare<T: TensorElement & Comparable>(_ k: KernelArgs, _: T.Type) throws -> Tensor {
  let a = k.inputs[0], b = k.inputs[1]
  let (ta, tb) = T.self == UInt8.self ? (a.asBytes, b.asBytes) : (a, b)
  func run(_ f: (T, T) -> Bool) -> Tensor {
    ta.withElements(T.self) { pa in
      tb.withElements(T.self) { pb in
        makeTensor(k.type(), of: Bool.self) { po in binaryMap(pa, a.shape, pb, b.shape, po, k.type().shape, f) }
      }
    }
  }
  switch k.kind {
  case .equal: return run(==)
  case .greater: return run(>)
  case .greater_or_equal: return run(>=)
  case .less: return run(<)
  case .less_or_equal: return run(<=)
  default: preconditionFailure("\(k.kind) is no comparison")
  }
}

extension TensorBytes {
  /// A bool tensor's bytes viewed as u8 (0 or 1).
  var asBytes: TensorRef {
    let t = type.element == .bool ? type.with(element: .u8) : type
    if let r = self as? TensorRef { return r.reinterpreted(as: t) }
    return Tensor(type: t, bytes: bytes).ref
  }
}

private func logic(_ k: KernelArgs) -> Tensor {
  let a = k.inputs[0].asBytes, b = k.inputs[1].asBytes
  let f: (UInt8, UInt8) -> UInt8
  switch k.kind {
  case .and: f = { $0 & $1 }
  case .or: f = { $0 | $1 }
  default: f = { $0 ^ $1 }
  }
  let bytes = a.withElements(UInt8.self) { pa in
    b.withElements(UInt8.self) { pb in
      makeTensor(k.type().with(element: .u8), of: UInt8.self) { po in
        binaryMap(pa, a.shape, pb, b.shape, po, k.type().shape, f)
      }
    }
  }
  return Tensor(type: k.type(), bytes: bytes.bytes)
}

/// `where` moves bytes unchanged, so it runs on unsigned types of the element's size.
private func evaluateWhere(_ k: KernelArgs) throws -> Tensor {
  let sized: ElementType = [1: .u8, 2: .u16, 4: .u32, 8: .u64][k.type().element.byteSize]!
  func raw(_ t: TensorRef) -> TensorRef { t.reinterpreted(as: t.type.with(element: sized)) }
  let inner = KernelArgs(kind: .where, attributes: k.attributes,
                         refs: [k.inputs[0].asBytes, raw(k.inputs[1]), raw(k.inputs[2])],
                         resultTypes: [k.type().with(element: sized)])
  let out: Tensor
  switch sized {
  case .u8: out = whereSized(inner, UInt8.self)
  case .u16: out = whereSized(inner, UInt16.self)
  case .u32: out = whereSized(inner, UInt32.self)
  default: out = whereSized(inner, UInt64.self)
  }
  return Tensor(type: k.type(), bytes: out.bytes)
}

private func whereSized<T: TensorElement>(_ k: KernelArgs, _: T.Type) -> Tensor {
  let c = k.inputs[0], a = k.inputs[1], b = k.inputs[2]
  return c.withElements(UInt8.self) { pc in
    a.withElements(T.self) { pa in
      b.withElements(T.self) { pb in
        makeTensor(k.type(), of: T.self) { po in
          ternaryMap(pc, c.shape, pa, a.shape, pb, b.shape, po, k.type().shape) { $0 != 0 ? $1 : $2 }
        }
      }
    }
  }
}

// MARK: - pow

/// Same-type float pow in that type; any other mix through Double, converted to the
/// base's type as `cast` does (integers truncate).
private func evaluatePow(_ k: KernelArgs) throws -> Tensor {
  let x = k.inputs[0], y = k.inputs[1]
  guard x.element != .bool && y.element != .bool else { throw k.unsupported("bool") }
  if x.element == .f32 && y.element == .f32 {
    return x.withElements(Float.self) { px in
      y.withElements(Float.self) { py in
        makeTensor(k.type(), of: Float.self) { po in
          binaryMap(px, x.shape, py, y.shape, po, k.type().shape) { a, b in
            b == 2 ? a * a : Float.pow(a, b)
          }
        }
      }
    }
  }
  let dx = castTensor(x, to: x.type.with(element: .f64))
  let dy = castTensor(y, to: y.type.with(element: .f64))
  let wide = dx.withElements(Double.self) { px in
    dy.withElements(Double.self) { py in
      makeTensor(k.type().with(element: .f64), of: Double.self) { po in
        binaryMap(px, x.shape, py, y.shape, po, k.type().shape) { Double.pow($0, $1) }
      }
    }
  }
  return castTensor(wide, to: k.type())
}
