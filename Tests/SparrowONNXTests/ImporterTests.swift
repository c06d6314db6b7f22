import Foundation
import XCTest
import SparrowIR
@testable import SparrowONNX

/// Graph walk, shapes, folding, initializers and diagnostics.
final class ImporterTests: XCTestCase {
  /// x -> Shape -> Gather(0) -> Unsqueeze -> Concat([.., -1]) -> Reshape: a static reshape.
  func testShapeSubgraphFoldsToStaticReshape() throws {
    let nodes = [
      Proto.node("Shape", ["x"], ["s"]),
      Proto.node("Gather", ["s", "zero"], ["d0"], ["axis": .int(0)]),
      Proto.node("Unsqueeze", ["d0", "axes"], ["d0u"]),
      Proto.node("Concat", ["d0u", "minus1"], ["shape"], ["axis": .int(0)]),
      Proto.node("Reshape", ["x", "shape"], ["y"]),
    ]
    let m = Proto.model(nodes, inputs: [Proto.input("x", [nil, 3, 4])], outputs: ["y"],
                        initializers: [Proto.ints("zero", [0], dims: []), Proto.ints("axes", [0]),
                                       Proto.ints("minus1", [-1])])
    var options = ONNXImportOptions()
    options.inputShapes = ["x": [2, 3, 4]]
    let module = try importModel(m, options: options)
    let ops = module.computeOps
    XCTAssertEqual(ops.map(\.kind), [.reshape])
    XCTAssertEqual(ops[0].attributes.ints("shape"), [2, 12])
    XCTAssertEqual(module.main.name(of: ops[0].result), "y")
    XCTAssertEqual(module.constants.count, 0)
    // Without the binding the symbolic first dim defaults to 1.
    XCTAssertEqual(try importModel(m).computeOps[0].attributes.ints("shape"), [1, 12])
  }

  func testConstantOfShapeRangeAndExpandFold() throws {
    let nodes = [
      Proto.node("ConstantOfShape", ["shp"], ["c"], ["value": .tensor(Proto.floats("v", [1], [2]))]),
      Proto.node("Range", ["start", "limit", "delta"], ["r"]),
      Proto.node("Cast", ["r"], ["rf"], ["to": .int(1)]),
      Proto.node("Mul", ["c", "rf"], ["y"]),
    ]
    let m = Proto.model(nodes, inputs: [], outputs: ["y"],
                        initializers: [Proto.ints("shp", [2, 3]), Proto.ints("start", [0], dims: []),
                                       Proto.ints("limit", [3], dims: []), Proto.ints("delta", [1], dims: [])])
    let module = try importModel(m)
    // Everything folds; the output is an identity of a constant.
    XCTAssertEqual(module.computeOps.map(\.kind), [.identity])
    let value = try XCTUnwrap(module.constants[module.constants.names[0]])
    XCTAssertEqual(value.array(of: Float.self), [0, 2, 4, 0, 2, 4])
  }

  /// Found by the DumpIR fuzzer: a 2-element shape constant asking ConstantOfShape for
  /// ~4 GB was filled at import (before --max-memory's estimate); now a located diagnostic.
  func testConstantOfShapeRefusesHugeConstants() throws {
    for (shape, type) in [([Int64(31_000), 31_500], 1), ([Int64(1) << 20, 1 << 8], 11)] {
      let value = Proto.floats("v", [1], [1.5])
      var typed = value
      typed.dataType = Int32(type)
      if type == 11 { typed.floatData = []; typed.doubleData = [1.5] }
      let m = Proto.model([Proto.node("ConstantOfShape", ["shp"], ["y"], name: "fill", ["value": .tensor(typed)])],
                          inputs: [], outputs: ["y"], initializers: [Proto.ints("shp", shape)])
      XCTAssertThrowsError(try importModel(m)) { e in
        XCTAssert("\(e)".contains("node 'fill' (ConstantOfShape)") && "\(e)".contains("MiB"), "\(e)")
      }
    }
  }

