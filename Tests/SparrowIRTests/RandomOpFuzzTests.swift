import XCTest
@testable import SparrowIR
import SparrowTestSupport
import SparrowTargetSupport

/// Every op of the table with random operand shapes and attribute values (edge cases
/// included) must parse or throw a Diagnostic, never trap.
final class RandomOpFuzzTests: XCTestCase {
  func randomInt(_ rng: inout SeededGenerator) -> Int {
    let edges = [0, 1, 2, 3, -1, -2, 4, 64, Int.max, Int.min, 1 << 40, -(1 << 40), Int(Int32.max)]
    return rng.next() % 3 == 0 ? edges[Int(rng.next() % UInt64(edges.count))] : Int(rng.next() % 5)
  }

  func randomValue(_ kind: AttributeKind, _ rng: inout SeededGenerator) -> String {
    let count = Int(rng.next() % 5)
    switch kind {
    case .int: return String(randomInt(&rng))
    case .float: return ["0.5", "-1.0", "inf", "nan", "1e30", "0.0"][Int(rng.next() % 6)]
    case .bool: return rng.next() % 2 == 0 ? "true" : "false"
    case .string: return ["\"forward\"", "\"none\"", "\"ij,jk->ik\"", "\"\"", "\"->\"", "\"nearest\"", "\"DCR\"", "\"...\""][Int(rng.next() % 8)]
    case .ints: return "[" + (0..<count).map { _ in String(randomInt(&rng)) }.joined(separator: ", ") + "]"
    case .floats: return "[" + (0..<count).map { _ in "1.5" }.joined(separator: ", ") + "]"
    case .strings: return "[" + (0..<count).map { _ in "\"Tanh\"" }.joined(separator: ", ") + "]"
    case .type: return ["f32", "i64", "bool", "i8"][Int(rng.next() % 4)]
    case .convAlgorithm: return ["\"direct\"", "\"im2col\"", "\"winograd4\"", "\"gemm1x1\"", "\"fft\""][Int(rng.next() % 5)]
    case .convLayout: return ["\"nchw\"", "\"nhwc\"", "\"ncdhw\""][Int(rng.next() % 3)]
    case .epilogue: return ["[]", "[\"relu\"]", "[\"add\", \"clip:0.0:6.0\"]", "[\"clip:1\"]", "[\"swish\"]"][Int(rng.next() % 5)]
    }
  }

  func randomType(_ rng: inout SeededGenerator) -> String {
    let rank = Int(rng.next() % 5)
    let dims = (0..<rank).map { _ in String([0, 1, 2, 3, 4, 6][Int(rng.next() % 6)]) }
    let element = ["f32", "f32", "i64", "bool", "i32"][Int(rng.next() % 5)]
    return "tensor<" + dims.map { $0 + "x" }.joined() + element + ">"
  }

  func testRandomOpsNeverTrap() {
    var rng = SeededGenerator(seed: UInt64(ProcessInfo.processInfo.environment["SPARROW_FUZZ_SEED"] ?? "7") ?? 7)
    for kind in OpKind.allCases where kind != .constant {
      let spec = kind.spec
      for _ in 0..<(ProcessInfo.processInfo.environment["SPARROW_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 100) {
        let operandCount = min(spec.operands.lowerBound + Int(rng.next() % 2), 8)
        let args = (0..<operandCount).map { "%a\($0): \(randomType(&rng))" }.joined(separator: ", ")
        let operands = (0..<operandCount).map { "%a\($0)" }.joined(separator: ", ")
        let attributes = spec.attributes.filter { _ in rng.next() % 4 != 0 }
          .map { "\($0.name) = \(randomValue($0.kind, &rng))" }.joined(separator: ", ")
        let text = """
          module @m {
            func @f(\(args)) -> () {
              %r = \(kind.rawValue) \(operands) {\(attributes)} : \(randomType(&rng))
              return
            }
          }
          """
        if let m = try? parseModule(text) { _ = printModule(m); _ = try? verify(m) }
      }
    }
  }

  func randomAttribute(_ kind: AttributeKind, _ rng: inout SeededGenerator) -> AttributeValue {
    let count = Int(rng.next() % 4)
    switch kind {
    case .int: return .int(Int(rng.next() % 4))
    case .float: return .float([0.5, -1.25, .infinity, 1e-7, 3][Int(rng.next() % 5)])
    case .bool: return .bool(rng.next() % 2 == 0)
    case .string: return .string(["forward", "none", "ij,jk->ik", "a\"b", "nearest", "DCR", "tanh"][Int(rng.next() % 7)])
    case .ints: return .ints((0..<count).map { _ in Int(rng.next() % 4) })
    case .floats: return .floats((0..<count).map { _ in Float(rng.next() % 3) / 2 })
    case .strings: return .strings((0..<count).map { _ in "Tanh" })
    case .type: return .type(ElementType.allCases[Int(rng.next() % UInt64(ElementType.allCases.count))])
    case .convAlgorithm: return .convAlgorithm(ConvAlgorithm.allCases[Int(rng.next() % UInt64(ConvAlgorithm.allCases.count))])
    case .convLayout: return .convLayout(ConvLayout.allCases[Int(rng.next() % 2)])
    case .epilogue: return .epilogue([[], [.relu], [.clip(min: 0, max: 6)], [.gelu(approximate: "tanh")]][Int(rng.next() % 4)])
    }
  }

  /// Random valid ops (types inferred by the Builder) print, parse and print identically.
  func testRandomValidModulesRoundTrip() throws {
    var rng = SeededGenerator(seed: 11)
    var kindsSeen: Set<OpKind> = []
    for _ in 0..<8_000 {
      let kind = OpKind.allCases[Int(rng.next() % UInt64(OpKind.allCases.count))]
      guard kind != .constant else { continue }
      let spec = kind.spec
      var b = Builder(module: Module(name: "r"), function: Function(name: "main"))
      let operandCount = min(spec.operands.lowerBound + Int(rng.next() % 2), spec.operands.upperBound)
      let shape = [[2, 4], [1, 2, 4, 4], [4], [], [2, 4, 4]][Int(rng.next() % 5)]
      let element: ElementType = [.f32, .f32, .i64, .bool][Int(rng.next() % 4)]
      var operands: [ValueID] = []
      for i in 0..<operandCount {
        if rng.next() % 3 == 0 {
          let t = Tensor(zeros: TensorType(element, shape))
          operands.append(b.constant(t, name: "c\(i)"))
        } else {
          operands.append(b.addArgument(name: "a \(i)", type: TensorType(element, shape)))
        }
      }
      var attributes: [String: AttributeValue] = [:]
      for a in spec.attributes where rng.next() % 3 != 0 {
        attributes[a.name] = randomAttribute(a.kind, &rng)
      }
      guard let results = try? b.add(kind, operands, attributes, names: ["y", "y:1", "y 2"]) else { continue }
      kindsSeen.insert(kind)
      let m = b.finish(results: results)
      XCTAssertNoThrow(try verify(m))
      let options = PrintOptions(inlineLimit: 1000)
      let text = printModule(m, options: options)
      do {
        let again = try parseModule(text)
        XCTAssertEqual(printModule(again, options: options), text)
        XCTAssertNoThrow(try verify(again))
      } catch {
        XCTFail("\(error)\n\(text)")
      }
    }
    XCTAssertGreaterThan(kindsSeen.count, 60, "only \(kindsSeen.count) op kinds were exercised")
  }
}
