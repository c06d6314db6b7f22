//===--- GoldenTests.swift - the .sir golden files that name passes ---------===//
//
// Every `Tests/IRFiles/*.sir` whose `// RUN:` line names a pass pipeline runs through
// the pass manager (verifying after each pass); `// RUN: verify` files belong to the IR
// tests.

#if canImport(SparrowTestSupport)
import Foundation
import SparrowIR
import SparrowPasses
import SparrowTestSupport
import XCTest

final class GoldenTests: XCTestCase {
  private var irFiles: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("IRFiles").path
  }

  /// The pipeline named by a file's first line, nil for `verify` files.
  private func pipeline(of path: String) -> String? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
          let first = text.split(separator: "\n", maxSplits: 1).first,
          let range = first.range(of: "// RUN:") else { return nil }
    let p = first[range.upperBound...].trimmingCharacters(in: .whitespaces)
    return p.isEmpty || p == "verify" ? nil : p
  }

  func testGoldenFilesWithPassPipelines() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: irFiles)
      .filter { $0.hasSuffix(".sir") }.sorted()
    var ran = 0
    for name in names {
      let path = irFiles + "/" + name
      guard pipeline(of: path) != nil else { continue }
      ran += 1
      let failures = runGoldenFile(path) { module, pipeline in
        var m = module
        try PassManager(passes: parsePipeline(pipeline)).run(&m)
        return m
      }
      for f in failures { XCTFail(f.description) }
    }
    XCTAssertGreaterThanOrEqual(ran, 5, "golden files for the cleanup passes")
  }
}
#endif
