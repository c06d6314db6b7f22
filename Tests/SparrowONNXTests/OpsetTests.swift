import XCTest
import SparrowIR
@testable import SparrowONNX

/// The same op in an old opset (attributes) and a new one (constant inputs) imports to the
/// same normalized IR.
final class OpsetTests: XCTestCase {
  private func single(_ m: Onnx_ModelProto, file: StaticString = #filePath, line: UInt = #line) throws -> SparrowIR.Operation {
    let ops = try importModel(m).computeOps
    XCTAssertEqual(ops.count, 1, "\(ops.map(\.kind))", file: file, line: line)
    return try XCTUnwrap(ops.first)
  }

  func testSplitAttributeAndInput() throws {
    let x = Proto.input("x", [6, 4])
    let old = Proto.model([Proto.node("Split", ["x"], ["a", "b"], ["axis": .int(0), "split": .ints([2, 4])])],
                          inputs: [x], outputs: ["a", "b"], opset: 11)
    let new = Proto.model([Proto.node("Split", ["x", "s"], ["a", "b"], ["axis": .int(-2)])],
                          inputs: [x], outputs: ["a", "b"], initializers: [Proto.ints("s", [2, 4])], opset: 13)
    for m in [old, new] {
      let op = try single(m)
      XCTAssertEqual(op.kind, .split)
      XCTAssertEqual(op.attributes.ints("sizes"), [2, 4])
      XCTAssertEqual(op.attributes.int("axis"), 0)
    }
    // Opset 18 num_outputs splits unevenly: ceil(5 / 2) = 3, then 2.
    let uneven = Proto.model([Proto.node("Split", ["x"], ["a", "b"], ["axis": .int(1), "num_outputs": .int(2)])],
                             inputs: [Proto.input("x", [2, 5])], outputs: ["a", "b"], opset: 18)
    XCTAssertEqual(try single(uneven).attributes.ints("sizes"), [3, 2])
  }

  func testSqueezeAndUnsqueezeBecomeReshapes() throws {
    let x = Proto.input("x", [1, 3, 1, 2])
    let old = Proto.model([Proto.node("Squeeze", ["x"], ["y"], ["axes": .ints([0, -2])])], inputs: [x], outputs: ["y"], opset: 11)
    let new = Proto.model([Proto.node("Squeeze", ["x", "axes"], ["y"])], inputs: [x], outputs: ["y"],
                          initializers: [Proto.ints("axes", [0, 2])], opset: 13)
    let all = Proto.model([Proto.node("Squeeze", ["x"], ["y"])], inputs: [x], outputs: ["y"], opset: 13)
    for m in [old, new, all] {
      let op = try single(m)
      XCTAssertEqual(op.kind, .reshape)
      XCTAssertEqual(op.attributes.ints("shape"), [3, 2])
    }
    let unsqueeze = Proto.model([Proto.node("Unsqueeze", ["x", "axes"], ["y"])], inputs: [Proto.input("x", [3, 2])],
                                outputs: ["y"], initializers: [Proto.ints("axes", [0, -1])], opset: 13)
    XCTAssertEqual(try single(unsqueeze).attributes.ints("shape"), [1, 3, 2, 1])
  }

  func testSliceAttributesAndInputs() throws {
    let x = Proto.input("x", [4, 10])
    let old = Proto.model([Proto.node("Slice", ["x"], ["y"], ["starts": .ints([1]), "ends": .ints([Int(Int64.max)]),
                                                               "axes": .ints([-1])])],
                          inputs: [x], outputs: ["y"], opset: 9)
    let new = Proto.model([Proto.node("Slice", ["x", "s", "e", "a"], ["y"])], inputs: [x], outputs: ["y"],
                          initializers: [Proto.ints("s", [1]), Proto.ints("e", [Int64.max]), Proto.ints("a", [-1])],
                          opset: 13)
    for m in [old, new] {
      let op = try single(m)
      XCTAssertEqual(op.kind, .slice)
      XCTAssertEqual(op.attributes.ints("axes"), [1])
      XCTAssertEqual(op.attributes.ints("steps"), [1])
      XCTAssertEqual(op.attributes.ints("starts"), [1])
      XCTAssertEqual(try importModel(m).main.type(of: op.result).shape, [4, 9])
    }
  }

