import XCTest
import SparrowIR
@testable import SparrowIO

final class NpyTests: XCTestCase {
  /// A .npy file laid out as numpy writes it: v1, header padded with spaces to 64 bytes.
  func numpyFile(_ dict: String, version: UInt8 = 1, data: [UInt8]) -> [UInt8] {
    let prefix = version == 1 ? 10 : 12
    let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
    let header = Array(dict.utf8) + [UInt8](repeating: 0x20, count: total - prefix - dict.utf8.count - 1) + [0x0a]
    let n = header.count
    let length: [UInt8] = version == 1 ? [UInt8(n & 0xff), UInt8(n >> 8)] : [UInt8(n & 0xff), UInt8(n >> 8), 0, 0]
    return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + header + data
  }

  func floatBytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

  func testEncodeMatchesNumpyBytes() throws {
    // np.save of np.arange(6, dtype=np.float32).reshape(2, 3): 128-byte header, then data.
    let t = Tensor(shape: [2, 3], scalars: (0..<6).map(Float.init))
    let expected = numpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                             data: floatBytes((0..<6).map(Float.init)))
    let bytes = try Npy.encode(t)
    XCTAssertEqual(bytes, expected)
    XCTAssertEqual(bytes.count, 152)
    XCTAssertEqual(Array(bytes[8..<10]), [118, 0])
  }

  func testDecodeVersions2And3() throws {
    for version: UInt8 in [2, 3] {
      let file = numpyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", version: version,
                           data: [1, 0, 0, 0, 2, 0, 0, 0])
      XCTAssertEqual(try Npy.decode(file).array(of: Int32.self), [1, 2])
    }
  }

  func testEveryTypeRoundTrips() throws {
    let tensors: [Tensor] = [
      Tensor(shape: [2], scalars: [Float(1.5), -2]), Tensor(shape: [1], scalars: [Double.pi]),
      Tensor(type: TensorType(.f16, [2]), bytes: [0, 0x3c, 0, 0xc0]),
      Tensor(shape: [2], scalars: [Int64.min, 7]), Tensor(shape: [1], scalars: [Int32(-3)]),
      Tensor(shape: [1], scalars: [Int16(-3)]), Tensor(shape: [2], scalars: [Int8(-1), 5]),
      Tensor(shape: [1], scalars: [UInt8(200)]), Tensor(shape: [1], scalars: [UInt16(60000)]),
      Tensor(shape: [1], scalars: [UInt32(4_000_000_000)]), Tensor(shape: [1], scalars: [UInt64.max]),
      Tensor(shape: [3], scalars: [true, false, true]), Tensor(scalar: Float(4)),
      Tensor(zeros: TensorType(.f32, [0, 5])), Tensor(zeros: TensorType(.i64, [2, 1, 3])),
    ]
    for t in tensors {
      XCTAssertEqual(try Npy.decode(try Npy.encode(t)), t, "\(t.type)")
    }
    XCTAssertThrowsError(try Npy.encode(Tensor(zeros: TensorType(.bf16, [1])))) { e in
      XCTAssertTrue("\(e)".contains("bfloat16"))
    }
  }

  func testByteOrderVariants() throws {
    for descr in ["=f4", "|f4", "<f4"] {
      let file = numpyFile("{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }", data: floatBytes([3]))
      XCTAssertEqual(try Npy.decode(file).array(of: Float.self), [3], descr)
    }
    let bytesOnly = numpyFile("{'fortran_order': False, 'descr': '>u1', 'shape': (2,)}", data: [9, 8])
    XCTAssertEqual(try Npy.decode(bytesOnly).array(of: UInt8.self), [9, 8])
    let rank0 = numpyFile("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": ()}", data: [0, 0, 0, 0, 0, 0, 0xf0, 0x3f])
    XCTAssertEqual(try Npy.decode(rank0), Tensor(scalar: 1.0))
  }

  func assertDiagnostic(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try Npy.decode(bytes, file: "in.npy"), file: file, line: line) { e in
      let text = "\(e)"
      XCTAssertTrue(text.hasPrefix("in.npy: error: ") && text.contains(expected), text, file: file, line: line)
    }
  }

  func testBadFilesAreDiagnosed() {
    let good = numpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: floatBytes([1, 2]))
    assertDiagnostic(Array("hello world".utf8), "bad magic")
    assertDiagnostic(Array(good.prefix(20)), "truncated")
    assertDiagnostic(Array(good.dropLast(1)), "data size mismatch")
    assertDiagnostic(good + [0], "data size mismatch")
    assertDiagnostic(numpyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data: floatBytes([1, 2])),
                     "Fortran-order")
    assertDiagnostic(numpyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data: floatBytes([1, 2])),
                     "big-endian")
    assertDiagnostic(numpyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: floatBytes([1, 2])),
                     "unsupported .npy dtype '<c8'")
    assertDiagnostic(numpyFile("{'descr': '<f4', 'shape': (2,), }", data: floatBytes([1, 2])), "no 'fortran_order'")
    assertDiagnostic(numpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,, }", data: floatBytes([1, 2])),
                     "bad .npy header")
    assertDiagnostic(numpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
                               data: []), "bad .npy shape")
    var future = good
    future[6] = 9
    assertDiagnostic(future, "unsupported .npy version 9.0")
  }

  func testEveryTruncationAndByteFlipThrowsWithoutTrapping() {
    let good = try! Npy.encode(Tensor(shape: [2, 2], scalars: [Float(1), 2, 3, 4]))
    for n in 0..<(good.count - 1) {
      XCTAssertThrowsError(try Npy.decode(Array(good.prefix(n))), "prefix \(n)")
    }
    for i in 0..<good.count {
      for b: UInt8 in [0, 0x27, 0x28, 0x29, 0x2c, 0x39, 0xff] {
        var bytes = good
        bytes[i] = b
        _ = try? Npy.decode(bytes)
      }
    }
  }

  func testFileRoundTripAndErrorsNameTheFile() throws {
    let folder = try temporaryFolder()
    let path = "\(folder)/x.npy"
    let t = Tensor(shape: [3], scalars: [Int64(1), 2, 3])
    try Npy.write(t, path: path)
    XCTAssertEqual(try Npy.read(path: path), t)
    XCTAssertThrowsError(try Npy.read(path: "\(folder)/missing.npy")) { e in
      XCTAssertTrue("\(e)".hasPrefix("\(folder)/missing.npy: error: cannot read"), "\(e)")
    }
    XCTAssertThrowsError(try Npy.read(path: folder)) { e in
      XCTAssertTrue("\(e)".contains("not a regular file"), "\(e)")
    }
  }

  /// Files written by numpy itself, when the project's Python is available.
  func testReadsFilesWrittenByNumpy() throws {
    let python = "/work/main/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else { throw XCTSkip("no numpy python") }
    let folder = try temporaryFolder()
    let script = """
      import numpy as np
      np.save('\(folder)/f.npy', np.array([[1.5, -2.0], [0.25, 8.0]], dtype=np.float32))
      np.save('\(folder)/h.npy', np.array([1.5, -0.5], dtype=np.float16))
      np.save('\(folder)/b.npy', np.array([True, False, True]))
      np.save('\(folder)/s.npy', np.int64(-7))
      np.save('\(folder)/n.npy', np.array([[1, 2, 3]], dtype='=u2'))
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", script]
    try process.run()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    XCTAssertEqual(try Npy.read(path: "\(folder)/f.npy"), Tensor(shape: [2, 2], scalars: [Float(1.5), -2, 0.25, 8]))
    XCTAssertEqual(try Npy.read(path: "\(folder)/h.npy").doubles, [1.5, -0.5])
    XCTAssertEqual(try Npy.read(path: "\(folder)/b.npy"), Tensor(shape: [3], scalars: [true, false, true]))
    XCTAssertEqual(try Npy.read(path: "\(folder)/s.npy"), Tensor(scalar: Int64(-7)))
    XCTAssertEqual(try Npy.read(path: "\(folder)/n.npy"), Tensor(shape: [1, 3], scalars: [UInt16(1), 2, 3]))
    // And numpy reads what we write.
    try Npy.write(Tensor(shape: [2], scalars: [Float(0.1), 3]), path: "\(folder)/ours.npy")
    let check = Process()
    check.executableURL = URL(fileURLWithPath: python)
    check.arguments = ["-c", "import numpy as np; a = np.load('\(folder)/ours.npy'); assert a.dtype == np.float32 and a.tolist() == [np.float32(0.1), 3.0], a"]
    try check.run()
    check.waitUntilExit()
    XCTAssertEqual(check.terminationStatus, 0)
  }
}

/// A fresh folder under the system temporary directory.
func temporaryFolder() throws -> String {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-io-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url.path
}
