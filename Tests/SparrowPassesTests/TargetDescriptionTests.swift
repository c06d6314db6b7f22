//===--- TargetDescriptionTests.swift - the CPU table, CPUID, tuning files ---===//
//
// The table by LLVM name and by CPUID (as /proc/cpuinfo prints it), the Zen 4 reference
// holding the rates the cost models were fit to, the JSON round trip and its diagnostics,
// and a tuning file's rates changing a pass's decision through the pass context.

import Foundation
import SparrowIR
import SparrowPasses
import SparrowTargetSupport
import SparrowTestSupport
import XCTest

final class TargetDescriptionTests: XCTestCase {
  /// A /proc/cpuinfo block; `flags` is the CPUID feature list.
  private func cpuinfo(vendor: String, family: Int, model: Int, flags: String) -> String {
    """
    processor\t: 0
    vendor_id\t: \(vendor)
    cpu family\t: \(family)
    model\t\t: \(model)
    model name\t: test CPU
    flags\t\t: fpu sse sse2 \(flags)

    processor\t: 1
    vendor_id\t: OtherVendor
    """
  }

  private let avx512Flags = "avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni"

  func testTableByLLVMName() {
    XCTAssertEqual(TargetDescription.named("znver4"), .zen4)
    XCTAssertEqual(TargetDescription.named("x86-64-v4"), .zen4)
    XCTAssertEqual(TargetDescription.named("znver5"), .zen5)
    XCTAssertEqual(TargetDescription.named("x86-64-v3"), .haswell)
    XCTAssertEqual(TargetDescription.named("znver3"), .haswell)
    XCTAssertEqual(TargetDescription.named("emeraldrapids")?.name, "sapphirerapids")
    XCTAssertEqual(TargetDescription.named("icelake-server")?.name, "icelake")
    XCTAssertEqual(TargetDescription.named("haswell")?.lanes, 8)
    XCTAssertNil(TargetDescription.named("pentium4"))
    XCTAssertEqual(TargetDescription.reference, .zen4)
    XCTAssertEqual(Set(TargetDescription.table.map(\.name)).count, TargetDescription.table.count)
  }

  func testZen4KeepsTheFittedRates() {
    let z = TargetDescription.zen4
    XCTAssertEqual(z.lanes, 16)
    XCTAssertFalse(z.fullWidth512)
    XCTAssertEqual(z.kernels.nmEfficiency, 0.78)
    XCTAssertEqual(z.kernels.csrEfficiency, 0.60)
    XCTAssertEqual(z.kernels.blocks.map { [$0.rows, $0.cols] }, [[4, 4], [8, 1], [4, 1]])
    let speedup = { (a: ConvAlgorithm, p: Int, nhwc: Bool) in SparseCostModel.winogradSpeedup(a, positions: p, channelsLast: nhwc, on: z) }
    XCTAssertEqual(speedup(.winograd4, 3136, false), 1.55)
    XCTAssertEqual(speedup(.winograd4, 784, false), 1.30)
    XCTAssertEqual(speedup(.winograd4, 196, false), 1.18)
    XCTAssertEqual(speedup(.winograd4, 784, true), 2.2)
    XCTAssertEqual(speedup(.winograd4, 196, true), 2.1)
    XCTAssertEqual(speedup(.winograd2, 49, false), 1.15)
    XCTAssertEqual(speedup(.winograd2, 49, true), 1.7)
    XCTAssertNil(speedup(.im2col, 49, false))
    // Full-width cores: dense relatively faster, sparse efficiencies lower.
    for d in [TargetDescription.zen5, .icelake, .sapphireRapids] {
      XCTAssertTrue(d.fullWidth512)
      XCTAssertLessThan(d.kernels.nmEfficiency, z.kernels.nmEfficiency)
      XCTAssertLessThan(d.kernels.blocks[0].efficiency, z.kernels.blocks[0].efficiency)
    }
  }

