//===--- ControlFlow.swift - If, Loop and Scan inlined at import ----------===//
//
// The IR has no regions, so control flow is resolved at import:
// - If: the condition must be known at compile time (a constant, a folded value, or a
//   frozen input); the taken branch's nodes are converted in place.
// - Loop: unrolled while the trip count and the condition the body computes are known;
//   each iteration converts the body with the iteration number, condition and carried
//   values bound to its inputs. Scan outputs are stacked along a new first axis.
// - Scan: unrolled over the scan axis of its (static) inputs; each step binds
//   the states and one slice per scan input, in the given directions; scan outputs are
//   stacked along their output axes. Opset-8 Scan (leading batch axis) runs one such
//   scan per batch element and stacks the results.
// A body sees the enclosing scope's values by name; what it defines is dropped after each
// inlining, so every iteration gets fresh IR values. At most `maxInlinedNodes` body nodes
// are converted per import (nested loops multiply). Anything data-dependent (an unknown
// condition or trip count, more than `maxUnrolledIterations` iterations, opset-8 sequence_lens shorter than the
// sequence) is
// a located diagnostic naming the inputs to freeze where that would help.

import SparrowIR

let maxUnrolledIterations = 4096
/// Body nodes one import may convert in all (nested loops multiply).
let maxInlinedNodes = 1 << 20

let controlFlowConverters: [String: Converter] = [
  "If": { n in
    let condition = try n.compileTimeInput(0, "condition", because: "Sparrow inlines the branch it selects")
    guard condition.count == 1 else { throw n.error("If condition must hold one value, got \(condition.type)") }
    let branch = condition.double(at: 0) != 0 ? "then_branch" : "else_branch"
    return try n.inline(try n.body(branch), binding: [])
  },
  "Loop": convertLoop,
  "Scan": convertScan,
]

extension ONNXNode {
  /// The graph of attribute `name`.
  func body(_ name: String) throws -> Onnx_GraphProto {
    guard let a = attribute(name), a.type == .graph || a.hasG else { throw error("\(opType) needs graph attribute '\(name)'") }
    return a.g
  }

  /// Converts `body`'s nodes with its inputs bound to `inputs`; returns its outputs.
  func inline(_ body: Onnx_GraphProto, binding inputs: [ValueID]) throws -> [ValueID] {
    guard body.input.count == inputs.count else {
      throw error("\(opType) body '\(body.name)' has \(body.input.count) inputs, \(inputs.count) are bound")
    }
    let importer = self.importer
    let (savedValues, savedUnavailable) = (importer.values, importer.unavailable)
    defer { importer.values = savedValues; importer.unavailable = savedUnavailable }
    for (input, v) in zip(body.input, inputs) { importer.values[input.name] = v }
    for (i, t) in body.initializer.enumerated() {
      let name = t.name.isEmpty ? "initializer\(i)" : t.name
      do {
        importer.addKnown(name, try makeTensor(t, root: importer.root, what: "\(opType) body initializer '\(name)'"))
      } catch let d as Diagnostic {
        throw error(d.message)
      }
    }
    importer.inlinedNodes += body.node.count
    guard importer.inlinedNodes <= maxInlinedNodes else {
      throw error("control flow unrolls to more than \(maxInlinedNodes) nodes; Sparrow stops there")
    }
    do {
      try importer.checkSupported(body.node)
      for node in try importer.dependencyOrder(body.node) { try importer.convert(node) }
    } catch let d as Diagnostic {
      throw Diagnostic("\(d.message) (in the body of \(opType) node '\(proto.name)')", at: d.location ?? location)
    }
    return try body.output.map { out in
      guard let v = importer.values[out.name] else {
        throw error("\(opType) body output '\(out.name)' is not produced by the body")
      }
      return v
    }
  }

