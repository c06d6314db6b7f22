import Foundation
import XCTest
import SparrowIR
@testable import SparrowONNX

/// TensorProto storage forms and external data confinement.
final class InitializerTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "sparrow-onnx-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir + "/model", withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(atPath: dir)
  }

  private var root: ExternalDataRoot { ExternalDataRoot(folder: dir + "/model", modelFile: dir + "/model/m.onnx") }

  func testTypedFields() throws {
    var i8 = Onnx_TensorProto()
    i8.dataType = 3
    i8.dims = [3]
    i8.int32Data = [-1, 2, 127]
    XCTAssertEqual(try makeTensor(i8, root: root, what: "t").array(of: Int8.self), [-1, 2, 127])

    var half = Onnx_TensorProto()
    half.dataType = 10
    half.dims = [2]
    half.int32Data = [Int32(Float(1.5).float16Bits), Int32(Float(-2).float16Bits)]
    let h = try makeTensor(half, root: root, what: "t")
    XCTAssertEqual(h.element, .f16)
    XCTAssertEqual([h.double(at: 0), h.double(at: 1)], [1.5, -2])

    var b = Onnx_TensorProto()
    b.dataType = 9
    b.dims = [2]
    b.int32Data = [0, 1]
    XCTAssertEqual(try makeTensor(b, root: root, what: "t").bytes, [0, 1])

    var u64 = Onnx_TensorProto()
    u64.dataType = 13
    u64.dims = [1]
    u64.uint64Data = [UInt64.max]
    XCTAssertEqual(try makeTensor(u64, root: root, what: "t").array(of: UInt64.self), [UInt64.max])

    var raw = Onnx_TensorProto()
    raw.dataType = 7
    raw.dims = [2]
    raw.rawData = Data([Int64(5), -6].withUnsafeBytes { [UInt8]($0) })
    XCTAssertEqual(try makeTensor(raw, root: root, what: "t").array(of: Int64.self), [5, -6])
    raw.rawData = Data([1, 2, 3])
    XCTAssertThrowsError(try makeTensor(raw, root: root, what: "t"))
  }

  private func external(_ location: String, offset: Int? = nil, length: Int? = nil) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = "w"
    t.dataType = 1
    t.dims = [2]
    t.dataLocation = .external
    var entries = [("location", location)]
    if let offset { entries.append(("offset", "\(offset)")) }
    if let length { entries.append(("length", "\(length)")) }
    t.externalData = entries.map { k, v in
      var e = Onnx_StringStringEntryProto()
      e.key = k
      e.value = v
      return e
    }
    return t
  }

  func testExternalDataInsideTheFolder() throws {
    let values: [Float] = [0, 0, 1.5, -3]  // the tensor is the last two
    try Data(values.withUnsafeBytes { [UInt8]($0) }).write(to: URL(fileURLWithPath: dir + "/model/weights.bin"))
    let t = try makeTensor(external("weights.bin", offset: 8, length: 8), root: root, what: "w")
    XCTAssertEqual(t.array(of: Float.self), [1.5, -3])
    XCTAssertThrowsError(try makeTensor(external("weights.bin", offset: 12), root: root, what: "w")) { e in
      XCTAssert("\(e)".contains("exceeds"), "\(e)")
    }
    XCTAssertThrowsError(try makeTensor(external("nothere.bin"), root: root, what: "w")) { e in
      XCTAssert("\(e)".contains("not found"), "\(e)")
    }
  }

  func testExternalDataOutsideTheFolderIsRejected() throws {
    let values: [Float] = [1, 2]
    try Data(values.withUnsafeBytes { [UInt8]($0) }).write(to: URL(fileURLWithPath: dir + "/secret.bin"))
    try FileManager.default.createSymbolicLink(atPath: dir + "/model/link.bin", withDestinationPath: dir + "/secret.bin")
    for location in ["../secret.bin", dir + "/secret.bin", "sub/../../secret.bin", "link.bin"] {
      XCTAssertThrowsError(try makeTensor(external(location), root: root, what: "initializer 'w'"), location) { e in
        let text = "\(e)"
        XCTAssert(text.contains("initializer 'w'") && (text.contains("inside the model's folder")
                  || text.contains("outside the model's folder")), text)
      }
    }
    // Through the importer: the diagnostic names the model file.
    let m = Proto.model([Proto.node("Relu", ["w"], ["y"])], inputs: [], outputs: ["y"],
                        initializers: [external("../secret.bin")])
    XCTAssertThrowsError(try importModel(m, folder: dir + "/model")) { e in
      XCTAssert("\(e)".hasPrefix(dir + "/model/model.onnx"), "\(e)")
    }
  }

  func testSparseInitializerIsDensified() throws {
    var s = Onnx_SparseTensorProto()
    s.dims = [2, 3]
    s.values = Proto.floats("sp", [2], [7, 8])
    s.indices = Proto.ints("", [1, 5])
    let t = try makeTensor(s, root: root, what: "sp")
    XCTAssertEqual(t.shape, [2, 3])
    XCTAssertEqual(t.array(of: Float.self), [0, 7, 0, 0, 0, 8])
  }
}
