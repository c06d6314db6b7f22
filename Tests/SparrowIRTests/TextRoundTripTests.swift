import XCTest
@testable import SparrowIR

/// Printer and parser: exact text for known modules, and parse(print(m)) == print(m).
final class TextRoundTripTests: XCTestCase {
  static let tiny = """
    module @tiny {
      const @fc.bias : tensor<4xf32> = [0.0, 1.5, -2.0, 3.0]
      const @fc.weight : tensor<4x8xf32> = [1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 4.0, 1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 4.0, 1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 4.0, 1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 4.0]
      func @main(%x: tensor<1x8xf32>) -> (tensor<1x4xf32>) {
        %w = constant @fc.weight : tensor<4x8xf32, #nm<2,4>>
        %b = constant @fc.bias : tensor<4xf32>
        %y = gemm %x, %w, %b {transB = true} : tensor<1x4xf32>
        return %y
      }
    }

    """

  func assertRoundTrips(_ text: String, options: PrintOptions = PrintOptions(inlineLimit: 1000),
                        file: StaticString = #filePath, line: UInt = #line) throws {
    let module = try parseModule(text)
    let printed = printModule(module, options: options)
    XCTAssertEqual(printed, text, file: file, line: line)
    let again = try parseModule(printed)
    XCTAssertEqual(printModule(again, options: options), printed, file: file, line: line)
    XCTAssertNoThrow(try verify(again), file: file, line: line)
  }

  /// An op's origin prints as a `loc(...)` suffix and parses back (either list alone too).
  func testOriginsRoundTrip() throws {
    let text = """
      module @m {
        const @w : tensor<2xf32> = [1.0, 2.0]
        func @main(%x: tensor<2xf32>) -> (tensor<2xf32>) {
          %w = constant @w : tensor<2xf32> loc(weights ["bn.scale", "conv.w"])
          %a = mul %x, %w : tensor<2xf32> loc(nodes ["Mul_1", "layer 2/\\"quoted\\""], weights ["s"])
          %y = relu %a : tensor<2xf32> loc(nodes ["relu"])
          return %y
        }
      }

      """
    try assertRoundTrips(text)
    let f = try parseModule(text).main
    XCTAssertEqual(f.ops[1].origin, Origin(nodes: ["Mul_1", "layer 2/\"quoted\""], weights: ["s"]))
    XCTAssertEqual(f.ops[0].origin.weights, ["bn.scale", "conv.w"])
    XCTAssertEqual(f.ops[1].diagnosticLocation, "<input>:5:5 [nodes 'Mul_1', 'layer 2/\"quoted\"'; weight 's']")
  }

  func testReadmeExampleRoundTrips() throws {
    try assertRoundTrips(Self.tiny)
    let m = try parseModule(Self.tiny)
    XCTAssertEqual(m.name, "tiny")
    XCTAssertEqual(m.constants.names, ["fc.bias", "fc.weight"])
    XCTAssertEqual(m.constants["fc.bias"]?.array(of: Float.self), [0, 1.5, -2, 3])
    let f = m.main
    XCTAssertEqual(f.ops.map(\.kind), [.constant, .constant, .gemm])
    XCTAssertEqual(f.type(of: f.ops[0].result), TensorType(.f32, [4, 8], layout: .nm(n: 2, m: 4)))
    XCTAssertEqual(f.ops[2].attributes.values, ["transB": .bool(true)])
    XCTAssertEqual(f.ops[2].location, "<input>:7:5")
  }

  func testBuilderModulePrintsExpectedText() throws {
    var b = Builder(module: Module(name: "net"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [2, 3]))
    let t = try b.add1(.transpose, [x], ["perm": .ints([1, 0])], name: "t")
    let parts = try b.add(.split, [t], ["axis": .int(0), "sizes": .ints([1, 2])], names: ["a", "b"])
    let r = try b.add1(.leaky_relu, [parts[1]], ["alpha": .float(0.1)], name: "r")
    let m = b.finish(results: [parts[0], r])
    let expected = """
      module @net {
        func @main(%x: tensor<2x3xf32>) -> (tensor<1x2xf32>, tensor<2x2xf32>) {
          %t = transpose %x {perm = [1, 0]} : tensor<3x2xf32>
          %a, %b = split %t {axis = 0, sizes = [1, 2]} : tensor<1x2xf32>, tensor<2x2xf32>
          %r = leaky_relu %b {alpha = 0.1} : tensor<2x2xf32>
          return %a, %r
        }
      }

      """
    XCTAssertEqual(printModule(m), expected)
    try assertRoundTrips(expected)
  }

