//===--- BLASCoreChoiceTests.swift - OPENBLAS_CORETYPE on CPUs OpenBLAS does not know ---===//

import SparrowInterpreter
import SparrowTargetSupport
import XCTest

final class BLASCoreChoiceTests: XCTestCase {
  private func cpu(_ flags: String) -> CPUInfo {
    CPUInfo(vendor: "GenuineIntel", family: 6, model: 207, flags: Set(flags.split(separator: " ").map(String.init)))
  }

  func testGenericCoreOnAnAVX512CPUGetsSkylakeX() {
    let emerald = cpu("sse3 avx2 fma avx512f avx512bw avx512dq avx512vl")
    XCTAssertEqual(BLASCoreChoice.coreType(cpu: emerald, coreName: "Prescott", environment: [:]), "SkylakeX")
    // AVX2 kernels are not enough for an AVX-512 CPU either.
    XCTAssertEqual(BLASCoreChoice.coreType(cpu: emerald, coreName: "Haswell", environment: [:]), "SkylakeX")
    XCTAssertNil(BLASCoreChoice.coreType(cpu: emerald, coreName: "SkylakeX", environment: [:]))
    XCTAssertNil(BLASCoreChoice.coreType(cpu: emerald, coreName: "Cooperlake", environment: [:]))
  }

  func testGenericCoreOnAnAVX2CPUGetsHaswell() {
    let avx2 = cpu("sse3 avx avx2 fma")
    XCTAssertEqual(BLASCoreChoice.coreType(cpu: avx2, coreName: "Prescott", environment: [:]), "Haswell")
    XCTAssertEqual(BLASCoreChoice.coreType(cpu: avx2, coreName: "Sandybridge", environment: [:]), "Haswell")
    XCTAssertNil(BLASCoreChoice.coreType(cpu: avx2, coreName: "Zen", environment: [:]))
    XCTAssertNil(BLASCoreChoice.coreType(cpu: avx2, coreName: "Haswell", environment: [:]))
  }

  func testNeverOverridesTheUsersSettingNorOldCPUs() {
    let emerald = cpu("avx2 fma avx512f avx512bw avx512dq avx512vl")
    XCTAssertNil(BLASCoreChoice.coreType(cpu: emerald, coreName: "Prescott", environment: ["OPENBLAS_CORETYPE": "Haswell"]))
    XCTAssertNil(BLASCoreChoice.coreType(cpu: cpu("sse3 ssse3"), coreName: "Prescott", environment: [:]))
    // AVX-512F alone (no BW/DQ/VL) is not SkylakeX-class.
    XCTAssertEqual(BLASCoreChoice.coreType(cpu: cpu("avx2 fma avx512f"), coreName: "Prescott", environment: [:]), "Haswell")
  }

  func testTheLoadedCoreHasAName() {
    XCTAssertFalse(BLASCoreChoice.loadedCoreName.isEmpty)
  }
}
