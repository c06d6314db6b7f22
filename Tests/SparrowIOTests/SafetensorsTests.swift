import XCTest
import SparrowIR
@testable import SparrowIO

final class SafetensorsTests: XCTestCase {
  /// A file as the format specifies it: u64 LE header length, JSON header, data.
  func file(_ header: String, data: [UInt8]) -> [UInt8] {
    let h = Array(header.utf8)
    return (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xff) } + h + data
  }

  func testEncodeIsTheDocumentedLayout() {
    let a = Tensor(shape: [2], scalars: [Float(1), 2])
    let b = Tensor(shape: [1], scalars: [Int8(-1)])
    let bytes = Safetensors.encode([("w.0", a), ("b", b)])
    let header = #"{"w.0":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I8","shape":[1],"data_offsets":[8,9]}}"#
    let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
    XCTAssertEqual(bytes, file(padded, data: a.bytes + b.bytes))
    XCTAssertEqual((8 + padded.utf8.count) % 8, 0)
  }

  func testDecodeSpecFileWithMetadataAndAnyKeyOrder() throws {
    let header = #"{"__metadata__":{"format":"pt"},"b":{"data_offsets":[4,6],"shape":[],"dtype":"BF16"},"a":{"shape":[1,1],"dtype":"U8","data_offsets":[0,1]}}"#
    let decoded = try Safetensors.decode(file(header, data: [7, 0, 0, 0, 0x80, 0x3f]))
    XCTAssertEqual(decoded.map(\.name), ["a", "b"], "data order")
    XCTAssertEqual(decoded[0].tensor, Tensor(shape: [1, 1], scalars: [UInt8(7)]))
    XCTAssertEqual(decoded[1].tensor.type, TensorType(.bf16, []))
    XCTAssertEqual(decoded[1].tensor.doubles, [1.0])
  }

  func testEveryTypeRoundTrips() throws {
    var tensors: [(name: String, tensor: Tensor)] = []
    for (i, element) in ElementType.allCases.enumerated() {
      var t = Tensor(zeros: TensorType(element, [2, 3]))
      for j in t.bytes.indices { t.bytes[j] = UInt8((i * 31 + j * 7) & 0xff) }
      if element == .bool { t.bytes = t.bytes.map { $0 & 1 } }
      tensors.append(("t\"\(element.rawValue)\\", t))
    }
    tensors.append(("scalar", Tensor(scalar: Float(1))))
    tensors.append(("empty", Tensor(zeros: TensorType(.f32, [0]))))
    let decoded = try Safetensors.decode(Safetensors.encode(tensors))
    XCTAssertEqual(decoded.map(\.name), tensors.map(\.name))
    XCTAssertEqual(decoded.map(\.tensor), tensors.map(\.tensor))
  }

  func assertDiagnostic(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try Safetensors.decode(bytes, file: "w.safetensors"), file: file, line: line) { e in
      let text = "\(e)"
      XCTAssertTrue(text.hasPrefix("w.safetensors: error: ") && text.contains(expected), text, file: file, line: line)
    }
  }

  func testBadFilesAreDiagnosed() {
    assertDiagnostic([1, 2, 3], "too short")
    assertDiagnostic([255, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d], "exceeds the file size")
    assertDiagnostic(file("[1,2]", data: []), "not a JSON object")
    assertDiagnostic(file("{\"a\":", data: []), "bad safetensors header")
    assertDiagnostic(file(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
                     "unsupported dtype")
    assertDiagnostic(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}"#, data: [UInt8](repeating: 0, count: 8)),
                     "outside the 8-byte data section")
    assertDiagnostic(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
                     "8 bytes for shape [3] of F32 (needs 12)")
    assertDiagnostic(file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}"#, data: []), "bad shape")
    assertDiagnostic(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: [UInt8](repeating: 0, count: 8)),
                     "data_offsets")
    assertDiagnostic(file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}"#, data: []),
                     "appears twice")
  }

  func testTruncationsAndByteFlipsNeverTrap() {
    let good = Safetensors.encode([("w", Tensor(shape: [2], scalars: [Float(1), 2])), ("b", Tensor(scalar: Int64(3)))])
    for n in 0..<good.count - 1 { _ = try? Safetensors.decode(Array(good.prefix(n))) }
    for i in 0..<good.count {
      for b: UInt8 in [0, 0x22, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d, 0x39, 0xff] {
        var bytes = good
        bytes[i] = b
        _ = try? Safetensors.decode(bytes)
      }
    }
  }
}