  /// Stacks `parts` along a new axis `axis` (reversed first when `reverse`).
  func stack(_ parts: [ValueID], axis: Int, reverse: Bool = false) throws -> ValueID {
    let ordered = reverse ? Array(parts.reversed()) : parts
    return try concat(try ordered.map { try unsqueeze($0, at: axis) }, axis: axis)
  }
}

private func boolScalar(_ n: ONNXNode, _ value: Bool) -> ValueID {
  n.constant(Tensor(type: TensorType(.bool, []), bytes: [value ? 1 : 0]), "condition")
}

private func convertLoop(_ n: ONNXNode) throws -> [ValueID] {
  let body = try n.body("body")
  let tripCount = try n.optionalInput(0).map { _ in
    try n.compileTimeInput(0, "trip count", because: "Sparrow unrolls loops").int64(at: 0)
  }
  var running = true
  if n.optionalInput(1) != nil {
    running = try n.compileTimeInput(1, "loop condition", because: "Sparrow unrolls loops").double(at: 0) != 0
  }
  guard tripCount != nil || n.optionalInput(1) != nil else {
    throw n.error("Loop has neither a trip count nor a condition: it never ends")
  }
  var carried = try (2..<max(n.inputCount, 2)).map { try n.input($0) }
  let scanCount = body.output.count - 1 - carried.count
  guard scanCount >= 0 else { throw n.error("Loop body has fewer outputs than loop-carried values") }
  var scans = [[ValueID]](repeating: [], count: scanCount)
  var iteration: Int64 = 0
  while running && iteration < (tripCount ?? .max) {
    guard iteration < maxUnrolledIterations else {
      throw n.error("Loop runs more than \(maxUnrolledIterations) iterations; Sparrow unrolls loops and stops there")
    }
    let index = n.constant(Tensor(scalar: iteration), "iteration")
    let outs = try n.inline(body, binding: [index, boolScalar(n, running)] + carried)
    guard let next = n.known(outs[0]) else {
      throw n.error("the Loop body computes its condition from run-time values; Sparrow unrolls only loops whose condition is known at compile time")
    }
    running = next.double(at: 0) != 0
    carried = Array(outs[1..<(1 + carried.count)])
    for k in 0..<scanCount { scans[k].append(outs[1 + carried.count + k]) }
    iteration += 1
  }
  guard scanCount == 0 || !scans[0].isEmpty else {
    throw n.error("Loop runs no iteration, so its scan outputs have no known shape")
  }
  return carried + (try scans.map { try n.stack($0, axis: 0) })
}

private func convertScan(_ n: ONNXNode) throws -> [ValueID] {
  let body = try n.body("body")
  guard let scanInputs = try n.optionalInt("num_scan_inputs"), scanInputs > 0 else {
    throw n.error("Scan needs a positive num_scan_inputs")
  }
  if n.opset >= 9 {
    let inputs = try n.inputs()
    guard scanInputs <= inputs.count else { throw n.error("Scan has fewer inputs than num_scan_inputs") }
    let stateCount = inputs.count - scanInputs
    let outputCount = body.output.count - stateCount
    return try unrolledScan(n, body, states: Array(inputs[..<stateCount]), sequences: Array(inputs[stateCount...]),
                            inputAxes: try n.ints("scan_input_axes") ?? [Int](repeating: 0, count: scanInputs),
                            inputDirections: try n.ints("scan_input_directions") ?? [Int](repeating: 0, count: scanInputs),
                            outputAxes: try n.ints("scan_output_axes") ?? [Int](repeating: 0, count: max(outputCount, 0)),
                            outputDirections: try n.ints("scan_output_directions") ?? [Int](repeating: 0, count: max(outputCount, 0)))
  }
  // Opset 8: every input has a leading batch axis; each batch element is its own scan.
  let inputs = try (1..<max(n.inputCount, 1)).map { try n.input($0) }
  guard scanInputs <= inputs.count, let batch = inputs.first.flatMap({ n.shape($0).first }),
        inputs.allSatisfy({ n.shape($0).first == batch }),
        inputs.suffix(scanInputs).allSatisfy({ n.shape($0).count >= 2 }) else {
    throw n.error("Scan-8 needs num_scan_inputs inputs, all with the batch axis first (scan inputs [batch, sequence, ...])")
  }
  let stateCount = inputs.count - scanInputs
  if let lengthsInput = n.optionalInput(0) {
    guard let lengths = n.known(lengthsInput) else {
      throw n.error("Scan-8 sequence_lens must be known at compile time (Sparrow unrolls scans)")
    }
    let full = n.shape(inputs[stateCount])[1]
    guard lengths.ints.allSatisfy({ $0 == full }) else {
      throw n.error("Scan-8 with sequence_lens shorter than the sequence (\(lengths.ints), length \(full)) is not supported")
    }
  }
  let directions = try n.ints("directions") ?? [Int](repeating: 0, count: scanInputs)
  let outputCount = body.output.count - stateCount
  var perBatch: [[ValueID]] = []
  for b in 0..<batch {
    let slices = try inputs.map { try n.take($0, axis: 0, b) }
    perBatch.append(try unrolledScan(n, body, states: Array(slices[..<stateCount]), sequences: Array(slices[stateCount...]),
                                     inputAxes: [Int](repeating: 0, count: scanInputs), inputDirections: directions,
                                     outputAxes: [Int](repeating: 0, count: max(outputCount, 0)),
                                     outputDirections: [Int](repeating: 0, count: max(outputCount, 0))))
  }
  return try perBatch[0].indices.map { k in try n.stack(perBatch.map { $0[k] }, axis: 0) }
}

