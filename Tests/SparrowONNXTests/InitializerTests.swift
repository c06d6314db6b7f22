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

  private func sparse(dims: [Int64], values: [Float], indices: [Int64], indexDims: [Int]? = nil) -> Onnx_SparseTensorProto {
    var s = Onnx_SparseTensorProto()
    s.dims = dims
    s.values = Proto.floats("sp", [values.count], values)
    s.indices = Proto.ints("", indices, dims: indexDims)
    return s
  }

  func testSparseInitializerWithIndexTuples() throws {
    let s = sparse(dims: [2, 3], values: [7, 8, 9], indices: [0, 2, 1, 0, 1, 2], indexDims: [3, 2])
    XCTAssertEqual(try makeTensor(s, root: root, what: "sp").array(of: Float.self), [0, 0, 7, 8, 0, 9])
    let empty = sparse(dims: [4], values: [], indices: [])
    XCTAssertEqual(try makeTensor(empty, root: root, what: "sp").array(of: Float.self), [0, 0, 0, 0])
  }

  /// Every way onnx.proto's rules can be broken is a diagnostic saying which, never a trap.
  func testMalformedSparseInitializersAreRejected() {
    let cases: [(Onnx_SparseTensorProto, String)] = [
      (sparse(dims: [2, 3], values: [1, 2], indices: [1, 6]), "outside 0..<6"),
      (sparse(dims: [2, 3], values: [1, 2], indices: [1, -1]), "outside 0..<6"),
      (sparse(dims: [2, 3], values: [1], indices: [0, 3], indexDims: [1, 2]), "in dimension 1, outside 0..<3"),
      (sparse(dims: [2, 3], values: [1, 2], indices: [4, 1]), "value 1 comes before value 0"),
      (sparse(dims: [2, 3], values: [1, 2], indices: [1, 0, 0, 2], indexDims: [2, 2]), "comes before"),
      (sparse(dims: [2, 3], values: [1, 2], indices: [3, 3]), "repeats the index of value 0"),
      (sparse(dims: [2, 3], values: [1, 2], indices: [1, 2, 3]), "need [2] (linearized) or [2, 2]"),
      (sparse(dims: [2, 3], values: [1, 2], indices: [0, 1, 2, 3, 4, 5], indexDims: [2, 3]), "need [2]"),
      (sparse(dims: [1, 1], values: [1, 2], indices: [0, 1]), "do not fit 1 elements"),
      (sparse(dims: [1 << 40, 1 << 40, 1 << 40], values: [1], indices: [0]), "too large"),
      (sparse(dims: [2, -3], values: [1], indices: [0]), "negative dims"),
    ]
    for (s, expected) in cases {
      XCTAssertThrowsError(try makeTensor(s, root: root, what: "sp")) { e in
        XCTAssert("\(e)".contains(expected), "'\(e)' should say '\(expected)'")
      }
    }
    // A few bytes of COO declaring a dense tensor over the limit: refused before allocating.
    XCTAssertThrowsError(try makeTensor(sparse(dims: [1 << 15, 1 << 15], values: [1], indices: [0]), root: root, what: "sp"))
    XCTAssertThrowsError(try makeTensor(sparse(dims: [1024], values: [1], indices: [0]), root: root, what: "sp",
                                        maxBytes: 4000)) { e in XCTAssert("\(e)".contains("1000 elements"), "\(e)") }
    var floatIndices = sparse(dims: [4], values: [1], indices: [0])
    floatIndices.indices = Proto.floats("", [1], [0])
    XCTAssertThrowsError(try makeTensor(floatIndices, root: root, what: "sp")) { e in
      XCTAssert("\(e)".contains("must be integers"), "\(e)")
    }
    var matrixValues = sparse(dims: [4], values: [1, 2], indices: [0, 1])
    matrixValues.values = Proto.floats("sp", [1, 2], [1, 2])
    XCTAssertThrowsError(try makeTensor(matrixValues, root: root, what: "sp"))
  }

  func testSparseInitializerFeedsANodeAndIsLocated() throws {
    var g = Proto.model([Proto.node("MatMul", ["x", "w"], ["y"], name: "mm")],
                        inputs: [Proto.input("x", [1, 2])], outputs: ["y"])
    g.graph.sparseInitializer = [sparse(dims: [2, 3], values: [7, 8], indices: [1, 5])]
    g.graph.sparseInitializer[0].values.name = "w"
    let m = try importModel(g)
    XCTAssertEqual(m.computeOps.map(\.kind), [.matmul])

    g.graph.sparseInitializer[0].indices = Proto.ints("", [5, 1])
    XCTAssertThrowsError(try importModel(g, folder: dir)) { e in
      XCTAssert("\(e)".hasPrefix(dir + "/model.onnx") && "\(e)".contains("sparse initializer 'w'"), "\(e)")
    }
    g.graph.sparseInitializer[0].indices = Proto.ints("", [1, 5])
    g.graph.initializer = [Proto.floats("w", [2, 3], [Float](repeating: 1, count: 6))]
    XCTAssertThrowsError(try importModel(g)) { e in XCTAssert("\(e)".contains("another initializer"), "\(e)") }
    g.graph.initializer = []
    g.graph.sparseInitializer[0].values.name = ""
    XCTAssertThrowsError(try importModel(g)) { e in XCTAssert("\(e)".contains("has no name"), "\(e)") }
  }
}
