import XCTest
import SparrowIR
@testable import SparrowONNX

/// If, Loop and Scan are inlined at import when their conditions and trip counts are
/// known; otherwise the diagnostic names the node and the inputs to freeze.
final class ControlFlowTests: XCTestCase {
  private func graph(_ nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto] = [], outputs: [String]) -> Onnx_GraphProto {
    var g = Onnx_GraphProto()
    g.name = "body"
    g.node = nodes
    g.input = inputs
    g.output = outputs.map(Proto.output)
    return g
  }

  private func withGraphs(_ node: Onnx_NodeProto, _ graphs: [String: Onnx_GraphProto]) -> Onnx_NodeProto {
    var n = node
    for (name, g) in graphs.sorted(by: { $0.key < $1.key }) {
      var a = Onnx_AttributeProto()
      a.name = name
      a.type = .graph
      a.g = g
      n.attribute.append(a)
    }
    return n
  }

  /// If(cond) { y = x + x } else { y = x * x }.
  private func ifModel(condition: Onnx_TensorProto?) -> Onnx_ModelProto {
    let then = graph([Proto.node("Add", ["x", "x"], ["t"])], outputs: ["t"])
    let otherwise = graph([Proto.node("Mul", ["x", "x"], ["e"])], outputs: ["e"])
    let node = withGraphs(Proto.node("If", ["cond"], ["y"], name: "branch"), ["then_branch": then, "else_branch": otherwise])
    var inputs = [Proto.input("x", [2, 3])]
    if condition == nil { inputs.append(Proto.input("cond", [], type: 9)) }
    return Proto.model([node], inputs: inputs, outputs: ["y"], initializers: condition.map { [$0] } ?? [], opset: 13)
  }

  func testIfWithAKnownConditionInlinesTheTakenBranch() throws {
    var condition = Onnx_TensorProto()
    condition.name = "cond"
    condition.dataType = 9
    condition.int32Data = [0]
    let ops = try importModel(ifModel(condition: condition)).computeOps
    XCTAssertEqual(ops.map(\.kind), [.mul])
  }

  func testIfWithARuntimeConditionNamesTheInputToFreeze() {
    XCTAssertThrowsError(try importModel(ifModel(condition: nil))) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("node 'branch' (If)"), text)
      XCTAssertTrue(text.contains("--freeze cond=FILE.npy"), text)
    }
  }

  /// Loop(3) carrying s: s = s + x, scanning s: unrolled into three adds, the scan stacked.
  func testLoopWithAConstantTripCountIsUnrolled() throws {
    let body = graph([Proto.node("Add", ["s_in", "x"], ["s_out"]), Proto.node("Identity", ["c_in"], ["c_out"]),
                      Proto.node("Identity", ["s_out"], ["scan"])],
                     inputs: [Proto.input("i", [], type: 7), Proto.input("c_in", [], type: 9), Proto.input("s_in", [2])],
                     outputs: ["c_out", "s_out", "scan"])
    let loop = withGraphs(Proto.node("Loop", ["n", "", "s0"], ["s", "all"], name: "loop"), ["body": body])
    let m = Proto.model([loop], inputs: [Proto.input("x", [2]), Proto.input("s0", [2])], outputs: ["s", "all"],
                        initializers: [Proto.ints("n", [3], dims: [])], opset: 13)
    let module = try importModel(m)
    XCTAssertEqual(module.computeOps.filter { $0.kind == .add }.count, 3)
    XCTAssertEqual(module.main.type(of: module.main.results[1]).shape, [3, 2])
  }

  func testLoopWithARuntimeTripCountIsRefused() {
    let body = graph([Proto.node("Identity", ["c_in"], ["c_out"])],
                     inputs: [Proto.input("i", [], type: 7), Proto.input("c_in", [], type: 9)], outputs: ["c_out"])
    let loop = withGraphs(Proto.node("Loop", ["n", ""], [], name: "loop"), ["body": body])
    let m = Proto.model([loop, Proto.node("Identity", ["x"], ["y"])], inputs: [Proto.input("x", [2]), Proto.input("n", [], type: 7)],
                        outputs: ["y"], opset: 13)
    XCTAssertThrowsError(try importModel(m)) { error in
      XCTAssertTrue("\(error)".contains("--freeze n=FILE.npy"), "\(error)")
    }
  }
}
