//===--- CommonSubexpressionElimination.swift - compute identical ops once ---===//
//
//   %a = relu %x : tensor<4xf32>                  %a = relu %x : tensor<4xf32>
//   %b = relu %x : tensor<4xf32>             =>   %c = add %a, %a : tensor<4xf32>
//   %c = add %a, %b : tensor<4xf32>
//
// Two ops are the same when kind, operands (in any order for commutative ops), attributes
// and result types agree. One forward sweep suffices: replacing a duplicate rewrites its
// users' operands before they are looked up. Model outputs are never merged into another
// output or an argument.

import SparrowIR

public struct CommonSubexpressionElimination: Pass {
  public static let name = "cse"
  public static let summary = "Replace an op identical to an earlier one by the earlier one's results."

  public init(options: PassOptions) {}
  public init() {}

  private struct Key: Hashable {
    var kind: OpKind
    var operands: [ValueID]
    var attributes: [String: AttributeValue]
    var types: [TensorType]
  }

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    let rewriter = Rewriter(function, context: context)
    var seen: [Key: [ValueID]] = [:]
    var changed = false
    for slot in 0..<rewriter.slotCount where rewriter.isLive(slot) {
      let op = rewriter.op(at: slot)
      var operands = op.operands
      if op.kind.has(.commutative) { operands.sort() }
      let key = Key(kind: op.kind, operands: operands, attributes: op.attributes.values,
                    types: op.results.map(rewriter.type(of:)))
      guard let earlier = seen[key] else {
        seen[key] = op.results
        continue
      }
      guard zip(op.results, earlier).allSatisfy({ rewriter.canReplace($0, with: $1) }) else { continue }
      rewriter.replaceOp(slot, with: earlier)
      changed = true
    }
    function = rewriter.finish()
    return changed
  }
}
