//===--- OpTestSupport.swift - run one op on the interpreter, compare with literals ---===//
//
// The one helper set of the interpreter's kernel tests: build input tensors from literals,
// run one op as a one-op function through `Interpreter.run` (result types from the shape
// rules, the memory plan and its scratch as in a model), compare with expected values
// (literals, a naive loop, or onnxruntime's results in ReferenceCases.swift). Seeded data
// comes from SparrowTestSupport (`SeededGenerator`).

import SparrowIR
import XCTest

@testable import SparrowInterpreter
import SparrowTargetSupport
import SparrowTestSupport

/// A tensor from a shape and row-major values.
func tensor<T: TensorElement>(_ shape: [Int], _ values: [T]) -> Tensor {
  Tensor(shape: shape, scalars: values)
}

/// An f16 (or bf16) tensor from Float values, rounded to nearest even.
func half(_ shape: [Int], _ values: [Float], bf16: Bool = false) -> Tensor {
  let bits = values.map { bf16 ? $0.bfloat16Bits : $0.float16Bits }
  return Tensor(type: TensorType(bf16 ? .bf16 : .f16, shape), bytes: bits.withUnsafeBytes { [UInt8]($0) })
}

/// Runs `kind` on `inputs` and returns its results (all, or the first `results`); the
/// results must have the types the shape rules give.
func evaluate(_ kind: OpKind, _ inputs: [Tensor], _ attributes: [String: AttributeValue] = [:],
              results: Int? = nil) throws -> [Tensor] {
  var b = Builder(module: Module(name: "test"), function: Function(name: "main"))
  let args = inputs.enumerated().map { b.addArgument(name: "x\($0.offset)", type: $0.element.type) }
  let outs = try b.add(kind, args, attributes, resultCount: results)
  let module = b.finish(results: outs)
  let values = try Interpreter.run(module, inputs: inputs)
  XCTAssertEqual(values.map(\.type), outs.map { module.main.type(of: $0) }, "\(kind) result types")
  return values
}

/// Runs `kind` and returns its first result.
func evaluate1(_ kind: OpKind, _ inputs: [Tensor], _ attributes: [String: AttributeValue] = [:]) throws -> Tensor {
  try evaluate(kind, inputs, attributes, results: 1)[0]
}

/// Checks element type, shape, and values within rtol/atol (NaN matches NaN, inf matches
/// an equal inf).
func assertClose(_ t: Tensor, _ element: ElementType, _ shape: [Int], _ expected: [Double],
                 rtol: Double = 1e-3, atol: Double = 1e-5, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
  guard checkType(t, element, shape, expected.count, message, file: file, line: line) else { return }
  for (i, e) in expected.enumerated() {
    let a = t.double(at: i)
    let ok = (a.isNaN && e.isNaN) || a == e || abs(a - e) <= atol + rtol * abs(e)
    if !ok {
      XCTFail("element \(i): got \(a), expected \(e) \(message); all: \(t.doubles)", file: file, line: line)
      return
    }
  }
}

/// Checks element type, shape, and exactly equal values (integers, bools, exact floats).
func assertExact(_ t: Tensor, _ element: ElementType, _ shape: [Int], _ expected: [Double],
                 file: StaticString = #filePath, line: UInt = #line) {
  guard checkType(t, element, shape, expected.count, "", file: file, line: line) else { return }
  let actual = t.doubles
  for (i, (a, e)) in zip(actual, expected).enumerated() where !(a == e || (a.isNaN && e.isNaN)) {
    XCTFail("element \(i): got \(a), expected \(e); all: \(actual)", file: file, line: line)
    return
  }
}

private func checkType(_ t: Tensor, _ element: ElementType, _ shape: [Int], _ count: Int, _ message: String,
                       file: StaticString, line: UInt) -> Bool {
  XCTAssertEqual(t.element, element, "element type \(message)", file: file, line: line)
  XCTAssertEqual(t.shape, shape, "shape \(message)", file: file, line: line)
  XCTAssertEqual(t.count, count, "expected value count \(message)", file: file, line: line)
  return t.element == element && t.shape == shape && t.count == count
}

/// Asserts that evaluating throws a Diagnostic (never a trap).
func assertThrowsDiagnostic(_ body: @autoclosure () throws -> Any, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertThrowsError(try body(), file: file, line: line) { error in
    XCTAssertTrue(error is Diagnostic, "\(error) is not a Diagnostic", file: file, line: line)
  }
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

// MARK: - Cases computed by onnxruntime (ReferenceCases.swift)

/// A tensor literal of a generated case.
struct ReferenceTensor {
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
struct ReferenceCase {
  var family: String
  var name: String
  var kind: OpKind
  var attributes: [String: AttributeValue]
  var inputs: [ReferenceTensor]
  var outputs: [ReferenceTensor]
}

/// Runs every generated case of `family` and compares all results.
func checkReferenceCases(family: String, file: StaticString = #filePath, line: UInt = #line) {
  let cases = referenceCases.filter { $0.family == family }
  XCTAssertFalse(cases.isEmpty, "no cases for \(family)", file: file, line: line)
  for c in cases {
    do {
      let results = try evaluate(c.kind, c.inputs.map(\.tensor), c.attributes, results: c.outputs.count)
      for (i, (got, want)) in zip(results, c.outputs).enumerated() {
        assertClose(got, want.element, want.shape, want.values, "\(c.name) result \(i)", file: file, line: line)
      }
    } catch {
      XCTFail("\(c.name): \(error)", file: file, line: line)
    }
  }
}
