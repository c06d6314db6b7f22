//===--- ArenaRun.swift - one run of a function from its memory plan -------===//
//
// One 64-byte aligned arena per run, sized by the plan. Every intermediate lives at its
// planned offset: kernels get their result's slot as the destination and write there
// (over a dying operand's bytes when the plan runs the op in place). Views share their
// source's bytes; inputs and constants are read where they are (no copy); function
// results are written straight into the arrays handed back.
//
// Fallback: kernels that still return owned tensors (see `dispatchKernel`) have their
// result copied into its slot, counted in `fallbackCopies`.

import SparrowIR
import SparrowTargetSupport

struct ArenaRun {
  let module: Module
  let plan: MemoryPlan
  var f: Function { module.main }

  init(_ module: Module, plan: MemoryPlan) {
    self.module = module
    self.plan = plan
  }

  /// Runs the function on `inputs` (types already checked).
  func run(_ inputs: [Tensor]) throws -> [Tensor] {
    let arena = UnsafeMutableRawPointer.allocate(byteCount: max(plan.workspaceSize, 64), alignment: 64)
    defer { arena.deallocate() }
    var planned: [Int: TensorType] = [:]
    for (j, r) in f.results.enumerated() where plan.storage[r] == .output(j) { planned[j] = f.type(of: r).dense }
    var copies: [(Int, TensorRef)] = []
    let owned = try withOutputBuffers(Array(planned.keys.sorted()), types: planned) { outputs in
      copies = try execute(inputs, arena: arena, outputs: outputs)
    }
    var results = f.results.map { Tensor(zeros: f.type(of: $0).dense) }
    for (j, bytes) in owned { results[j] = Tensor(type: f.type(of: f.results[j]).dense, bytes: bytes) }
    for (j, value) in copies { results[j] = Tensor(type: f.type(of: f.results[j]).dense, bytes: value.bytes) }
    return results
  }

  /// Allocates the byte arrays of the results planned as outputs (`indices`) and runs
  /// `body` with their addresses; returns each index with its filled bytes.
  private func withOutputBuffers(
    _ indices: [Int], types: [Int: TensorType],
    _ body: ([Int: UnsafeMutableRawPointer]) throws -> Void
  ) throws -> [(Int, [UInt8])] {
    guard let j = indices.first else {
      try body([:])
      return []
    }
    let n = types[j]!.byteCount
    var inner: [(Int, [UInt8])] = []
    let bytes = try [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
      let p = UnsafeMutableRawPointer(buffer.baseAddress) ?? UnsafeMutableRawPointer(bitPattern: 64)!
      inner = try withOutputBuffers(Array(indices.dropFirst()), types: types) { rest in
        var all = rest
        all[j] = p
        try body(all)
      }
      initialized = n
    }
    return [(j, bytes)] + inner
  }

  /// The op loop. Returns the results that must be copied out (see `outputCopies`).
  private func execute(_ inputs: [Tensor], arena: UnsafeMutableRawPointer,
                       outputs: [Int: UnsafeMutableRawPointer]) throws -> [(Int, TensorRef)] {
    var values = [TensorRef?](repeating: nil, count: f.values.count)
    for (a, t) in zip(f.arguments, inputs) { values[a.index] = t.ref }
    func address(_ v: ValueID) -> UnsafeMutableRawPointer? {
      switch plan.storage[v] {
      case let .workspace(offset)?: return arena + offset
      case let .output(j)?: return outputs[j]!
      default: return nil
      }
    }
    for (i, op) in f.ops.enumerated() {
      if let name = op.constantName {
        guard let t = module.constants[name] else { throw Diagnostic("unknown constant @\(name)") }
        values[op.result.index] = t.ref
        continue
      }
      if Interpreter.isView(op) {
        values[op.result.index] = values[op.operands[0].index]!.reinterpreted(as: f.type(of: op.result).dense)
        continue
      }
      let destinations = op.results.map(address)
      let scratch = plan.scratchOffset[i].map {
        UnsafeMutableRawBufferPointer(start: arena + $0, count: Interpreter.scratchBytes(op, in: f))
      }
      let outs = try Interpreter.evaluate(op, op.operands.map { values[$0.index]! }, destinations: destinations,
                                          scratch: scratch, in: f, constants: module.constants)
      for (r, (out, destination)) in zip(op.results, zip(outs, destinations)) {
        guard let p = destination else {
          values[r.index] = out
          continue
        }
        if out.address != p {
          // Fallback kernel: its owned result is copied into the planned slot.
          out.withUnsafeBytes { src in
            if let base = src.baseAddress { p.copyMemory(from: base, byteCount: src.count) }
          }
        }
        values[r.index] = TensorRef(out.type, at: p)
      }
    }
    return plan.outputCopies.map { ($0.output, values[$0.value.index]!) }
  }
}