  func testEveryElementTypeRoundTripsInline() throws {
    var m = Module(name: "types")
    m.constants.add(Tensor(shape: [5], scalars: [Float(0.1), -0.0, .infinity, -.infinity, 1e-45]), name: "f32")
    m.constants.add(Tensor(shape: [3], scalars: [0.1, 1e300, -2.5]), name: "f64")
    m.constants.add(Tensor(type: TensorType(.f16, [3]), bytes: [0x00, 0x3c, 0x01, 0x00, 0xff, 0x7b]), name: "f16")
    m.constants.add(Tensor(type: TensorType(.bf16, [2]), bytes: [0x80, 0x3f, 0x49, 0xc0]), name: "bf16")
    m.constants.add(Tensor(shape: [2], scalars: [Int64.min, Int64.max]), name: "i64")
    m.constants.add(Tensor(shape: [2], scalars: [Int32.min, Int32.max]), name: "i32")
    m.constants.add(Tensor(shape: [2], scalars: [Int16.min, Int16.max]), name: "i16")
    m.constants.add(Tensor(shape: [2], scalars: [Int8.min, Int8.max]), name: "i8")
    m.constants.add(Tensor(shape: [1], scalars: [UInt64.max]), name: "u64")
    m.constants.add(Tensor(shape: [1], scalars: [UInt32.max]), name: "u32")
    m.constants.add(Tensor(shape: [1], scalars: [UInt16.max]), name: "u16")
    m.constants.add(Tensor(shape: [1], scalars: [UInt8.max]), name: "u8")
    m.constants.add(Tensor(shape: [3], scalars: [true, false, true]), name: "bool")
    m.constants.add(Tensor(scalar: Float(2.5)), name: "scalar")
    m.constants.add(Tensor(zeros: TensorType(.f32, [0, 3])), name: "empty")
    let text = printModule(m)
    XCTAssertTrue(text.contains("const @f32 : tensor<5xf32> = [0.1, -0.0, inf, -inf, 1e-45]"), text)
    XCTAssertTrue(text.contains("const @f16 : tensor<3xf16> = [1.0, 5.9604645e-08, 65504.0]"), text)
    XCTAssertTrue(text.contains("const @bf16 : tensor<2xbf16> = [1.0, -3.140625]"), text)
    XCTAssertTrue(text.contains("const @i64 : tensor<2xi64> = [-9223372036854775808, 9223372036854775807]"), text)
    XCTAssertTrue(text.contains("const @u64 : tensor<1xu64> = [18446744073709551615]"), text)
    XCTAssertTrue(text.contains("const @bool : tensor<3xbool> = [true, false, true]"), text)
    XCTAssertTrue(text.contains("const @scalar : tensor<f32> = [2.5]"), text)
    XCTAssertTrue(text.contains("const @empty : tensor<0x3xf32> = []"), text)
    let parsed = try parseModule(text)
    for name in m.constants.names {
      XCTAssertEqual(parsed.constants[name], m.constants[name], name)
    }
    XCTAssertEqual(printModule(parsed), text)
  }

  func testNaNKeepsItsSign() throws {
    var m = Module(name: "n")
    m.constants.add(Tensor(shape: [2], scalars: [Float.nan, -Float.nan]), name: "n")
    let text = printModule(m)
    XCTAssertTrue(text.contains("= [nan, -nan]"), text)
    let values = try parseModule(text).constants["n"]!.array(of: Float.self)
    XCTAssertTrue(values[0].isNaN && values[0].sign == .plus)
    XCTAssertTrue(values[1].isNaN && values[1].sign == .minus)
  }

  func testRandomFloatsRoundTripBitExactly() throws {
    var rng = SystemRandomNumberGenerator()
    var floats: [Float] = []
    for _ in 0..<2000 {
      let bits = UInt32.random(in: 0...UInt32.max, using: &rng)
      let f = Float(bitPattern: bits)
      if !f.isNaN { floats.append(f) }
    }
    var m = Module(name: "r")
    m.constants.add(Tensor(shape: [floats.count], scalars: floats), name: "r")
    let parsed = try parseModule(printModule(m, options: PrintOptions(inlineLimit: 10_000)))
    XCTAssertEqual(parsed.constants["r"]!.array(of: Float.self).map(\.bitPattern), floats.map(\.bitPattern))
  }

  func testQuotedNamesRoundTrip() throws {
    var b = Builder(module: Module(name: "my model"), function: Function(name: "main:0"))
    let x = b.addArgument(name: "input/0:x \"q\"\n", type: TensorType(.f32, [2]))
    let w = b.constant(Tensor(shape: [2], scalars: [Float(1), 2]), name: "onnx::Mul_3")
    let y = try b.add1(.mul, [x, w], name: "123")
    let z = try b.add1(.relu, [y], name: "résumé")
    let m = b.finish(results: [z])
    let text = printModule(m)
    XCTAssertTrue(text.hasPrefix("module @\"my model\" {"), text)
    XCTAssertTrue(text.contains("func @\"main:0\"(%\"input/0:x \\\"q\\\"\\n\": tensor<2xf32>)"), text)
    XCTAssertTrue(text.contains("%\"onnx::Mul_3\" = constant @\"onnx::Mul_3\" : tensor<2xf32>"), text)
    XCTAssertTrue(text.contains("%123 = mul %\"input/0:x \\\"q\\\"\\n\", %\"onnx::Mul_3\" : tensor<2xf32>"), text)
    XCTAssertTrue(text.contains("%\"résumé\" = relu %123"), text)
    let parsed = try parseModule(text)
    XCTAssertEqual(parsed.main.values.map(\.name), m.main.values.map(\.name))
    XCTAssertEqual(printModule(parsed), text)
  }

