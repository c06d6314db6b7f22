//===--- Recurrent.swift - LSTM, GRU, RNN ---------------------------------===//
//
// The IR takes X, W, R, B, initial_h[, initial_c][, P] with no holes: absent biases and
// states are materialized as zeros. sequence_lens is accepted only when it is known and
// every sequence has the full length (then it changes nothing).

import SparrowIR

let recurrentConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["LSTM"] = { n in try convertRecurrent(n, .lstm, gates: 4) }
  t["GRU"] = { n in try convertRecurrent(n, .gru, gates: 3) }
  t["RNN"] = { n in try convertRecurrent(n, .rnn, gates: 1) }
  return t
}()

private func convertRecurrent(_ n: ONNXNode, _ kind: OpKind, gates: Int) throws -> [ValueID] {
  let x = try n.input(0), w = try n.input(1), r = try n.input(2)
  let xs = n.shape(x), rs = n.shape(r)
  guard xs.count == 3, rs.count == 3 else { throw n.error("\(n.opType) X \(xs) and R \(rs) must have rank 3") }
  let layout = try n.int("layout", 0)
  let direction = try n.string("direction", "forward")
  guard ["forward", "reverse", "bidirectional"].contains(direction) else {
    throw n.error("unknown direction '\(direction)'")
  }
  let dirs = direction == "bidirectional" ? 2 : 1
  let hidden = try n.int("hidden_size", rs[2])
  guard hidden == rs[2], hidden > 0 else { throw n.error("\(n.opType) hidden_size \(hidden) does not match R \(rs)") }
  let (seq, batch) = layout == 0 ? (xs[0], xs[1]) : (xs[1], xs[0])
  let element = n.type(x).element

  if n.optionalInput(4) != nil {
    let k = try n.constantInput(4, "sequence lengths")
    guard k.ints.allSatisfy({ $0 == seq }) else {
      throw n.error("\(n.opType) sequence_lens \(k.ints) must all be \(seq) (variable lengths are not supported)")
    }
  }
  let b = n.optionalInput(3) ?? n.constant(Tensor(zeros: TensorType(element, [dirs, 2 * gates * hidden])), "B")
  let stateShape = layout == 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]
  let h = n.optionalInput(5) ?? n.constant(Tensor(zeros: TensorType(element, stateShape)), "initial_h")
  var operands = [x, w, r, b, h]
  var a: [String: AttributeValue] = [
    "direction": .string(direction), "hidden_size": .int(hidden), "layout": .int(layout),
    "clip": .float(try n.float("clip", 0)),
  ]
  if let acts = try n.strings("activations") { a["activations"] = .strings(acts) }
  if let alpha = try n.floats("activation_alpha") { a["activation_alpha"] = .floats(alpha) }
  if let beta = try n.floats("activation_beta") { a["activation_beta"] = .floats(beta) }
  switch kind {
  case .lstm:
    operands.append(n.optionalInput(6) ?? n.constant(Tensor(zeros: TensorType(element, stateShape)), "initial_c"))
    if let p = n.optionalInput(7) { operands.append(p) }
    a["input_forget"] = .bool(try n.int("input_forget", 0) != 0)
  case .gru:
    a["linear_before_reset"] = .bool(try n.int("linear_before_reset", 0) != 0)
  default: break
  }
  return try n.emit(kind, operands, a)
}
