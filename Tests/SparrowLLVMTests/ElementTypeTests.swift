import Foundation
import SparrowIR
import SparrowInterpreter
import XCTest
@testable import SparrowLLVM
import SparrowTargetSupport
import SparrowTestSupport

/// Ops on element types other than f32 (ElementValues.swift, Elementwise/TypedElementwise.swift,
/// Reduction/AxisScans.swift, DataMovement/GatherScatter.swift, Elementwise/Quantize.swift, Pooling/TypedMaxPool.swift,
/// TypedReduction.swift, WidenedHalves.swift): the LLVM target must give the interpreter's bytes.
/// Integer inputs cover their whole range with 0, ±1, MIN and MAX mixed in (division by
/// zero, MIN / -1, overshifts); float inputs mix in NaN, ±inf, ±0 and out-of-range values.
final class ElementTypeTests: XCTestCase {
  private let all: [ElementType] = [.f32, .f16, .bf16, .f64, .i8, .u8, .i16, .u16, .i32, .u32, .i64, .u64, .bool]

  private func input(_ type: TensorType, seed: inout SeededGenerator) -> Tensor {
    func next() -> UInt64 { seed.next() >> 11 }
    let e = type.element, n = type.count
    var bytes: [UInt8] = []
    for _ in 0..<n {
      let r = next()
      func raw<T>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
      if e == .bool { bytes.append(UInt8(r & 1)); continue }
      if e.isFloat {
        let specials: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, 3e9, -3e9, 1e20, 300, -129.5]
        let x = r % 5 == 0 ? specials[Int(r / 5 % UInt64(specials.count))]
          : (Double(r % 100_000) / 100_000 - 0.5) * 20
        switch e {
        case .f32: bytes += raw(Float(x))
        case .f64: bytes += raw(x)
        case .f16: bytes += raw(Float(x).float16Bits)
        default: bytes += raw(Float(x).bfloat16Bits)
        }
        continue
      }
      let size = e.byteSize
      let signedMin: UInt64 = 1 << UInt64(size * 8 - 1)
      let specials: [UInt64] = [0, 1, UInt64.max, signedMin, signedMin - 1, 2, 7, 63]
      let v = r % 3 == 0 ? specials[Int(r / 3 % UInt64(specials.count))] : next()
      bytes += raw(v).prefix(size)
    }
    return Tensor(type: type, bytes: bytes)
  }

  /// Builds one op over arguments of `types` and compares every result with the interpreter.
  private func check(_ kind: OpKind, _ types: [TensorType], _ attributes: [String: AttributeValue] = [:],
                     results: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
    var b = Builder(module: Module(name: "typed"), function: Function(name: "main"))
    let args = types.enumerated().map { b.addArgument(name: "x\($0.offset)", type: $0.element) }
    let outs = try b.add(kind, args, attributes, resultCount: results)
    let module = b.finish(results: outs)
    var seed = SeededGenerator(seed: 99)
    let inputs = types.map { input($0, seed: &seed) }
    let want = try Interpreter.run(module, inputs: inputs)
    let got = try JITModel(module).run(inputs)
    for (g, w) in zip(got, want) {
      XCTAssertEqual(g.type, w.type, file: file, line: line)
      let message = "\(kind) \(types) -> \(w.type)"
      switch w.type.element {
      case .f32:
        for (x, y) in zip(g.array(of: Float.self), w.array(of: Float.self)) where !(x.isNaN && y.isNaN) {
          XCTAssert(x == y || abs(x - y) <= 1e-5 * max(1, abs(y)), "\(message): \(x) vs \(y)", file: file, line: line)
        }
      case .f64:
        for (x, y) in zip(g.array(of: Double.self), w.array(of: Double.self)) where !(x.isNaN && y.isNaN) {
          XCTAssert(x == y || abs(x - y) <= 1e-12 * max(1, abs(y)), "\(message): \(x) vs \(y)", file: file, line: line)
        }
      case .f16, .bf16:
        let bf16 = w.type.element == .bf16
        func floats(_ t: Tensor) -> [Float] {
          t.bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }.map {
            bf16 ? Float(bitPattern: UInt32($0) << 16) : Float(float16Bits: $0)
          }
        }
        // Computed in f32 (an ulp apart there may round to neighbouring halves). Where the
        // reference is NaN the f32 functions' no-NaNs assumption applies, as for f32 itself
        // (relu, max, exp of NaN are not NaN on the LLVM target).
        for (x, y) in zip(floats(g), floats(w)) where !y.isNaN {
          XCTAssert(x == y || abs(x - y) <= 8e-3 * max(1, abs(y)), "\(message): \(x) vs \(y)", file: file, line: line)
        }
      default:
        XCTAssertEqual(g.bytes, w.bytes, message, file: file, line: line)
      }
    }
  }

  private func t(_ e: ElementType, _ shape: [Int] = [3, 37]) -> TensorType { TensorType(e, shape) }

  func testIntegerArithmeticWrapsDividesAndShiftsAsTheInterpreter() throws {
    for e in [ElementType.i8, .u8, .i16, .u16, .i32, .u32, .i64, .u64] {
      for kind in [OpKind.add, .sub, .mul, .div, .max, .min, .bitwise_and, .bitwise_or, .bitwise_xor] {
        try check(kind, [t(e), t(e, [37])])
      }
      try check(.mod, [t(e), t(e)], ["fmod": .bool(false)])
      try check(.mod, [t(e), t(e)], ["fmod": .bool(true)])
      try check(.bit_shift, [t(e), t(e)], ["direction": .string("LEFT")])
      try check(.bit_shift, [t(e), t(e)], ["direction": .string("RIGHT")])
      for kind in [OpKind.abs, .sign, .relu, .bitwise_not] { try check(kind, [t(e)]) }
      try check(.clip, [t(e)], ["min": .float(-3.5), "max": .float(100.2)])
    }
    try check(.neg, [t(.i16)])
    try check(.pow, [t(.f32), t(.i64)])
    try check(.pow, [t(.i32), t(.i32)])
  }

  func testHalvesAndDoublesComputeAsTheInterpreter() throws {
    for e in [ElementType.f16, .bf16] {
      for kind in [OpKind.add, .mul, .div, .max] { try check(kind, [t(e), t(e, [1, 37])]) }
      for kind in [OpKind.relu, .exp, .sigmoid, .abs] { try check(kind, [t(e)]) }
    }
    for kind in [OpKind.add, .sub, .mul, .div, .max, .min] { try check(kind, [t(.f64), t(.f64)]) }
    try check(.mod, [t(.f64), t(.f64)], ["fmod": .bool(false)])
  }

  func testCastsBetweenEveryPairOfElementTypes() throws {
    for from in all {
      for to in all { try check(.cast, [t(from, [53])], ["to": .type(to)]) }
    }
  }

  func testComparisonsLogicPredicatesAndWhere() throws {
    for e in all {
      for kind in [OpKind.equal, .greater, .greater_or_equal, .less, .less_or_equal] {
        try check(kind, [t(e), t(e, [3, 1])])
      }
      try check(.where, [t(.bool, [3, 1]), t(e), t(e, [37])])
    }
    for kind in [OpKind.and, .or, .xor] { try check(kind, [t(.bool), t(.bool, [37])]) }
    try check(.not, [t(.bool)])
    for e in [ElementType.f32, .f16, .f64] {
      try check(.is_nan, [t(e)])
      try check(.is_inf, [t(e)], ["detect_positive": .bool(true), "detect_negative": .bool(false)])
    }
  }

  func testAxisScansOnEveryNumericType() throws {
    for e in [ElementType.f32, .f16, .i8, .u16, .i64, .u64] {
      for last in [false, true] {
        try check(.argmax, [t(e, [4, 19, 3])], ["axis": .int(1), "keepdims": .bool(true), "select_last_index": .bool(last)])
        try check(.argmin, [t(e, [4, 19, 3])], ["axis": .int(2), "keepdims": .bool(false), "select_last_index": .bool(last)])
      }
      for largest in [false, true] {
        try check(.top_k, [t(e, [4, 19, 3])], ["axis": .int(1), "k": .int(5), "largest": .bool(largest)], results: 2)
      }
    }
    for e in [ElementType.f32, .i32, .u64] {
      try check(.cumsum, [t(e, [4, 19])], ["axis": .int(1), "exclusive": .bool(true), "reverse": .bool(true)])
      try check(.cumsum, [t(e, [4, 19])], ["axis": .int(0)])
    }
  }

  func testMovementAndScattersOfNarrowElements() throws {
    for e in [ElementType.u8, .bool, .f16, .i16, .f64] {
      try check(.transpose, [t(e, [3, 5, 7])], ["perm": .ints([2, 0, 1])])
      try check(.concat, [t(e, [3, 5]), t(e, [3, 2])], ["axis": .int(1)])
      try check(.pad, [t(e, [3, 5])], ["mode": .string("constant"), "pads": .ints([1, 0, 2, 3]), "value": .float(-2.5)])
      try check(.pad, [t(e, [3, 5])], ["mode": .string("wrap"), "pads": .ints([4, 0, 2, 7])])
      try check(.tile, [t(e, [3, 5])], ["repeats": .ints([2, 3])])
    }
    // Indices in range: scatter/gather with constant indices.
    for e in [ElementType.i32, .f16, .u8, .f64] {
      var b = Builder(module: Module(name: "scatter"), function: Function(name: "main"))
      let x = b.addArgument(name: "x", type: t(e, [4, 6]))
      let u = b.addArgument(name: "u", type: t(e, [2, 6]))
      let idx = b.constant(Tensor(shape: [2, 6], scalars: (0..<12).map { Int64($0 % 4) - ($0 % 3 == 0 ? 4 : 0) }), name: "i")
      var outs = [try b.add1(.gather_elements, [x, idx], ["axis": .int(0)])]
      for reduction in ["none", "add", "max"] where !(e == .f16 && reduction != "none") {
        outs.append(try b.add1(.scatter_elements, [x, idx, u], ["axis": .int(0), "reduction": .string(reduction)]))
      }
      let module = b.finish(results: outs)
      var seed = SeededGenerator(seed: 7)
      let inputs = [input(t(e, [4, 6]), seed: &seed), input(t(e, [2, 6]), seed: &seed)]
      let want = try Interpreter.run(module, inputs: inputs), got = try JITModel(module).run(inputs)
      for (g, w) in zip(got, want) { XCTAssertEqual(g.bytes, w.bytes, "\(e)") }
    }
  }

  func testQuantizeAndDequantizePerTensorPerAxisAndBlocked() throws {
    for e in [ElementType.u8, .i8, .i16, .u16, .i32] {
      for scale in [ElementType.f32, .f16] {
        try check(.quantize_linear, [t(.f32), t(scale, [1]), t(e, [1])], ["axis": .int(1)])
        try check(.quantize_linear, [t(scale), t(scale, [37]), t(e, [37])], ["axis": .int(1)])
        try check(.quantize_linear, [t(.f32), t(scale, [2, 37]), t(e, [2, 37])], ["axis": .int(0), "block_size": .int(2)])
        try check(.dequantize_linear, [t(e), t(scale, [1]), t(e, [1])], ["axis": .int(1)])
        try check(.dequantize_linear, [t(e), t(scale, [3]), t(e, [3])], ["axis": .int(0)])
        try check(.dequantize_linear, [t(e), t(scale, [3, 5]), t(e, [3, 5])], ["axis": .int(1), "block_size": .int(8)])
      }
    }
    try check(.quantize_linear, [t(.i32), t(.f32, [1]), t(.u8, [1])], ["axis": .int(1)])
  }

  func testMaxPoolOfEveryTypeWithIndices() throws {
    let window: [String: AttributeValue] = [
      "kernel": .ints([3, 3]), "strides": .ints([2, 1]), "pads": .ints([1, 0, 2, 1]), "dilations": .ints([1, 2]),
    ]
    for e in [ElementType.u8, .i8, .i16, .u32, .f64, .f32] {  // the interpreter pools no f16
      if e != .f32 { try check(.max_pool, [t(e, [2, 3, 7, 9])], window) }
      for order in [0, 1] {
        try check(.max_pool, [t(e, [2, 3, 7, 9])], window.merging(["storage_order": .int(order)]) { $1 }, results: 2)
      }
    }
    try check(.max_pool, [t(.u8, [1, 2, 11])], ["kernel": .ints([4]), "strides": .ints([3]), "pads": .ints([2, 2]),
                                                "dilations": .ints([1])], results: 2)
  }

  func testReductionsOfIntegersAndBool() throws {
    let kinds: [OpKind] = [.reduce_sum, .reduce_mean, .reduce_max, .reduce_min, .reduce_prod, .reduce_l1,
                           .reduce_l2, .reduce_sum_square, .reduce_log_sum]
    for e in [ElementType.i8, .u8, .i32, .u64, .i64] {
      for kind in kinds {
        try check(kind, [t(e, [4, 19, 3])], ["axes": .ints([1]), "keepdims": .bool(true)])
        try check(kind, [t(e, [4, 19, 3])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
      }
    }
    for kind in [OpKind.reduce_max, .reduce_min] {
      try check(kind, [t(.bool, [4, 19, 3])], ["axes": .ints([1]), "keepdims": .bool(false)])
      try check(kind, [t(.bool, [2, 0, 4])], ["axes": .ints([1]), "keepdims": .bool(true)])
    }
  }

  func testHalfProductsAndReductionsWidenThroughTheF32Kernels() throws {
    for e in [ElementType.f16, .bf16] {
      try check(.matmul, [t(e, [3, 37]), t(e, [37, 5])])
      try check(.reduce_max, [t(e, [4, 19, 3])], ["axes": .ints([1]), "keepdims": .bool(true)])
    }
  }
}
