import XCTest
import SparrowIR
@testable import SparrowIO

final class SIRFileTests: XCTestCase {
  func makeModule() throws -> Module {
    var b = Builder(module: Module(name: "net"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [1, 8]))
    let weights = (0..<32).map { Float($0 % 4 < 2 ? $0 : 0) }
    let w = b.constant(Tensor(shape: [4, 8], scalars: weights), name: "fc/weight", layout: .nm(n: 2, m: 4))
    let bias = b.constant(Tensor(shape: [4], scalars: [Float(0.5), -1, 2, 0]), name: "fc.bias")
    let y = try b.add1(.gemm, [x, w, bias], ["transB": .bool(true)], name: "y")
    return b.finish(results: [y])
  }

  func testWriteAndReadWithSidecar() throws {
    let folder = try temporaryFolder()
    let m = try makeModule()
    try SIRFile.write(m, path: "\(folder)/out.sir")
    let text = try String(contentsOfFile: "\(folder)/out.sir", encoding: .utf8)
    XCTAssertTrue(text.hasPrefix("module @net weights \"out.safetensors\" {\n"), text)
    XCTAssertTrue(text.contains("const @\"fc/weight\" : tensor<4x8xf32> = <sidecar>"), text)
    XCTAssertTrue(text.contains("const @fc.bias : tensor<4xf32> = [0.5, -1.0, 2.0, 0.0]"), text)
    let sidecar = try Safetensors.read(path: "\(folder)/out.safetensors")
    XCTAssertEqual(Array(sidecar.keys), ["fc/weight"])
    let back = try SIRFile.read(path: "\(folder)/out.sir")
    XCTAssertEqual(back.constants["fc/weight"], m.constants["fc/weight"])
    XCTAssertEqual(printModule(back, options: .roundTrip), text)
    XCTAssertNoThrow(try verify(back))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["out.safetensors", "out.sir"])
    // Deterministic: writing again gives the same bytes.
    try SIRFile.write(back, path: "\(folder)/again.sir")
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/again.safetensors")),
                   try Data(contentsOf: URL(fileURLWithPath: "\(folder)/out.safetensors")))
  }

  func testFailedWriteLeavesNoSidecar() throws {
    let folder = try temporaryFolder()
    try FileManager.default.createDirectory(atPath: "\(folder)/out.sir/x", withIntermediateDirectories: true)
    XCTAssertThrowsError(try SIRFile.write(try makeModule(), path: "\(folder)/out.sir"))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out.sir"])
  }

  func testSmallModuleNeedsNoSidecar() throws {
    let folder = try temporaryFolder()
    try SIRFile.write(try makeModule(), path: "\(folder)/small.sir", inlineLimit: 100)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["small.sir"])
    let back = try SIRFile.read(path: "\(folder)/small.sir")
    XCTAssertNil(back.weightsFile)
    XCTAssertEqual(back.constants["fc/weight"], try makeModule().constants["fc/weight"])
  }

  func testSidecarPathsAreConfinedToTheFolder() throws {
    let folder = try temporaryFolder()
    for name in ["/etc/passwd", "../w.safetensors", "a/../../w.safetensors"] {
      let text = "module @m weights \(quoted(name)) {\n  const @c : tensor<20xf32> = <sidecar>\n}\n"
      try text.write(toFile: "\(folder)/m.sir", atomically: true, encoding: .utf8)
      XCTAssertThrowsError(try SIRFile.read(path: "\(folder)/m.sir")) { e in
        XCTAssertTrue("\(e)".contains("\(folder)/m.sir:2:32: error: cannot load the weights sidecar"), "\(e)")
        XCTAssertTrue("\(e)".contains("relative path"), "\(e)")
      }
    }
    let missing = "module @m weights \"gone.safetensors\" {\n  const @c : tensor<20xf32> = <sidecar>\n}\n"
    try missing.write(toFile: "\(folder)/m.sir", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try SIRFile.read(path: "\(folder)/m.sir")) { e in
      XCTAssertTrue("\(e)".contains("gone.safetensors: error: cannot read"), "\(e)")
    }
  }

  func quoted(_ s: String) -> String { "\"\(s)\"" }

  func testSidecarEntryMustExistAndMatch() throws {
    let folder = try temporaryFolder()
    try Safetensors.write([("c", Tensor(zeros: TensorType(.f32, [21])))], path: "\(folder)/w.safetensors")
    for (decl, message) in [("@c : tensor<20xf32>", "is declared tensor<20xf32>"), ("@d : tensor<20xf32>", "has no tensor 'd'")] {
      let text = "module @m weights \"w.safetensors\" {\n  const \(decl) = <sidecar>\n}\n"
      try text.write(toFile: "\(folder)/m.sir", atomically: true, encoding: .utf8)
      XCTAssertThrowsError(try SIRFile.read(path: "\(folder)/m.sir")) { e in
        XCTAssertTrue("\(e)".contains(message), "\(e)")
      }
    }
  }
}

final class AtomicWriteTests: XCTestCase {
  func testReplacesAtomicallyAndLeavesNoTemporaryFile() throws {
    let folder = try temporaryFolder()
    let path = "\(folder)/f.bin"
    try writeAtomically([1, 2, 3], to: path)
    try writeAtomically([4, 5], to: path)
    XCTAssertEqual(try readFileBytes(path), [4, 5])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["f.bin"])
  }

  func testFailureLeavesNothingBehind() throws {
    let folder = try temporaryFolder()
    XCTAssertThrowsError(try writeAtomically([1], to: "\(folder)/no/such/dir/f.bin")) { e in
      XCTAssertTrue("\(e)".hasPrefix("\(folder)/no/such/dir/f.bin: error: cannot write"), "\(e)")
    }
    // Renaming onto a directory fails after the temporary file was written: it must be removed.
    try FileManager.default.createDirectory(atPath: "\(folder)/taken", withIntermediateDirectories: false)
    try FileManager.default.createDirectory(atPath: "\(folder)/taken/x", withIntermediateDirectories: false)
    XCTAssertThrowsError(try writeAtomically([1, 2], to: "\(folder)/taken"))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["taken"])
  }
}