  func testNonConstantShapeAsksForFreeze() throws {
    let m = Proto.model([Proto.node("Reshape", ["x", "shape"], ["y"], name: "r1")],
                        inputs: [Proto.input("x", [2, 3]), Proto.input("shape", [2], type: 7)], outputs: ["y"])
    XCTAssertThrowsError(try importModel(m)) { e in
      let text = "\(e)"
      XCTAssert(text.contains("node 'r1' (Reshape)"), text)
      XCTAssert(text.contains("--freeze shape=FILE.npy"), text)
    }
    var options = ONNXImportOptions()
    options.frozenInputs = ["shape": Tensor(shape: [2], scalars: [Int64(3), 2])]
    let module = try importModel(m, options: options)
    XCTAssertEqual(module.computeOps[0].attributes.ints("shape"), [3, 2])
    XCTAssertEqual(module.main.arguments.count, 1)
  }

  func testUnsupportedOpsAreAllListed() throws {
    let nodes = [
      Proto.node("Relu", ["x"], ["a"]),
      Proto.node("FancyOp", ["a"], ["b"], name: "f1"),
      Proto.node("Relu", ["b"], ["c"]),
      Proto.node("OtherOp", ["c"], ["d"], name: "f2"),
      Proto.node("MyOp", ["d"], ["y"], name: "f3", domain: "com.example"),
    ]
    let m = Proto.model(nodes, inputs: [Proto.input("x", [2])], outputs: ["y"])
    XCTAssertThrowsError(try importModel(m, folder: "/models")) { e in
      guard let list = e as? DiagnosticList else { return XCTFail("\(e)") }
      XCTAssertEqual(list.diagnostics.count, 3)
      let text = list.description
      for part in ["/models/model.onnx: node 'f1' (FancyOp)", "node 'f2' (OtherOp)", "node 'f3' (MyOp)",
                   "domain 'com.example'"] {
        XCTAssert(text.contains(part), text)
      }
    }
  }

  func testSymbolicInnerDimNeedsInputShape() throws {
    let m = Proto.model([Proto.node("Relu", ["x"], ["y"])], inputs: [Proto.input("x", [nil, nil])], outputs: ["y"])
    XCTAssertThrowsError(try importModel(m)) { e in
      XCTAssert("\(e)".contains("--input-shape x="), "\(e)")
    }
    var options = ONNXImportOptions()
    options.inputShapes = ["x": [4, 5]]
    XCTAssertEqual(try importModel(m, options: options).main.type(of: ValueID(0)).shape, [4, 5])
    options.inputShapes = ["x": [4]]
    XCTAssertThrowsError(try importModel(m, options: options))
  }

  /// paddle2onnx writes unknown dims as `dim_value: -1` (some exporters write 0): like a
  /// `dim_param`, `--input-shape` binds them, a -1 first dim defaults to 1, and a -1 inner
  /// dim asks for a binding; fixed dims still must match.
  func testNegativeAndZeroDimValuesAreUnknown() throws {
    let m = Proto.model([Proto.node("Relu", ["x"], ["y"])], inputs: [Proto.input("x", [-1, 3, -1, 0])], outputs: ["y"])
    var options = ONNXImportOptions()
    options.inputShapes = ["x": [1, 3, 48, 192]]
    XCTAssertEqual(try importModel(m, options: options).main.type(of: ValueID(0)).shape, [1, 3, 48, 192])
    XCTAssertThrowsError(try importModel(m)) { e in
      XCTAssert("\(e)".contains("dim 2 is unknown (-1 in the model)"), "\(e)")
    }
    options.inputShapes = ["x": [1, 4, 48, 192]]
    XCTAssertThrowsError(try importModel(m, options: options)) { e in
      XCTAssert("\(e)".contains("dim 1 is 3 in the model, got 4"), "\(e)")
    }
    let leading = Proto.model([Proto.node("Relu", ["x"], ["y"])], inputs: [Proto.input("x", [-1, 3])], outputs: ["y"])
    XCTAssertEqual(try importModel(leading).main.type(of: ValueID(0)).shape, [1, 3])
  }

