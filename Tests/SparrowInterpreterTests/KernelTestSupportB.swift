//===--- KernelTestSupportB.swift - running single ops; seeded data ------===//
//
// Support for the GEMM, convolution, pooling, movement, resize and recurrent kernel
// tests: build a one-op module with the Builder (so result types come from the shape
// rules), run it on the interpreter, compare within onnxruntime's tolerance.

import XCTest
import SparrowIR
import SparrowInterpreter

/// Runs `kind` on `inputs` and returns its results (all, or the first `results`).
func runSingleOp(_ kind: OpKind, _ inputs: [Tensor], _ attributes: [String: AttributeValue] = [:],
           results: Int? = nil) throws -> [Tensor] {
  var b = Builder(module: Module(name: "test"), function: Function(name: "main"))
  let args = inputs.enumerated().map { b.addArgument(name: "x\($0.offset)", type: $0.element.type) }
  let outs = try b.add(kind, args, attributes, resultCount: results)
  return try Interpreter.run(b.finish(results: outs), inputs: inputs)
}

/// Runs `kind` and returns its first result.
func runSingleOp1(_ kind: OpKind, _ inputs: [Tensor], _ attributes: [String: AttributeValue] = [:]) throws -> Tensor {
  try runSingleOp(kind, inputs, attributes, results: 1)[0]
}

/// Asserts shape equality and |a - e| <= atol + rtol * |e| elementwise.
func assertNumericallyClose(_ actual: Tensor, _ expected: [Double], shape: [Int], rtol: Double = 1e-3,
                 atol: Double = 1e-5, _ message: String = "", file: StaticString = #filePath,
                 line: UInt = #line) {
  XCTAssertEqual(actual.shape, shape, "shape \(message)", file: file, line: line)
  guard actual.count == expected.count else {
    XCTFail("\(actual.count) elements, expected \(expected.count) \(message)", file: file, line: line)
    return
  }
  var bad = 0
  for (i, (a, e)) in zip(actual.doubles, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
    if bad < 5 { XCTFail("element \(i): \(a) vs expected \(e) \(message)", file: file, line: line) }
    bad += 1
  }
}

/// A small deterministic generator for test data.
struct KernelTestRandom {
  var state: UInt64
  init(_ seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
  mutating func next() -> UInt64 {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return state >> 11
  }
  /// Uniform in [-1, 1).
  mutating func float() -> Float { Float(Double(next() % (1 << 24)) / Double(1 << 23) - 1) }
  mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
  mutating func tensor(_ shape: [Int]) -> Tensor { Tensor(shape: shape, scalars: floats(shape.reduce(1, *))) }
  mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

/// Row-major multi-index iteration over `shape`.
func forEachIndexTuple(_ shape: [Int], _ body: ([Int]) -> Void) {
  let count = shape.reduce(1, *)
  if count == 0 { return }
  var index = [Int](repeating: 0, count: shape.count)
  for _ in 0..<count {
    body(index)
    advance(&index, within: shape)
  }
}

/// Flat row-major offset of `index` in `shape`.
func rowMajorOffset(_ index: [Int], _ shape: [Int]) -> Int {
  zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

// MARK: - Cases computed by onnxruntime (ReferenceCasesB.swift)

/// A tensor literal of a generated case.
struct ReferenceTensorB {
  var element: ElementType
  var shape: [Int]
  var values: [Double]

  init(_ element: ElementType, _ shape: [Int], _ values: [Double]) {
    self.element = element
    self.shape = shape
    self.values = values
  }

  var tensor: Tensor {
    switch element {
    case .f32: return Tensor(shape: shape, scalars: values.map { Float($0) })
    case .f64: return Tensor(shape: shape, scalars: values)
    case .i64: return Tensor(shape: shape, scalars: values.map { Int64($0) })
    case .i32: return Tensor(shape: shape, scalars: values.map { Int32($0) })
    case .bool: return Tensor(shape: shape, scalars: values.map { $0 != 0 })
    default: preconditionFailure("no literal form for \(element)")
    }
  }
}

/// One op with its Sparrow attributes, inputs and the results onnxruntime computed.
struct ReferenceCaseB {
  var family: String
  var name: String
  var kind: OpKind
  var attributes: [String: AttributeValue]
  var inputs: [ReferenceTensorB]
  var outputs: [ReferenceTensorB]
}

/// Runs every generated case of `family` and compares all results.
func checkReferenceCases(family: String, file: StaticString = #filePath, line: UInt = #line) {
  let cases = referenceCasesB.filter { $0.family == family }
  XCTAssertFalse(cases.isEmpty, "no cases for \(family)", file: file, line: line)
  for c in cases {
    do {
      let results = try runSingleOp(c.kind, c.inputs.map(\.tensor), c.attributes, results: c.outputs.count)
      for (i, (got, want)) in zip(results, c.outputs).enumerated() {
        XCTAssertEqual(got.element, want.element, "\(c.name) result \(i)", file: file, line: line)
        assertNumericallyClose(got, want.values, shape: want.shape, "\(c.name) result \(i)", file: file, line: line)
      }
    } catch {
      XCTFail("\(c.name): \(error)", file: file, line: line)
    }
  }
}