/// Unrolls a scan over `sequences` along their axes; returns final states + stacked outputs.
private func unrolledScan(_ n: ONNXNode, _ body: Onnx_GraphProto, states initial: [ValueID], sequences: [ValueID],
                          inputAxes rawAxes: [Int], inputDirections: [Int], outputAxes: [Int],
                          outputDirections: [Int]) throws -> [ValueID] {
  let scanInputs = sequences.count, stateCount = initial.count
  var states = initial
  guard rawAxes.count == scanInputs, inputDirections.count == scanInputs else {
    throw n.error("Scan scan_input_axes/directions need one entry per scan input")
  }
  let inputAxes = try rawAxes.enumerated().map {
    try n.axis($0.element, rank: n.shape(sequences[$0.offset]).count, "scan_input_axes entry")
  }
  let length = n.shape(sequences[0])[inputAxes[0]]
  guard sequences.indices.allSatisfy({ n.shape(sequences[$0])[inputAxes[$0]] == length }) else {
    throw n.error("Scan inputs have different lengths along their scan axes")
  }
  guard length > 0 else { throw n.error("Scan over an empty sequence is not supported") }
  guard length <= maxUnrolledIterations else {
    throw n.error("Scan over \(length) steps; Sparrow unrolls scans up to \(maxUnrolledIterations)")
  }
  let scanOutputs = body.output.count - stateCount
  guard scanOutputs >= 0 else { throw n.error("Scan body has fewer outputs than states") }
  var collected = [[ValueID]](repeating: [], count: scanOutputs)
  for step in 0..<length {
    let slices = try sequences.indices.map { j in
      try n.take(sequences[j], axis: inputAxes[j], inputDirections[j] != 0 ? length - 1 - step : step)
    }
    let outs = try n.inline(body, binding: states + slices)
    states = Array(outs[..<stateCount])
    for k in 0..<scanOutputs { collected[k].append(outs[stateCount + k]) }
  }
  guard outputAxes.count == scanOutputs, outputDirections.count == scanOutputs else {
    throw n.error("Scan scan_output_axes/directions need one entry per scan output")
  }
  let stacked = try (0..<scanOutputs).map { k in
    let axis = try n.axis(outputAxes[k], rank: n.shape(collected[k][0]).count + 1, "scan_output_axes entry")
    return try n.stack(collected[k], axis: axis, reverse: outputDirections[k] != 0)
  }
  return states + stacked
}
