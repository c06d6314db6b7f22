import XCTest
import SparrowIR
import SparrowTestSupport

/// Runs the golden .sir files of Tests/IRFiles that need no passes, and checks the checker.
final class GoldenFileTests: XCTestCase {
  static let irFiles = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("IRFiles").path

  /// Only `// RUN: verify` files run here; pass pipelines are the passes tests' business.
  static func noPasses(_ module: Module, _ pipeline: String) throws -> Module {
    throw Diagnostic("SparrowIRTests runs no pass pipelines (asked for '\(pipeline)')")
  }

  func assertGolden(_ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let failures = runGoldenFile("\(Self.irFiles)/\(name)", pipeline: Self.noPasses)
    for f in failures { XCTFail(f.description, file: file, line: line) }
  }

  func testRoundTripFile() { assertGolden("roundtrip.sir") }
  func testVerifierErrorsFile() { assertGolden("verifier-errors.sir") }

  /// Every `// RUN: verify` file in the folder, so new ones run without a new test.
  func testEveryVerifyOnlyFile() {
    let files = goldenFiles(in: Self.irFiles).filter { goldenPipeline(of: $0) == "verify" }
    XCTAssertTrue(files.contains { $0.hasSuffix("/roundtrip.sir") }, "\(files)")
    for path in files {
      for f in runGoldenFile(path, pipeline: Self.noPasses) { XCTFail(f.description) }
    }
  }

  // MARK: - The checker reports what is wrong

  let module = """
    module @m {
      func @main(%x: tensor<2xf32>) -> (tensor<2xf32>) {
        %y = relu %x : tensor<2xf32>
        %z = neg %y : tensor<2xf32>
        return %z
      }
    }
    """

  func failures(_ directives: String) -> [GoldenFailure] {
    runGoldenText("// RUN: verify\n\(module)\n\(directives)\n", path: "t.sir", pipeline: Self.noPasses)
  }

  func testChecksThatHoldPass() {
    XCTAssertEqual(failures("// CHECK: %[[Y:[a-z]]] = relu %x\n// CHECK-NEXT: neg %[[Y]]\n// CHECK-NOT: sigmoid\n// CHECK: return %z").map(\.description), [])
  }

  func testFailingCheckIsReportedWithTheCaseAndActualIR() {
    let f = failures("// CHECK: %y = sigmoid %x")
    XCTAssertEqual(f.count, 1)
    XCTAssertEqual(f.first?.line, 9)
    XCTAssertTrue(f.first?.description.contains("CHECK: %y = sigmoid %x") ?? false)
    XCTAssertTrue(f.first?.description.contains("--- actual ---\nmodule @m {") ?? false)
    XCTAssertEqual(failures("// CHECK: relu\n// CHECK-NEXT: return").count, 1)
    XCTAssertEqual(failures("// CHECK: relu\n// CHECK-NOT: neg\n// CHECK: return").count, 1)
    XCTAssertEqual(failures("// CHECK: neg\n// CHECK: relu").count, 1, "order matters")
    XCTAssertEqual(failures("// CHECK: %[[V:[a-z]]] = neg\n// CHECK: return %[[V]]").count, 0)
    XCTAssertEqual(failures("// CHECK: %[[V:[a-z]]] = relu\n// CHECK: return %[[V]]").count, 1)
  }

  func testExpectedErrorsMustMatchLineAndText() {
    let bad = """
      // RUN: verify
      module @m {
        func @main(%x: tensor<2xf32>) -> (tensor<2xf32>) {
          // expected-error@+1 {{use of undefined value %q}}
          %y = relu %q : tensor<2xf32>
          return %y
        }
      }
      """
    XCTAssertEqual(runGoldenText(bad, path: "t.sir", pipeline: Self.noPasses).map(\.description), [])
    let wrongLine = bad.replacingOccurrences(of: "@+1", with: "@+2")
    let f = runGoldenText(wrongLine, path: "t.sir", pipeline: Self.noPasses)
    XCTAssertEqual(f.count, 2, "missing expected error + unexpected error: \(f)")
    let wrongText = bad.replacingOccurrences(of: "value %q", with: "value %r")
    XCTAssertEqual(runGoldenText(wrongText, path: "t.sir", pipeline: Self.noPasses).count, 2)
    let noError = "// RUN: verify\n// expected-error@+1 {{boom}}\n\(module)"
    XCTAssertEqual(runGoldenText(noError, path: "t.sir", pipeline: Self.noPasses).count, 1)
  }

  func testPipelineIsAppliedAndMissingRunLineReported() {
    let text = "// RUN: drop-relu\n\(module)\n// CHECK: %z = neg %x"
    let f = runGoldenText(text, path: "t.sir") { m, pipeline in
      XCTAssertEqual(pipeline, "drop-relu")
      var m = m
      let relu = m.main.ops.removeFirst()
      m.main.ops[0].operands = relu.operands
      return m
    }
    XCTAssertEqual(f.map(\.description), [])
    XCTAssertEqual(runGoldenText(module, path: "t.sir", pipeline: Self.noPasses).count, 1)
  }
}