  /// Each op names the node it came from (unnamed nodes: their first output), each
  /// initializer constant its initializer; diagnostics after import carry them.
  func testOpsCarryTheirOrigins() throws {
    let nodes = [Proto.node("MatMul", ["x", "w"], ["h"], name: "fc1"), Proto.node("Relu", ["h"], ["y"])]
    let m = Proto.model(nodes, inputs: [Proto.input("x", [2, 3])], outputs: ["y"],
                        initializers: [Proto.floats("w", [3, 4], [Float](repeating: 0.5, count: 12))])
    let f = try importModel(m).main
    XCTAssertEqual(f.ops.map(\.kind), [.constant, .matmul, .relu])
    XCTAssertEqual(f.ops.map(\.origin), [Origin(weights: ["w"]), Origin(nodes: ["fc1"]), Origin(nodes: ["y"])])
    XCTAssertEqual(f.ops[1].diagnosticLocation, f.ops[1].location)  // the location names node 'fc1' already
  }

  func testMalformedModelsGiveDiagnostics() throws {
    // Truncated protobuf bytes.
    let good = Proto.model([Proto.node("Relu", ["x"], ["y"])], inputs: [Proto.input("x", [2])], outputs: ["y"])
    let bytes: [UInt8] = try good.serializedBytes()
    let dir = NSTemporaryDirectory() + "sparrow-onnx-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/bad.onnx"
    try Data(bytes.prefix(bytes.count - 3)).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try importONNX(path: path)) { e in XCTAssert("\(e)".contains("bad.onnx"), "\(e)") }
    XCTAssertThrowsError(try importONNX(path: dir + "/missing.onnx"))

    // A cycle, a dangling name, a missing input, a bad attribute type, wrong dims.
    let cycle = Proto.model([Proto.node("Relu", ["b"], ["a"], name: "n1"), Proto.node("Relu", ["a"], ["b"], name: "n2")],
                            inputs: [], outputs: ["b"])
    let dangling = Proto.model([Proto.node("Relu", ["nowhere"], ["y"], name: "n1")], inputs: [], outputs: ["y"])
    let missing = Proto.model([Proto.node("Add", ["x"], ["y"], name: "add")], inputs: [Proto.input("x", [2])], outputs: ["y"])
    let badAttr = Proto.model([Proto.node("Softmax", ["x"], ["y"], name: "sm", ["axis": .string("one")])],
                              inputs: [Proto.input("x", [2])], outputs: ["y"])
    let badDims = Proto.model([Proto.node("MatMul", ["x", "w"], ["y"], name: "mm")], inputs: [Proto.input("x", [2, 3])],
                              outputs: ["y"], initializers: [Proto.floats("w", [4, 2], [Float](repeating: 0, count: 8))])
    let badData = Proto.model([Proto.node("Relu", ["w"], ["y"])], inputs: [], outputs: ["y"],
                              initializers: [Proto.floats("w", [4, 2], [1, 2, 3])])
    for (m, needle) in [(cycle, "cycle"), (dangling, "'nowhere'"), (missing, "node 'add' (Add)"),
                        (badAttr, "node 'sm' (Softmax)"), (badDims, "node 'mm' (MatMul)"), (badData, "initializer 'w'")] {
      XCTAssertThrowsError(try importModel(m)) { e in
        XCTAssert("\(e)".contains(needle), "\(e)")
        XCTAssert("\(e)".contains("model.onnx"), "\(e)")
      }
    }
  }

  func testGraphOutputThatIsAnInputOrInitializer() throws {
    let m = Proto.model([], inputs: [Proto.input("x", [2])], outputs: ["x", "w"],
                        initializers: [Proto.floats("w", [1], [3])])
    let module = try importModel(m)
    XCTAssertEqual(module.computeOps.map(\.kind), [.identity, .identity])
    XCTAssertEqual(module.main.name(of: module.main.results[1]), "w")
  }

  func testIdentityAndDropoutAlias() throws {
    let m = Proto.model([Proto.node("Identity", ["x"], ["a"]), Proto.node("Dropout", ["a"], ["b"]),
                         Proto.node("Relu", ["b"], ["y"])],
                        inputs: [Proto.input("x", [2])], outputs: ["y"])
    let module = try importModel(m)
    XCTAssertEqual(module.computeOps.map(\.kind), [.relu])
    XCTAssertEqual(module.computeOps[0].operands, module.main.arguments)
  }
}
