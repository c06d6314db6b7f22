//===--- DeadCodeElimination.swift - drop ops nothing uses -------------------===//
//
//   %w = constant @unused : tensor<4xf32>
//   %a = relu %x : tensor<4xf32>                  %b = neg %x : tensor<4xf32>
//   %b = neg %x : tensor<4xf32>              =>   return %b
//   return %b
//
// An op is live when one of its results is a function result or an operand of a live op
// (every op is free of side effects). Pool entries no function refers to are dropped, and
// the value table is compacted.

import SparrowIR

public struct DeadCodeElimination: Pass {
  public static let name = "dce"
  public static let summary = "Remove ops whose results are unused and weights nothing refers to."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    var live = Set(function.results)
    var keep = [Bool](repeating: false, count: function.ops.count)
    for i in function.ops.indices.reversed() {
      let op = function.ops[i]
      guard op.results.contains(where: live.contains) else { continue }
      keep[i] = true
      live.formUnion(op.operands)
    }
    let removed = keep.filter { !$0 }.count
    if removed > 0 {
      function.ops = function.ops.indices.filter { keep[$0] }.map { function.ops[$0] }
      context.changes.removed += removed
    }
    let valueCount = function.values.count
    function = function.compactingValues()
    return removed > 0 || function.values.count != valueCount
  }

  public func run(on module: inout Module, context: PassContext) throws -> Bool {
    var changed = false
    for i in module.functions.indices {
      changed = try run(on: &module.functions[i], context: context) || changed
    }
    var used: Set<String> = []
    for f in module.functions { for op in f.ops { if let n = op.constantName { used.insert(n) } } }
    let poolSize = context.constants.count
    context.constants.retain(only: used)
    return changed || context.constants.count != poolSize
  }
}