  func testEveryAttributeKindRoundTrips() throws {
    let text = """
      module @attrs {
        func @main(%x: tensor<1x3x8x8xf32>, %i: tensor<2x3xi64>) -> (tensor<1x3x4x4xf32>, tensor<2x3xf32>, tensor<1x3x16x16xf32>, tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) {
          %p = max_pool %x {ceil_mode = false, dilations = [1, 1], kernel = [2, 2], pads = [0, 0, 0, 0], strides = [2, 2]} : tensor<1x3x4x4xf32>
          %c = cast %i {to = f32} : tensor<2x3xf32>
          %r = resize %x {mode = "linear", roi = [], scales = [1.0, 1.0, 2.0, 2.0], sizes = [1, 3, 16, 16]} : tensor<1x3x16x16xf32>
          %k = clip %x {max = inf, min = -1.5e-07} : tensor<1x3x8x8xf32>
          %g = gelu %x {approximate = "tan\\"h\\""} : tensor<1x3x8x8xf32>
          return %p, %c, %r, %k, %g
        }
      }

      """
    let m = try parseModule(text)
    let ops = m.main.ops
    XCTAssertEqual(ops[1].attributes.values["to"], .type(.f32))
    XCTAssertEqual(ops[2].attributes.values["scales"], .floats([1, 1, 2, 2]))
    XCTAssertEqual(ops[2].attributes.values["roi"], .floats([]))
    XCTAssertEqual(ops[3].attributes.values["max"], .float(.infinity))
    XCTAssertEqual(ops[4].attributes.values["approximate"], .string("tan\"h\""))
    XCTAssertEqual(printModule(m), text)
  }

  func testIntLiteralCoercesToFloatAttribute() throws {
    let m = try parseModule("""
      module @m {
        func @main(%x: tensor<2xf32>) -> (tensor<2xf32>) {
          %y = leaky_relu %x {alpha = 2} : tensor<2xf32>
          return %y
        }
      }
      """)
    XCTAssertEqual(m.main.ops[0].attributes.values["alpha"], .float(2))
    XCTAssertTrue(printModule(m).contains("{alpha = 2.0}"))
  }

  func testLayoutsAndLargeConstants() throws {
    var b = Builder(module: Module(name: "big"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [1, 8]))
    let w1 = b.constant(Tensor(zeros: TensorType(.f32, [8, 8])), name: "w1", layout: .bsr(r: 4, c: 4))
    let w2 = b.constant(Tensor(zeros: TensorType(.f32, [8, 8])), name: "w2", layout: .csr)
    let y1 = try b.add1(.gemm, [x, w1], ["transB": .bool(true)], name: "y1")
    let y2 = try b.add1(.gemm, [y1, w2], ["transB": .bool(true)], name: "y2")
    let m = b.finish(results: [y2])
    let dump = printModule(m)
    XCTAssertTrue(dump.contains("const @w1 : tensor<8x8xf32> = <elided 64 x f32>"), dump)
    XCTAssertTrue(dump.contains("%w1 = constant @w1 : tensor<8x8xf32, #bsr<4,4>>"), dump)
    XCTAssertTrue(dump.contains("%w2 = constant @w2 : tensor<8x8xf32, #csr>"), dump)
    XCTAssertThrowsError(try parseModule(dump)) { e in
      XCTAssertTrue("\(e)".contains("sparrowc opt"), "\(e)")
      XCTAssertTrue("\(e)".contains("<input>:2:"), "\(e)")
    }
    let full = printModule(m, options: .roundTrip)
    XCTAssertTrue(full.contains("const @w1 : tensor<8x8xf32> = <sidecar>"), full)
    let sidecar = ["w1": m.constants["w1"]!, "w2": m.constants["w2"]!]
    let parsed = try parseModule(full, sidecar: sidecar)
    XCTAssertEqual(printModule(parsed, options: .roundTrip), full)
    XCTAssertEqual(parsed.constants["w2"], m.constants["w2"])
  }

  func testMultipleFunctionsAndEmptyReturn() throws {
    try assertRoundTrips("""
      module @two {
        func @a(%x: tensor<f32>) -> (tensor<f32>) {
          %y = neg %x : tensor<f32>
          return %y
        }
        func @b() -> () {
          return
        }
      }

      """)
  }
}
