import Foundation
import XCTest
import SparrowIR
@testable import SparrowONNX
import SparrowTestSupport
import SparrowTargetSupport

/// Mutated models must give a module or a Diagnostic, never a trap (a trap ends the run).
final class FuzzTests: XCTestCase {
  private func seedModel() -> Onnx_ModelProto {
    let w = Proto.floats("w", [4, 2, 3, 3], (0..<72).map { Float($0) / 72 })
    let nodes = [
      Proto.node("Conv", ["x", "w"], ["c"], name: "conv", ["pads": .ints([1, 1, 1, 1]), "strides": .ints([1, 1])]),
      Proto.node("Relu", ["c"], ["r"], name: "relu"),
      Proto.node("Shape", ["r"], ["s"], name: "shape"),
      Proto.node("Gather", ["s", "zero"], ["n"], name: "gather"),
      Proto.node("Unsqueeze", ["n", "uaxes"], ["nu"], name: "unsqueeze"),
      Proto.node("Concat", ["nu", "minus1"], ["target"], name: "concat", ["axis": .int(0)]),
      Proto.node("Reshape", ["r", "target"], ["flat"], name: "reshape"),
      Proto.node("Slice", ["flat", "starts", "ends", "axes"], ["y"], name: "slice"),
    ]
    return Proto.model(nodes, inputs: [Proto.input("x", [nil, 2, 5, 5])], outputs: ["y"],
                       initializers: [w, Proto.ints("zero", [0], dims: []), Proto.ints("axes", [1]), Proto.ints("uaxes", [0]),
                                      Proto.ints("minus1", [-1]), Proto.ints("starts", [3]), Proto.ints("ends", [50])])
  }

  func testSeedImports() throws {
    let module = try importModel(seedModel())
    XCTAssertEqual(module.computeOps.map(\.kind), [.conv, .relu, .reshape, .slice])
  }

  func testMutatedBytesNeverTrap() throws {
    let bytes: [UInt8] = try seedModel().serializedBytes()
    var rng = SeededGenerator(seed: 42)
    var diagnostics = 0, imported = 0
    for _ in 0..<600 {
      var b = bytes
      switch rng.next() % 3 {
      case 0:
        for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
      case 1:
        b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
      default:
        let i = Int(rng.next() % UInt64(b.count))
        b[i] ^= UInt8(1 << (rng.next() % 8))
      }
      guard let m = try? Onnx_ModelProto(serializedBytes: b) else { continue }
      do {
        _ = try importModel(m)
        imported += 1
      } catch is Diagnostic {
        diagnostics += 1
      } catch is DiagnosticList {
        diagnostics += 1
      }
    }
    XCTAssertGreaterThan(diagnostics + imported, 100)
  }

  func testMutatedFieldsNeverTrap() throws {
    var rng = SeededGenerator(seed: 7)
    let extremes: [Int64] = [0, -1, 1, 2, -7, 1 << 31, -(1 << 40), Int64.max, Int64.min]
    for _ in 0..<400 {
      var m = seedModel()
      let k = Int(rng.next() % UInt64(m.graph.node.count))
      switch rng.next() % 5 {
      case 0:  // Hostile attribute values.
        if !m.graph.node[k].attribute.isEmpty {
          let a = Int(rng.next() % UInt64(m.graph.node[k].attribute.count))
          m.graph.node[k].attribute[a].ints = (0..<Int(rng.next() % 5)).map { _ in extremes[Int(rng.next() % 9)] }
          m.graph.node[k].attribute[a].i = extremes[Int(rng.next() % 9)]
        }
      case 1:  // Hostile initializer dims.
        let t = Int(rng.next() % UInt64(m.graph.initializer.count))
        m.graph.initializer[t].dims = (0..<Int(rng.next() % 4)).map { _ in extremes[Int(rng.next() % 9)] }
      case 2:  // Hostile initializer contents (shape-like constants).
        let t = Int(rng.next() % UInt64(m.graph.initializer.count))
        if m.graph.initializer[t].dataType == 7 {
          m.graph.initializer[t].int64Data = m.graph.initializer[t].int64Data.map { _ in extremes[Int(rng.next() % 9)] }
        }
      case 3:  // Rewired or dropped inputs.
        if !m.graph.node[k].input.isEmpty {
          let i = Int(rng.next() % UInt64(m.graph.node[k].input.count))
          m.graph.node[k].input[i] = ["", "x", "y", "w", "missing", "r"][Int(rng.next() % 6)]
        }
      default:  // Hostile input dims.
        m.graph.input[0].type.tensorType.shape.dim[Int(rng.next() % 4)].dimValue = extremes[Int(rng.next() % 9)]
      }
      do {
        _ = try importModel(m)
      } catch is Diagnostic {
      } catch is DiagnosticList {
      }
    }
  }
}
