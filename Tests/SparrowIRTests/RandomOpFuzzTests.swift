import XCTest
@testable import SparrowIR

/// Every op of the table with random operand shapes and attribute values (edge cases
/// included) must parse or throw a Diagnostic, never trap.
final class RandomOpFuzzTests: XCTestCase {
  func randomInt(_ rng: inout SplitMix) -> Int {
    let edges = [0, 1, 2, 3, -1, -2, 4, 64, Int.max, Int.min, 1 << 40, -(1 << 40), Int(Int32.max)]
    return rng.next() % 3 == 0 ? edges[Int(rng.next() % UInt64(edges.count))] : Int(rng.next() % 5)
  }

  func randomValue(_ kind: AttributeKind, _ rng: inout SplitMix) -> String {
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
    }
  }

  func randomType(_ rng: inout SplitMix) -> String {
    let rank = Int(rng.next() % 5)
    let dims = (0..<rank).map { _ in String([0, 1, 2, 3, 4, 6][Int(rng.next() % 6)]) }
    let element = ["f32", "f32", "i64", "bool", "i32"][Int(rng.next() % 5)]
    return "tensor<" + dims.map { $0 + "x" }.joined() + element + ">"
  }

  func testRandomOpsNeverTrap() {
    var rng = SplitMix(seed: UInt64(ProcessInfo.processInfo.environment["SPARROW_FUZZ_SEED"] ?? "7") ?? 7)
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
}
