//===--- ElementwiseTestSupport.swift - run one op, compare with literals ---===//
//
// Helpers for the unary, binary, reduction, normalization and quantize tests: build input
// tensors from literals, evaluate one op through the interpreter's dispatch (result types
// from the shape rules, as `Interpreter.run` does), and compare with expected values.

import SparrowIR
import XCTest

@testable import SparrowInterpreter

/// A tensor from a shape and row-major values.
func tensor<T: TensorElement>(_ shape: [Int], _ values: [T]) -> Tensor {
  Tensor(shape: shape, scalars: values)
}

/// An f16 (or bf16) tensor from Float values, rounded to nearest even.
func half(_ shape: [Int], _ values: [Float], bf16: Bool = false) -> Tensor {
  let bits = values.map { bf16 ? $0.bfloat16Bits : $0.float16Bits }
  return Tensor(type: TensorType(bf16 ? .bf16 : .f16, shape), bytes: bits.withUnsafeBytes { [UInt8]($0) })
}

/// Evaluates one op on `inputs`, checking its signature and inferring result types.
func evaluate(_ kind: OpKind, _ inputs: [Tensor], _ attributes: [String: AttributeValue] = [:]) throws -> [Tensor] {
  let attrs = Attributes(kind, attributes)
  try checkSignature(kind, operandCount: inputs.count, attributes: attrs)
  let types = try inferResultTypes(kind, inputs.map(\.type), attrs, constants: ConstantPool())
  let outs = try dispatch(KernelArgs(kind: kind, attributes: attrs, inputs: inputs, resultTypes: types))
  XCTAssertEqual(outs.map(\.type), types, "\(kind) result types")
  return outs
}

/// Checks element type, shape, and values within rtol/atol (NaN matches NaN, inf matches
/// an equal inf).
func assertClose(_ t: Tensor, _ element: ElementType, _ shape: [Int], _ expected: [Double],
                 rtol: Double = 1e-3, atol: Double = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
  guard checkType(t, element, shape, expected.count, file: file, line: line) else { return }
  for (i, e) in expected.enumerated() {
    let a = t.double(at: i)
    let ok = (a.isNaN && e.isNaN) || a == e || abs(a - e) <= atol + rtol * abs(e)
    if !ok {
      XCTFail("element \(i): got \(a), expected \(e); all: \(t.doubles)", file: file, line: line)
      return
    }
  }
}

/// Checks element type, shape, and exactly equal values (integers, bools, exact floats).
func assertExact(_ t: Tensor, _ element: ElementType, _ shape: [Int], _ expected: [Double],
                 file: StaticString = #filePath, line: UInt = #line) {
  guard checkType(t, element, shape, expected.count, file: file, line: line) else { return }
  let actual = t.doubles
  for (i, (a, e)) in zip(actual, expected).enumerated() where !(a == e || (a.isNaN && e.isNaN)) {
    XCTFail("element \(i): got \(a), expected \(e); all: \(actual)", file: file, line: line)
    return
  }
}

private func checkType(_ t: Tensor, _ element: ElementType, _ shape: [Int], _ count: Int,
                       file: StaticString, line: UInt) -> Bool {
  XCTAssertEqual(t.element, element, "element type", file: file, line: line)
  XCTAssertEqual(t.shape, shape, "shape", file: file, line: line)
  XCTAssertEqual(t.count, count, "expected value count", file: file, line: line)
  return t.element == element && t.shape == shape && t.count == count
}

/// Asserts that evaluating throws a Diagnostic (never a trap).
func assertThrowsDiagnostic(_ body: @autoclosure () throws -> Any, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertThrowsError(try body(), file: file, line: line) { error in
    XCTAssertTrue(error is Diagnostic, "\(error) is not a Diagnostic", file: file, line: line)
  }
}