  func testClipAttributesAndInputs() throws {
    let x = Proto.input("x", [3])
    let old = Proto.model([Proto.node("Clip", ["x"], ["y"], ["min": .float(-1), "max": .float(2)])],
                          inputs: [x], outputs: ["y"], opset: 6)
    let new = Proto.model([Proto.node("Clip", ["x", "lo", "hi"], ["y"])], inputs: [x], outputs: ["y"],
                          initializers: [Proto.floats("lo", [], [-1]), Proto.floats("hi", [], [2])], opset: 13)
    for m in [old, new] {
      let op = try single(m)
      XCTAssertEqual(op.kind, .clip)
      XCTAssertEqual(op.attributes.float("min"), -1)
      XCTAssertEqual(op.attributes.float("max"), 2)
    }
    // Only max given: min stays -inf.
    let onlyMax = Proto.model([Proto.node("Clip", ["x", "", "hi"], ["y"])], inputs: [x], outputs: ["y"],
                              initializers: [Proto.floats("hi", [], [2])], opset: 13)
    XCTAssertEqual(try single(onlyMax).attributes.float("min"), -.infinity)
  }

  func testPadAttributesAndInputs() throws {
    let x = Proto.input("x", [2, 3])
    let old = Proto.model([Proto.node("Pad", ["x"], ["y"], ["pads": .ints([0, 1, 2, 0]), "value": .float(5)])],
                          inputs: [x], outputs: ["y"], opset: 2)
    let new = Proto.model([Proto.node("Pad", ["x", "p", "v"], ["y"])], inputs: [x], outputs: ["y"],
                          initializers: [Proto.ints("p", [0, 1, 2, 0]), Proto.floats("v", [], [5])], opset: 13)
    // Opset 18 axes: pads for axis 1 only.
    let axes = Proto.model([Proto.node("Pad", ["x", "p", "v", "a"], ["y"])], inputs: [x], outputs: ["y"],
                           initializers: [Proto.ints("p", [1, 0]), Proto.floats("v", [], [5]), Proto.ints("a", [-1])],
                           opset: 18)
    for m in [old, new] {
      let op = try single(m)
      XCTAssertEqual(op.attributes.ints("pads"), [0, 1, 2, 0])
      XCTAssertEqual(op.attributes.float("value"), 5)
    }
    XCTAssertEqual(try single(axes).attributes.ints("pads"), [0, 1, 0, 0])
  }

  func testReduceMeanAxesAttributeInputAndDefault() throws {
    let x = Proto.input("x", [2, 3, 4])
    let old = Proto.model([Proto.node("ReduceMean", ["x"], ["y"], ["axes": .ints([-1, 1]), "keepdims": .int(0)])],
                          inputs: [x], outputs: ["y"], opset: 13)
    let new = Proto.model([Proto.node("ReduceMean", ["x", "a"], ["y"], ["keepdims": .int(0)])], inputs: [x],
                          outputs: ["y"], initializers: [Proto.ints("a", [-1, 1])], opset: 18)
    for m in [old, new] {
      let op = try single(m)
      XCTAssertEqual(op.kind, .reduce_mean)
      XCTAssertEqual(op.attributes.ints("axes"), [2, 1])
      XCTAssertFalse(op.attributes.bool("keepdims"))
    }
    let all = Proto.model([Proto.node("ReduceMean", ["x"], ["y"])], inputs: [x], outputs: ["y"], opset: 18)
    XCTAssertEqual(try single(all).attributes.ints("axes"), [0, 1, 2])
  }

  func testOldSoftmaxFlattensToTwoDimensions() throws {
    let m = Proto.model([Proto.node("Softmax", ["x"], ["y"], ["axis": .int(1)])],
                        inputs: [Proto.input("x", [2, 3, 4])], outputs: ["y"], opset: 11)
    let ops = try importModel(m).computeOps
    XCTAssertEqual(ops.map(\.kind), [.reshape, .softmax, .reshape])
    XCTAssertEqual(ops[0].attributes.ints("shape"), [2, 12])
    XCTAssertEqual(ops[1].attributes.int("axis"), 1)
    let new = Proto.model([Proto.node("Softmax", ["x"], ["y"])], inputs: [Proto.input("x", [2, 3, 4])],
                          outputs: ["y"], opset: 13)
    XCTAssertEqual(try single(new).attributes.int("axis"), 2)
  }