  func testCPUIDOfEmeraldRapids() throws {
    let cpu = try XCTUnwrap(CPUInfo(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, model: 207, flags: avx512Flags)))
    XCTAssertEqual(cpu.family, 6)
    XCTAssertEqual(cpu.model, 207)
    XCTAssertTrue(cpu.hasAVX512)
    let d = TargetDescription.detect(cpu)
    XCTAssertTrue(d.name.hasPrefix("sapphirerapids"), d.name)
    XCTAssertEqual(d.vectorBits, 512)
    XCTAssertEqual(d.caches.l2, 2 << 20)
    // The guest exposes no AMX, FP16 or BF16: those are dropped.
    XCTAssertEqual(d.features, [.avx2, .fma, .avx512f, .avx512bw, .avx512dq, .avx512vl, .avx512vnni])
  }

  func testCPUIDOfAZen4GuestWithoutAVX512() throws {
    // This machine's kind: family 25 model 17 with AVX-512 hidden by the hypervisor.
    let cpu = try XCTUnwrap(CPUInfo(cpuinfo: cpuinfo(vendor: "AuthenticAMD", family: 25, model: 17, flags: "avx2 fma")))
    let d = TargetDescription.detect(cpu)
    XCTAssertEqual(d.name, "zen4 (AVX-512 not exposed)")
    XCTAssertEqual(d.vectorBits, 256)
    XCTAssertEqual(d.lanes, 8)
    XCTAssertEqual(d.features, [.avx2, .fma])
    XCTAssertEqual(d.kernels, TargetDescription.zen4.kernels)
  }

  func testCPUIDOfUnknownModelsGoesByFeatures() throws {
    let intel = try XCTUnwrap(CPUInfo(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, model: 250, flags: "avx2 fma")))
    XCTAssertEqual(TargetDescription.detect(intel), .haswell)
    let wide = try XCTUnwrap(CPUInfo(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, model: 250, flags: avx512Flags)))
    XCTAssertTrue(TargetDescription.detect(wide).name.hasPrefix("icelake"))
    let zen3 = try XCTUnwrap(CPUInfo(cpuinfo: cpuinfo(vendor: "AuthenticAMD", family: 25, model: 1, flags: "avx2 fma")))
    XCTAssertEqual(TargetDescription.detect(zen3), .haswell)
    let zen5 = try XCTUnwrap(CPUInfo(cpuinfo: cpuinfo(vendor: "AuthenticAMD", family: 26, model: 2,
                                                      flags: avx512Flags + " avx512_bf16 avx_vnni")))
    XCTAssertEqual(TargetDescription.detect(zen5), .zen5)
    XCTAssertNil(CPUInfo(cpuinfo: "flags: avx2\n"))
  }

  func testJSONRoundTripIsByteStable() throws {
    for d in TargetDescription.table {
      let data = d.jsonData()
      let back = try TargetDescription.decode(data, path: "t.json")
      XCTAssertEqual(back, d)
      XCTAssertEqual(back.jsonData(), data)
    }
    let text = String(decoding: TargetDescription.zen4.jsonData(), as: UTF8.self)
    XCTAssertTrue(text.contains("\"nmEfficiency\" : 0.78"), text)
  }

  func testMalformedTuningFilesNameThePathAndKey() {
    func message(_ text: String) -> String {
      do {
        _ = try TargetDescription.decode(Data(text.utf8), path: "dir/machine.json")
        return "no error"
      } catch let d as Diagnostic {
        return d.description
      } catch {
        return "\(error)"
      }
    }
    XCTAssertTrue(message("{").contains("dir/machine.json"), message("{"))
    var object = try! JSONSerialization.jsonObject(with: TargetDescription.zen4.jsonData()) as! [String: Any]
    object["kernels"] = (object["kernels"] as! [String: Any]).filter { $0.key != "csrEfficiency" }
    let missing = message(String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    XCTAssertTrue(missing.contains("dir/machine.json") && missing.contains("csrEfficiency"), missing)
    var bad = TargetDescription.zen4
    bad.kernels.nmEfficiency = -1
    let negative = message(String(decoding: bad.jsonData(), as: UTF8.self))
    XCTAssertTrue(negative.contains("kernels.nmEfficiency must be a positive number"), negative)
    bad = .zen4
    bad.vectorBits = 300
    XCTAssertTrue(message(String(decoding: bad.jsonData(), as: UTF8.self)).contains("vectorBits"))
  }

  func testTuningOverridesTheTableInAPass() throws {
    // A BERT-like 2:4 layer: the reference converts it (1.56x est.); a machine whose N:M
    // kernel measured at half the dense rate keeps it dense, through the pass context.
    let w = Tensor(shape: [16, 32], scalars: prunedNM(seededTensor([16, 32], seed: 12).array(of: Float.self),
                                                     rows: 16, k: 32, n: 2, m: 4))
    let m = try makeModule { b in
      let x = b.addArgument(name: "x", type: f32([16, 32]))
      return [try b.add1(.gemm, [x, b.constant(w, name: "w")], ["transB": .bool(true)], name: "y")]
    }
    func layout(_ target: TargetDescription) throws -> SparseLayout? {
      var options = PassManagerOptions()
      options.target = target
      var after = m
      try PassManager(passes: parsePipeline("sparsify,dce"), options: options).run(&after)
      return after.main.ops.first { $0.kind == .gemm }.map { after.main.type(of: $0.operands[1]).layout } ?? nil
    }
    XCTAssertEqual(try layout(.reference), .nm(n: 2, m: 4))
    var tuned = TargetDescription.reference
    tuned.kernels.nmEfficiency = 0.5
    tuned.kernels.csrEfficiency = 0.3
    let decoded = try TargetDescription.decode(tuned.jsonData(), path: "machine.json")
    XCTAssertNil(try layout(decoded))
    let choice = SparseCostModel.choose(analyzeWeight(w, transposed: true), mode: .auto, tokens: 16, on: decoded)
    XCTAssertTrue(choice.reason.hasPrefix("best sparse #nm<2,4> 1.00x"), choice.reason)
  }

  func testLaneFillFollowsTheVectorWidth() {
    // 49 positions: 49 of 64 lanes with 16-float vectors, 49 of 56 with 8-float ones.
    XCTAssertEqual(SparseCostModel.laneFill(tokens: 49, lanes: TargetDescription.zen4.lanes), 49.0 / 64, accuracy: 1e-12)
    XCTAssertEqual(SparseCostModel.laneFill(tokens: 49, lanes: TargetDescription.haswell.lanes), 49.0 / 56, accuracy: 1e-12)
  }
}
