import Foundation
import XCTest
@testable import SparrowLLVM

/// `compile --sanitize`: the generated code itself carries the sanitizer's checks (the
/// runs under the sanitizers are `make test-asan` / `make test-tsan`).
final class SanitizerTests: XCTestCase {
  private func compiledIR(_ sanitizer: Sanitizer?) throws -> String {
    let path = NSTemporaryDirectory() + "sparrow-sanitize-\(ProcessInfo.processInfo.processIdentifier)-\(sanitizer?.rawValue ?? "none").ll"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try compileModel(ModelTests.tinyCNN(), to: path, kind: .llvmIR, name: "tiny", sanitizer: sanitizer)
    return try String(contentsOfFile: path, encoding: .utf8)
  }

  func testThreadSanitizerSeesScalarAccessesOfVectorCode() throws {
    let ir = try compiledIR(.thread)
    XCTAssertTrue(ir.contains("call void @__tsan_read4("), "vector loads were not split into checked scalar reads")
    XCTAssertTrue(ir.contains("call void @__tsan_write4("))
    XCTAssertFalse(ir.contains("call <16 x float> @llvm.masked.load") || ir.contains("call <8 x float> @llvm.masked.load"),
                   "masked loads would escape the tsan pass")
  }

  func testAddressSanitizerChecksLoadsAndStores() throws {
    let ir = try compiledIR(.address)
    XCTAssertTrue(ir.contains("__asan_report_load"))
    XCTAssertTrue(ir.contains("__asan_report_store"))
  }

  func testNoSanitizerMeansNoRuntimeCalls() throws {
    let ir = try compiledIR(nil)
    XCTAssertFalse(ir.contains("__tsan_") || ir.contains("__asan_"))
  }
}