  func testConvAutoPadSameUpper() throws {
    let w = Proto.floats("w", [2, 1, 3, 3], [Float](repeating: 1, count: 18))
    let m = Proto.model([Proto.node("Conv", ["x", "w"], ["y"], ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])])],
                        inputs: [Proto.input("x", [1, 1, 6, 6])], outputs: ["y"], initializers: [w])
    let module = try importModel(m)
    let op = try XCTUnwrap(module.computeOps.first)
    // out = 3; total pad = (3-1)*2 + 3 - 6 = 1: begin 0, end 1.
    XCTAssertEqual(op.attributes.ints("pads"), [0, 0, 1, 1])
    XCTAssertEqual(op.attributes.ints("dilations"), [1, 1])
    XCTAssertEqual(module.main.type(of: op.result).shape, [1, 2, 3, 3])
  }

  func testRecurrentDefaultsAreMaterialized() throws {
    let w = Proto.floats("W", [1, 8, 3], [Float](repeating: 0.1, count: 24))
    let r = Proto.floats("R", [1, 8, 2], [Float](repeating: 0.1, count: 16))
    let m = Proto.model([Proto.node("LSTM", ["x", "W", "R"], ["y", "h"], ["hidden_size": .int(2)])],
                        inputs: [Proto.input("x", [5, 1, 3])], outputs: ["y", "h"], initializers: [w, r])
    let module = try importModel(m)
    let op = try XCTUnwrap(module.computeOps.first)
    XCTAssertEqual(op.kind, .lstm)
    XCTAssertEqual(op.operands.count, 6)
    XCTAssertEqual(module.main.type(of: op.operands[3]).shape, [1, 16])
    XCTAssertEqual(module.main.type(of: op.operands[4]).shape, [1, 1, 2])
  }

  func testBatchNormTrainingModeUsesBatchStatistics() throws {
    let params = ["s", "b", "m", "v"].map { Proto.floats($0, [2], [1, 1]) }
    let m = Proto.model([Proto.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"],
                                    ["training_mode": .int(1), "momentum": .float(0.5)])],
                        inputs: [Proto.input("x", [3, 2, 4])], outputs: ["y", "rm", "rv"],
                        initializers: params, opset: 15)
    let ops = try importModel(m).computeOps
    // Batch mean and (biased) variance over axes 0 and 2 feed batch_norm.
    let means = ops.filter { $0.kind == .reduce_mean }
    XCTAssertEqual(means.count, 2)
    XCTAssertEqual(means.map { $0.attributes.ints("axes") }, [[0, 2], [0, 2]])
    XCTAssertEqual(ops.filter { $0.kind == .batch_norm }.count, 1)
    // Each running statistic is running * momentum (folded: the running values are
    // initializers) + batch * (1 - momentum); the third mul squares the deviation.
    XCTAssertEqual(ops.filter { $0.kind == .add }.count, 2)
    XCTAssertEqual(ops.filter { $0.kind == .mul }.count, 3)
  }


  func testCol2ImBecomesGroupedConvTranspose() throws {
    // Two channels, 2x2 blocks with stride 2 over a 5x5 image padded to 6x6: 3x3 blocks,
    // the last row and column of the padded image are covered by output_padding 0.
    let m = Proto.model([Proto.node("Col2Im", ["x", "image", "block"], ["y"],
                                    ["strides": .ints([2, 2]), "pads": .ints([0, 0, 1, 1])])],
                        inputs: [Proto.input("x", [1, 8, 9])], outputs: ["y"],
                        initializers: [Proto.ints("image", [5, 5]), Proto.ints("block", [2, 2])], opset: 18)
    let module = try importModel(m)
    let ops = module.computeOps
    XCTAssertEqual(ops.map(\.kind), [.reshape, .conv_transpose])
    XCTAssertEqual(ops[0].attributes.ints("shape"), [1, 8, 3, 3])
    XCTAssertEqual(ops[1].attributes.int("group"), 2)
    XCTAssertEqual(ops[1].attributes.ints("output_padding"), [0, 0])
    XCTAssertEqual(module.main.type(of: ops[1].result).shape, [1, 2, 5, 5])
    // Channel c * 4 + j of the weights is 1 at block offset j.
    let weights = try XCTUnwrap(module.main.ops.first { $0.kind == .constant && $0.result == ops[1].operands[1] })
    let w = try XCTUnwrap(module.constants[try XCTUnwrap(weights.constantName)])
    XCTAssertEqual(w.shape, [8, 1, 2, 2])
    XCTAssertEqual(w.doubles, (0..<8).flatMap { c in (0..<4).map { $0 == c % 4 ? 1.0 : 0.0 } })
  }


  func testDetExpandsSmallMatrices() throws {
    func det(_ dims: [Int]) throws -> SparrowIR.Module {
      try importModel(Proto.model([Proto.node("Det", ["x"], ["y"])], inputs: [Proto.input("x", dims)],
                                  outputs: ["y"], opset: 22))
    }
    // 2x2: ad - bc per batch entry.
    let two = try det([3, 2, 2])
    let ops = two.computeOps
    XCTAssertEqual(ops.filter { $0.kind == .slice }.map { $0.attributes.ints("starts") }, [[0], [1], [2], [3]])
    XCTAssertEqual(ops.last?.kind, .sub)
    XCTAssertEqual(two.main.type(of: try XCTUnwrap(ops.last).result).shape, [3])
    // 3x3: six products of three entries.
    XCTAssertEqual(try det([3, 3]).computeOps.filter { $0.kind == .mul }.count, 12)
    XCTAssertThrowsError(try det([4, 4])) { XCTAssertTrue($0 is Diagnostic) }
  }

}
