import XCTest
@testable import SparrowIR
import SparrowTestSupport
import SparrowTargetSupport

/// Malformed text: every error is a located Diagnostic, never a trap.
final class ParserDiagnosticTests: XCTestCase {
  /// Parses `body` inside a one-function module and returns the error text.
  func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
      _ = try parseModule(text, file: "t.sir")
      XCTFail("no error for:\n\(text)", file: file, line: line)
      return ""
    } catch {
      return "\(error)"
    }
  }

  func function(_ body: String, args: String = "%x: tensor<2x3xf32>", results: String = "tensor<2x3xf32>") -> String {
    "module @m {\n  func @main(\(args)) -> (\(results)) {\n\(body)\n  }\n}\n"
  }

  func assertError(_ text: String, _ expected: String, at location: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    let e = error(text, file: file, line: line)
    XCTAssertTrue(e.contains(expected), "\(e) lacks '\(expected)'", file: file, line: line)
    XCTAssertTrue(e.hasPrefix("t.sir:\(location): error: "), "\(e) not at \(location)", file: file, line: line)
  }

  func testOriginErrors() {
    assertError(function("    %y = relu %x : tensor<2x3xf32> loc(names [\"a\"])\n    return %y"),
                "expected 'nodes' or 'weights' in loc(...), got 'names'", at: "3:40")
    assertError(function("    %y = relu %x : tensor<2x3xf32> loc(nodes [1])\n    return %y"),
                "expected a list of quoted names after 'nodes'", at: "3:46")
    assertError(function("    %y = relu %x : tensor<2x3xf32> loc(nodes [\"a\"], nodes [\"b\"])\n    return %y"),
                "'nodes' given twice in loc(...)", at: "3:53")
  }

  func testUnknownOp() {
    assertError(function("    %y = frobnicate %x : tensor<2x3xf32>\n    return %y"), "unknown op 'frobnicate'", at: "3:10")
  }

  func testUnknownValueAndRedefinition() {
    assertError(function("    %y = relu %z : tensor<2x3xf32>\n    return %y"), "use of undefined value %z", at: "3:15")
    assertError(function("    %x = relu %x : tensor<2x3xf32>\n    return %x"), "redefinition of %x", at: "3:5")
    assertError(function("    return %q"), "use of undefined value %q", at: "3:12")
  }

  func testTypeErrors() {
    assertError(function("    %y = relu %x : tensor<3x2xf32>\n    return %y"),
                "does not match the inferred tensor<2x3xf32>", at: "3:20")
    assertError(function("    %y = relu %x : tensor<2x3xf33>\n    return %y"), "unknown element type 'f33'", at: "3:27")
    assertError(function("    %y = relu %x : tensor<2xQx3xf32>\n    return %y"), "bad dimension 'Q'", at: "3:27")
    assertError(function("    %y = relu %x : tensor<2x3xf32, #nm<2,4>>\n    return %y"),
                "only constants may carry a sparse layout", at: "3:20")
    assertError(function("    %y = relu %x : tensor<2x3xf32, #nm<5,4>>\n    return %y"), "needs 1 <= N <= M", at: "3:36")
    assertError(function("    %y = relu %x : tensor<2x3xf32, #foo>\n    return %y"), "unknown sparse layout '#foo'", at: "3:36")
    assertError(function("    %y = relu %x : tensor<99999999999x99999999999xf32>\n    return %y"), "too large", at: "3:27")
    assertError(function("    return %x", results: "tensor<2xf32>"), "signature says tensor<2xf32>", at: "3:12")
    assertError(function("    return", results: "tensor<2xf32>"), "declares 1 results but returns 0", at: "3:5")
  }

  func testAttributeErrors() {
    assertError(function("    %y = leaky_relu %x {alpha = \"big\"} : tensor<2x3xf32>\n    return %y"),
                "attribute 'alpha' of 'leaky_relu' must be float, got string", at: "3:25")
    assertError(function("    %y = leaky_relu %x {beta = 1.0} : tensor<2x3xf32>\n    return %y"),
                "'leaky_relu' has no attribute 'beta'", at: "3:25")
    assertError(function("    %y = leaky_relu %x {alpha = 1.0, alpha = 2.0} : tensor<2x3xf32>\n    return %y"),
                "attribute 'alpha' given twice", at: "3:38")
    assertError(function("    %y = transpose %x : tensor<3x2xf32>\n    return %y", results: "tensor<3x2xf32>"),
                "'transpose' requires attribute 'perm'", at: "3:5")
    assertError(function("    %y = add %x : tensor<2x3xf32>\n    return %y"), "'add' takes 2 operands, got 1", at: "3:5")
    assertError(function("    %y = cast %x {to = q8} : tensor<2x3xf32>\n    return %y"), "expected an attribute value", at: "3:24")
    assertError(function("    %y = gelu %x {approximate = \"tanh} : tensor<2x3xf32>\n    return %y"), "unterminated string", at: "3:33")
    assertError(function("    %y = gelu %x {approximate = [1, \"a\"]} : tensor<2x3xf32>\n    return %y"), "mixes strings and numbers", at: "3:33")
  }

  func testConstantErrors() {
    assertError("module @m {\n  const @c : tensor<3xf32> = [1.0, 2.0]\n}\n", "lists 2 elements, but tensor<3xf32> has 3", at: "2:30")
    assertError("module @m {\n  const @c : tensor<2xi8> = [1, 300]\n}\n", "300 does not fit in i8", at: "2:33")
    assertError("module @m {\n  const @c : tensor<1xi32> = [1.5]\n}\n", "expected an integer for a i32 element", at: "2:31")
    assertError("module @m {\n  const @c : tensor<1xf32> = [1.0]\n  const @c : tensor<1xf32> = [1.0]\n}\n", "redefinition of constant @c", at: "3:9")
    assertError("module @m {\n  const @c : tensor<100xf32> = <elided 100 x f32>\n}\n", "sparrowc opt", at: "2:33")
    assertError("module @m {\n  const @c : tensor<100xf32> = <sidecar>\n}\n", "needs a weights file", at: "2:33")
    assertError("module @m weights \"w.safetensors\" {\n  const @c : tensor<100xf32> = <sidecar>\n}\n",
                "'w.safetensors' was not loaded", at: "2:33")
    assertError(function("    %c = constant @nope : tensor<2xf32>\n    return %x"), "unknown constant @nope", at: "3:5")
    assertError("module @m {\n  const @c : tensor<4xf32> = [1.0, 2.0, 3.0, 4.0]\n  func @f() -> (tensor<4xf32>) {\n    %c = constant @c : tensor<4xi32>\n    return %c\n  }\n}\n",
                "does not match the pool entry's tensor<4xf32>", at: "4:24")
  }

  func testStructureErrors() {
    assertError("", "expected 'module'", at: "1:1")
    assertError("module @m {", "expected 'const', 'func' or '}'", at: "1:12")
    assertError("module @m {}\nmodule @n {}", "unexpected 'module' after the module", at: "2:1")
    assertError("module @m { func @f() -> () { return } func @f() -> () { return } }", "redefinition of function @f", at: "1:45")
    assertError("module @m { ~ }", "unexpected character '~'", at: "1:13")
    assertError("module @m { func @f(%x tensor<f32>) -> () { return } }", "expected ':' after argument %x", at: "1:24")
  }

  /// Truncations and byte flips of valid text must throw or parse, never trap.
  func testMutatedInputNeverTraps() {
    let valid = TextRoundTripTests.tiny + ""
    let bytes = Array(valid.utf8)
    for n in 0..<bytes.count {
      _ = try? parseModule(String(decoding: bytes[0..<n], as: UTF8.self))
    }
    var rng = SeededGenerator(seed: 42)
    let alphabet = Array("%@#<>{}[](),:=\"\\-+.0123456789xefinatrsu \n/".utf8)
    for _ in 0..<3000 {
      var mutated = bytes
      for _ in 0..<Int(rng.next() % 4 + 1) {
        let i = Int(rng.next() % UInt64(mutated.count))
        switch rng.next() % 3 {
        case 0: mutated[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
        case 1: mutated.remove(at: i)
        default: mutated.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
        }
      }
      if let m = try? parseModule(String(decoding: mutated, as: UTF8.self)) {
        _ = printModule(m)
        _ = try? verify(m)
      }
    }
  }
}
