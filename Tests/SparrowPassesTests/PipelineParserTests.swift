import SparrowIR
@testable import SparrowPasses
import XCTest

final class PipelineParserTests: XCTestCase {
  func testEntriesWithOptions() throws {
    let entries = try parsePipelineEntries("dce, constant-fold{max-elements=16, x=y},cse")
    XCTAssertEqual(entries, [PipelineEntry(name: "dce"),
                             PipelineEntry(name: "constant-fold", options: [("max-elements", "16"), ("x", "y")]),
                             PipelineEntry(name: "cse")])
    XCTAssertEqual(entries[1].description, "constant-fold{max-elements=16,x=y}")
  }

  func testEmptyPipeline() throws {
    XCTAssertEqual(try parsePipelineEntries(""), [])
    XCTAssertEqual(try parsePipeline("  ").count, 0)
  }

  func testSyntaxErrorsNameTheColumn() {
    for bad in ["dce,", ",dce", "dce{", "dce{a}", "dce{a=}", "dce{=1}", "dce}", "a b{x=1}}"] {
      XCTAssertThrowsError(try parsePipelineEntries(bad), bad) { error in
        let d = error as? Diagnostic
        XCTAssertEqual(d?.location, "--passes", bad)
        XCTAssertTrue(d?.message.contains("column") ?? false, "\(bad): \(String(describing: d))")
      }
    }
  }

  func testUnknownPassSuggestsANearName() {
    XCTAssertThrowsError(try parsePipeline("dce,constant-folding")) { error in
      let message = (error as? Diagnostic)?.message ?? ""
      XCTAssertTrue(message.contains("unknown pass 'constant-folding'"), message)
      XCTAssertTrue(message.contains("did you mean 'constant-fold'"), message)
    }
    XCTAssertThrowsError(try parsePipeline("zzzzzz")) { error in
      XCTAssertFalse((error as? Diagnostic)?.message.contains("did you mean") ?? true)
    }
  }

  func testOptionsAreCheckedAndTyped() throws {
    XCTAssertThrowsError(try parsePipeline("constant-fold{limit=3}")) { error in
      let message = (error as? Diagnostic)?.message ?? ""
      XCTAssertTrue(message.contains("has no option 'limit'") && message.contains("max-elements"), message)
    }
    XCTAssertThrowsError(try parsePipeline("constant-fold{max-elements=many}")) { error in
      XCTAssertTrue((error as? Diagnostic)?.message.contains("must be int") ?? false)
    }
    XCTAssertThrowsError(try parsePipeline("constant-fold{max-elements=-1}"))
    XCTAssertThrowsError(try parsePipeline("dce{x=1}")) { error in
      XCTAssertTrue((error as? Diagnostic)?.message.contains("takes no options") ?? false)
    }
    let folding = try XCTUnwrap(parsePipeline("constant-fold{max-elements=7}").first as? ConstantFolding)
    XCTAssertEqual(folding.maxElements, 7)
    let defaulted = try XCTUnwrap(parsePipeline("constant-fold").first as? ConstantFolding)
    XCTAssertEqual(defaulted.maxElements, 1 << 16)
  }

  func testNamedPipelinesUseRegisteredPasses() throws {
    XCTAssertEqual(try Pipelines.passes(for: .O0).count, 0)
    XCTAssertEqual(try Pipelines.passes(for: .O1).map(\.name), Pipelines.O1)
    XCTAssertFalse(try Pipelines.passes(for: .O2).isEmpty)
  }

  func testRegistryNamesAreUniqueAndListed() {
    XCTAssertEqual(Set(PassRegistry.names).count, PassRegistry.all.count)
    for name in PassRegistry.names { XCTAssertTrue(PassRegistry.listing.contains(name)) }
  }

  func testEditDistance() {
    XCTAssertEqual(editDistance("cse", "cse"), 0)
    XCTAssertEqual(editDistance("cs", "cse"), 1)
    XCTAssertEqual(editDistance("kitten", "sitting"), 3)
    XCTAssertEqual(editDistance("", "abc"), 3)
  }
}

/// The -O pipelines' typed configuration: one setting per decision, read by every pass
/// it concerns.
final class PipelineConfigurationTests: XCTestCase {
  func testSparsityReachesSparsifyAndTheLayoutRule() throws {
    let passes = try Pipelines.passes(for: .O2, configuration: PipelineConfiguration(sparsity: .nm, winograd: .off,
                                                                                      convLayout: .nhwc))
    XCTAssertEqual(passes.map(\.name), Pipelines.O2)
    let sparsify = try XCTUnwrap(passes.compactMap { $0 as? Sparsify }.first)
    let layout = try XCTUnwrap(passes.compactMap { $0 as? ChooseConvLayout }.first)
    XCTAssertEqual(sparsify.mode, .nm)
    XCTAssertEqual(layout.sparsity, .nm)
    XCTAssertEqual(layout.mode, .nhwc)
    XCTAssertEqual(passes.compactMap { $0 as? LowerConv }.map(\.winograd), [.off])
    XCTAssertEqual(passes.compactMap { $0 as? FoldActivationMasks }.map(\.winograd), [.off, .off])
  }
}
