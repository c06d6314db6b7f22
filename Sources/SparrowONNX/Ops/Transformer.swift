//===--- Transformer.swift - Attention, RotaryEmbedding, SwiGLU -----------===//
//
// Attention (opsets 23-24) decomposes into IR ops along the ONNX reference:
//   Q, K, V [B, S, H*D] -> [B, H, S, D]; present K/V = concat(past, new) on the sequence;
//   kv heads repeated (interleaved: h0 h0 h1 h1 ...) when there are fewer than q heads;
//   logits = (Q * sqrt(scale)) · (K * sqrt(scale))ᵀ, softcap c: c * tanh(logits / c);
//   bias = mask (bool: 0 / -inf; padded with -inf to the total length) + causal
//   (query i sees key j <= i + past length, or <= i + nonpad_kv_seqlen[b] - S_q) +
//   padding (key j < nonpad_kv_seqlen[b]) + sliding window (opset 25: left/right_window_size);
//   P = softmax(logits + bias) (in `softmax_precision`), zeroed on rows whose bias is all
//   -inf; Y = P · V, back to [B, S, H*Dv] for 3-D inputs.
// Outputs: Y, present_key, present_value, and qk_matmul_output by its mode (0/1 the
// softcapped logits, 2 with the bias, 3 the probabilities). The causal bias is a constant;
// the fully-masked-row guard is dropped when the bias is known and has no such row.
// The f32 forms without qk_matmul_output, nonpad_kv_seqlen or a window import instead as
// one `attention` op (fused kernel on the LLVM target; fusedAttention below).
// RotaryEmbedding (23) rotates the first `rotary_embedding_dim` channels of every head by
// the cos/sin caches (gathered at position_ids when given), in halves or interleaved pairs.
// SwiGLU (24): A * sigmoid(alpha * A) * B.
// LinearAttention (24) is a recurrence over the sequence, unrolled (in f32) step by step:
//   S *= exp(decay_t) (gated rules); v_t = beta_t * (v_t - k_t · S) (delta rules);
//   S += k_tᵀ v_t; y_t = scale * q_t · S (kv heads repeated for the q heads).

import Foundation
import SparrowIR

let transformerConverters: [String: Converter] = [
  "Attention": convertAttention,
  "RotaryEmbedding": convertRotaryEmbedding,
  "LinearAttention": convertLinearAttention,
  "SwiGLU": { n in
    let a = try n.input(0), b = try n.input(1)
    let alpha = n.scalar(Double(try n.float("alpha", 1)), n.type(a).element, "alpha")
    let gate = try n.emit1(.sigmoid, [try n.emit1(.mul, [a, alpha])])
    return [try n.emit1(.mul, [try n.emit1(.mul, [a, gate]), b])]
  },
]

/// [B, S, H*D] -> [B, H, S, D].
private func splitHeads(_ n: ONNXNode, _ x: ValueID, heads: Int, _ what: String) throws -> ValueID {
  let s = n.shape(x)
  guard s.count == 3 else { throw n.error("\(n.opType) \(what) must be [B, S, hidden], got \(n.type(x))") }
  guard heads > 0, s[2] % heads == 0 else {
    throw n.error("\(n.opType) \(what) hidden size \(s[2]) is not a multiple of \(heads) heads")
  }
  return try n.transpose(try n.reshape(x, [s[0], s[1], heads, s[2] / heads]), [0, 2, 1, 3])
}

private func convertAttention(_ n: ONNXNode) throws -> [ValueID] {
  var q = try n.input(0), k = try n.input(1), v = try n.input(2)
  let element = n.type(q).element
  let rank = n.shape(q).count
  guard (rank == 3 || rank == 4) && n.shape(k).count == rank && n.shape(v).count == rank else {
    throw n.error("Attention needs Q, K, V all 3-D or all 4-D, got \(n.type(q)), \(n.type(k)), \(n.type(v))")
  }
  if rank == 3 {
    guard let qHeads = try n.optionalInt("q_num_heads"), let kvHeads = try n.optionalInt("kv_num_heads") else {
      throw n.error("Attention with 3-D inputs needs q_num_heads and kv_num_heads")
    }
    q = try splitHeads(n, q, heads: qHeads, "Q")
    k = try splitHeads(n, k, heads: kvHeads, "K")
    v = try splitHeads(n, v, heads: kvHeads, "V")
  }
  let qs = n.shape(q)
  let (batch, qHeads, qLength, headSize) = (qs[0], qs[1], qs[2], qs[3])
  var presentK = k, presentV = v, pastLength = 0
  if let pastK = n.optionalInput(4), let pastV = n.optionalInput(5) {
    guard n.shape(pastK).count == 4, n.shape(pastV).count == 4 else {
      throw n.error("Attention past_key/past_value must be 4-D, got \(n.type(pastK)) and \(n.type(pastV))")
    }
    presentK = try n.concat([pastK, k], axis: 2)
    presentV = try n.concat([pastV, v], axis: 2)
    pastLength = n.shape(pastK)[2]
  }
  let kvShape = n.shape(presentK)
  guard kvShape.count == 4, kvShape[0] == batch, kvShape[3] == headSize, n.shape(presentV).count == 4 else {
    throw n.error("Attention K \(n.type(presentK)) does not fit Q \(n.type(q))")
  }
  let (kvHeads, kvLength) = (kvShape[1], kvShape[2])
  if let y = try fusedAttention(n, q: q, keys: presentK, values: presentV, pastLength: pastLength) {
    return [rank == 3 ? try mergeHeads(n, y) : y, presentK, presentV]
  }
  var keys = presentK, values = presentV
  if kvHeads != qHeads {
    guard kvHeads > 0, qHeads % kvHeads == 0 else {
      throw n.error("Attention q heads (\(qHeads)) must be a multiple of kv heads (\(kvHeads))")
    }
    keys = try repeatHeads(n, keys, qHeads / kvHeads)
    values = try repeatHeads(n, values, qHeads / kvHeads)
  }
  let scale = n.has("scale") ? Double(try n.float("scale", 1)) : 1 / Double(headSize).squareRoot()
  let rootScale = n.scalar(scale.squareRoot(), element, "scale_sqrt")
  var logits = try n.emit1(.matmul, [try n.emit1(.mul, [q, rootScale]),
                                     try n.emit1(.mul, [try n.transpose(keys, [0, 1, 3, 2]), rootScale])])
  let softcap = try n.float("softcap", 0)
  if softcap > 0 {
    let c = n.scalar(Double(softcap), element, "softcap")
    logits = try n.emit1(.mul, [try n.emit1(.tanh, [try n.emit1(.div, [logits, c])]), c])
  }
  let mode = try n.int("qk_matmul_output_mode", 0)
  var qkOutput = logits
  let bias = try attentionBias(n, element, batch: batch, qLength: qLength, kvLength: kvLength, pastLength: pastLength)
  if let bias { logits = try n.emit1(.add, [logits, bias]) }
  if mode == 2 { qkOutput = logits }
  var probabilities: ValueID
  if let precision = try n.elementTypeAttribute("softmax_precision"), precision != element {
    let wide = try n.emit1(.softmax, [try n.emit1(.cast, [logits], ["to": .type(precision)])], ["axis": .int(3)])
    probabilities = try n.emit1(.cast, [wide], ["to": .type(element)])
  } else {
    probabilities = try n.emit1(.softmax, [logits], ["axis": .int(3)])
  }
  if let bias, mayMaskWholeRows(n, bias) {
    let biasRank = n.shape(bias).count
    let rowMax = try n.emit1(.reduce_max, [bias], ["axes": .ints([biasRank - 1]), "keepdims": .bool(true)])
    let masked = try n.emit1(.is_inf, [rowMax], ["detect_positive": .bool(false)])
    probabilities = try n.emit1(.where, [masked, n.scalar(0, element, "zero"), probabilities])
  }
  if mode == 3 { qkOutput = probabilities }
  let y = try n.emit1(.matmul, [probabilities, values])
  return [rank == 3 ? try mergeHeads(n, y) : y, presentK, presentV, qkOutput]
}

/// [B, H, S, Dv] -> [B, S, H*Dv].
private func mergeHeads(_ n: ONNXNode, _ y: ValueID) throws -> ValueID {
  let ys = n.shape(y)
  return try n.reshape(try n.transpose(y, [0, 2, 1, 3]), [ys[0], ys[2], ys[1] * ys[3]])
}

/// The `attention` op (fused kernel) for the forms it covers: f32, no qk_matmul_output,
/// softmax in f32, no nonpad_kv_seqlen and no sliding window; nil for the others, which
/// take the decomposition. The mask becomes the op's bias, is_causal its `causal`
/// (offset by the past length), kv heads are read in place (GQA).
private func fusedAttention(_ n: ONNXNode, q: ValueID, keys: ValueID, values: ValueID,
                            pastLength: Int) throws -> ValueID? {
  guard [q, keys, values].allSatisfy({ n.type($0).element == .f32 }), !n.hasOutput(3),
        try n.elementTypeAttribute("softmax_precision").map({ $0 == .f32 }) ?? true,
        n.opset < 24 || n.optionalInput(6) == nil,
        try n.int("left_window_size", -1) < 0, try n.int("right_window_size", -1) < 0 else { return nil }
  let (qs, ks) = (n.shape(q), n.shape(keys))
  guard ks[1] > 0, qs[1] % ks[1] == 0 else { return nil }
  let bias = try attentionBias(n, .f32, batch: qs[0], qLength: qs[2], kvLength: ks[2],
                               pastLength: pastLength, causal: false)
  let scores = [qs[0], qs[1], qs[2], ks[2]]
  if let bias, n.shape(bias).count > 4 || (try? broadcastShapes([scores, n.shape(bias)])) != scores { return nil }
  let scale = n.has("scale") ? try n.float("scale", 1) : 1 / Float(qs[3]).squareRoot()
  let attributes: [String: AttributeValue] = [
    "scale": .float(scale), "causal": .bool(try n.int("is_causal", 0) != 0),
    "causal_offset": .int(pastLength), "softcap": .float(try n.float("softcap", 0)),
  ]
  return try n.emit1(.attention, [q, keys, values] + (bias.map { [$0] } ?? []), attributes)
}

/// [B, Hkv, S, D] -> [B, Hkv * r, S, D], each head repeated r times in place.
private func repeatHeads(_ n: ONNXNode, _ x: ValueID, _ r: Int) throws -> ValueID {
  let s = n.shape(x)
  let e = try n.emit1(.expand, [try n.reshape(x, [s[0], s[1], 1, s[2], s[3]])],
                      ["shape": .ints([s[0], s[1], r, s[2], s[3]])])
  return try n.reshape(e, [s[0], s[1] * r, s[2], s[3]])
}

/// Whether some row of `bias` may be entirely -inf (always, unless it is known).
private func mayMaskWholeRows(_ n: ONNXNode, _ bias: ValueID) -> Bool {
  guard let t = n.known(bias) else { return true }
  let row = n.shape(bias).last ?? 1
  guard row > 0 else { return false }
  let d = t.doubles
  return stride(from: 0, to: d.count, by: row).contains { start in
    d[start..<start + row].allSatisfy { $0 == -.infinity }
  }
}

/// The additive bias (broadcastable to [B, H, Sq, Skv]) from the mask, `is_causal` (unless
/// `causal` is false: the attention op applies it) and nonpad_kv_seqlen, or nil when there is none.
private func attentionBias(_ n: ONNXNode, _ element: ElementType, batch: Int, qLength: Int, kvLength: Int,
                           pastLength: Int, causal: Bool = true) throws -> ValueID? {
  var terms: [ValueID] = []
  let zero = n.scalar(0, element, "zero"), minusInfinity = n.scalar(-.infinity, element, "minus_inf")
  if let m = n.optionalInput(3) {
    var mask = m
    let ms = n.shape(m)
    guard let last = ms.last, last <= kvLength else {
      throw n.error("Attention mask \(n.type(m)) is longer than the \(kvLength) keys")
    }
    let isBool = n.type(m).element == .bool
    if last < kvLength {
      mask = try n.emit1(.pad, [mask], ["pads": .ints([Int](repeating: 0, count: 2 * ms.count - 1) + [kvLength - last]),
                                        "value": .float(isBool ? 0 : -.infinity)])
    }
    if isBool { mask = try n.emit1(.where, [mask, zero, minusInfinity]) }
    terms.append(mask)
  }
  let nonpad = n.opset >= 24 ? n.optionalInput(6) : nil
  let lengths = try nonpad.map { try n.reshape(try n.emit1(.cast, [$0], ["to": .type(.i64)]), [batch, 1, 1, 1]) }
  if causal, try n.int("is_causal", 0) != 0 {
    if let lengths, pastLength == 0 {
      // Query i sees key j when j - i + Sq <= nonpad_kv_seqlen[b].
      let distance = (0..<qLength).flatMap { i in (0..<kvLength).map { j in Int64(j - i + qLength) } }
      let d = n.constant(Tensor(shape: [1, 1, qLength, kvLength], scalars: distance), "causal_distance")
      let allowed = try n.emit1(.less_or_equal, [d, lengths])
      terms.append(try n.emit1(.where, [allowed, zero, minusInfinity]))
    } else {
      let bias = (0..<qLength).flatMap { i in (0..<kvLength).map { j in j <= i + pastLength ? 0 : -Double.infinity } }
      terms.append(n.constant(fromScalars(TensorType(element, [qLength, kvLength]), .floats(bias)), "causal_bias"))
    }
  }
  let (left, right) = (try n.int("left_window_size", -1), try n.int("right_window_size", -1))
  if left >= 0 || right >= 0 {
    // Query i (at i + offset) sees key j when offset + i - j <= left and j - offset - i <= right.
    if let lengths, pastLength == 0 {
      // offset = nonpad_kv_seqlen[b] - Sq: with D = j - i + Sq, nonpad - D <= left, D - nonpad <= right.
      func distance(_ shift: Int) -> ValueID {
        let d = (0..<qLength).flatMap { i in (0..<kvLength).map { j in Int64(j - i + qLength + shift) } }
        return n.constant(Tensor(shape: [1, 1, qLength, kvLength], scalars: d), "window_distance")
      }
      var allowed: ValueID?
      if left >= 0 { allowed = try n.emit1(.less_or_equal, [lengths, distance(left)]) }
      if right >= 0 {
        let r = try n.emit1(.less_or_equal, [distance(-right), lengths])
        allowed = try allowed.map { try n.emit1(.and, [$0, r]) } ?? r
      }
      terms.append(try n.emit1(.where, [allowed!, zero, minusInfinity]))
    } else {
      let bias = (0..<qLength).flatMap { i in (0..<kvLength).map { j -> Double in
        let diff = i + pastLength - j
        return (left < 0 || diff <= left) && (right < 0 || -diff <= right) ? 0 : -Double.infinity
      } }
      terms.append(n.constant(fromScalars(TensorType(element, [qLength, kvLength]), .floats(bias)), "window_bias"))
    }
  }
  if let lengths {
    let positions = n.constant(Tensor(shape: [1, 1, 1, kvLength], scalars: (0..<kvLength).map { Int64($0) }), "key_positions")
    terms.append(try n.emit1(.where, [try n.emit1(.less, [positions, lengths]), zero, minusInfinity]))
  }
  guard var bias = terms.first else { return nil }
  for t in terms.dropFirst() { bias = try n.emit1(.add, [bias, t]) }
  return bias
}

private func convertRotaryEmbedding(_ n: ONNXNode) throws -> [ValueID] {
  let input = try n.input(0)
  var cos = try n.input(1), sin = try n.input(2)
  let original = n.shape(input)
  var x: ValueID  // [B, S, H, D]
  switch original.count {
  case 4: x = try n.transpose(input, [0, 2, 1, 3])
  case 3:
    let heads = try n.int("num_heads", 0)
    guard heads > 0, original[2] % heads == 0 else {
      throw n.error("RotaryEmbedding with a 3-D input needs num_heads dividing its hidden size \(original[2])")
    }
    x = try n.reshape(input, [original[0], original[1], heads, original[2] / heads])
  default: throw n.error("RotaryEmbedding needs a 3-D or 4-D input, got \(n.type(input))")
  }
  let xs = n.shape(x)
  let headSize = xs[3]
  var dim = try n.int("rotary_embedding_dim", 0)
  if dim == 0 { dim = headSize }
  guard dim > 0, dim <= headSize, dim % 2 == 0 else {
    throw n.error("RotaryEmbedding rotary_embedding_dim \(dim) must be even and at most the head size \(headSize)")
  }
  if let positions = n.optionalInput(3) {
    cos = try n.emit1(.gather, [cos, positions], ["axis": .int(0)])
    sin = try n.emit1(.gather, [sin, positions], ["axis": .int(0)])
  }
  guard n.shape(cos) == [xs[0], xs[1], dim / 2], n.shape(sin) == n.shape(cos) else {
    throw n.error("RotaryEmbedding caches \(n.type(cos)) must be [\(xs[0]), \(xs[1]), \(dim / 2)]")
  }
  cos = try n.unsqueeze(cos, at: 2)
  sin = try n.unsqueeze(sin, at: 2)
  let rotated = dim == headSize ? x : try n.slice(x, axis: 3, 0, dim)
  let interleaved = try n.int("interleaved", 0) != 0
  let x1 = interleaved ? try n.slice(rotated, axis: 3, 0, dim, step: 2) : try n.slice(rotated, axis: 3, 0, dim / 2)
  let x2 = interleaved ? try n.slice(rotated, axis: 3, 1, dim, step: 2) : try n.slice(rotated, axis: 3, dim / 2, dim)
  let real = try n.emit1(.sub, [try n.emit1(.mul, [cos, x1]), try n.emit1(.mul, [sin, x2])])
  let imaginary = try n.emit1(.add, [try n.emit1(.mul, [sin, x1]), try n.emit1(.mul, [cos, x2])])
  var y = interleaved
    ? try n.reshape(try n.concat([try n.unsqueeze(real, at: 4), try n.unsqueeze(imaginary, at: 4)], axis: 4),
                    [xs[0], xs[1], xs[2], dim])
    : try n.concat([real, imaginary], axis: 3)
  if dim < headSize { y = try n.concat([y, try n.slice(x, axis: 3, dim, headSize)], axis: 3) }
  return [original.count == 3 ? try n.reshape(y, original) : try n.transpose(y, [0, 2, 1, 3])]
}

private func convertLinearAttention(_ n: ONNXNode) throws -> [ValueID] {
  let rule = try n.string("update_rule", "gated_delta")
  guard ["linear", "gated", "delta", "gated_delta"].contains(rule) else {
    throw n.error("LinearAttention update_rule '\(rule)' is not linear, gated, delta or gated_delta")
  }
  guard let qHeads = try n.optionalInt("q_num_heads"), let kvHeads = try n.optionalInt("kv_num_heads"),
        qHeads > 0, kvHeads > 0, qHeads % kvHeads == 0 else {
    throw n.error("LinearAttention needs q_num_heads a positive multiple of kv_num_heads")
  }
  let gated = rule.hasPrefix("gated"), delta = rule.hasSuffix("delta")
  let query = try n.input(0)
  let element = n.type(query).element
  func wide(_ v: ValueID) throws -> ValueID {
    n.type(v).element == .f32 ? v : try n.emit1(.cast, [v], ["to": .type(.f32)])
  }
  let q = try wide(try splitHeads(n, query, heads: qHeads, "query"))
  let k = try wide(try splitHeads(n, try n.input(1), heads: kvHeads, "key"))
  let v = try wide(try splitHeads(n, try n.input(2), heads: kvHeads, "value"))
  let (batch, length, dk) = (n.shape(q)[0], n.shape(q)[2], n.shape(q)[3])
  let dv = n.shape(v)[3]
  guard length <= maxUnrolledIterations else {
    throw n.error("LinearAttention over \(length) positions; Sparrow unrolls it up to \(maxUnrolledIterations)")
  }
  var decay: ValueID?, beta: ValueID?
  if gated {
    guard let d = n.optionalInput(4) else { throw n.error("LinearAttention '\(rule)' needs the decay input") }
    let last = n.shape(d).last ?? 0
    guard last == kvHeads || last == kvHeads * dk else {
      throw n.error("LinearAttention decay \(n.type(d)) must end in \(kvHeads) or \(kvHeads * dk)")
    }
    decay = try wide(try splitHeads(n, d, heads: kvHeads, "decay"))  // [B, H, T, 1 or dk]
  }
  if delta {
    guard let b = n.optionalInput(5) else { throw n.error("LinearAttention '\(rule)' needs the beta input") }
    beta = try wide(try splitHeads(n, b, heads: n.shape(b).last ?? 1, "beta"))  // [B, 1 or H, T, 1]
  }
  var state: ValueID
  var stateElement = element
  if let past = n.optionalInput(3) {
    guard n.shape(past) == [batch, kvHeads, dk, dv] else {
      throw n.error("LinearAttention past_state \(n.type(past)) must be [\(batch), \(kvHeads), \(dk), \(dv)]")
    }
    stateElement = n.type(past).element
    state = try wide(past)
  } else {
    state = n.constant(Tensor(zeros: TensorType(.f32, [batch, kvHeads, dk, dv])), "state")
  }
  let scaleAttribute = Double(try n.float("scale", 0))
  let scale = n.scalar(scaleAttribute == 0 ? 1 / Double(dk).squareRoot() : scaleAttribute, .f32, "scale")
  var outputs: [ValueID] = []
  for t in 0..<length {
    let kt = try n.slice(k, axis: 2, t, t + 1)  // [B, H, 1, dk]
    var vt = try n.slice(v, axis: 2, t, t + 1)  // [B, H, 1, dv]
    if let decay {
      let g = try n.slice(decay, axis: 2, t, t + 1)
      state = try n.emit1(.mul, [state, try n.emit1(.exp, [try n.reshape(g, [batch, kvHeads, n.shape(g)[3], 1])])])
    }
    if let beta {
      let retrieved = try n.emit1(.matmul, [kt, state])
      vt = try n.emit1(.mul, [try n.slice(beta, axis: 2, t, t + 1), try n.emit1(.sub, [vt, retrieved])])
    }
    state = try n.emit1(.add, [state, try n.emit1(.matmul, [try n.reshape(kt, [batch, kvHeads, dk, 1]), vt])])
    let read = qHeads == kvHeads ? state : try repeatHeads(n, state, qHeads / kvHeads)
    outputs.append(try n.emit1(.mul, [try n.emit1(.matmul, [try n.slice(q, axis: 2, t, t + 1), read]), scale]))
  }
  var y = try n.reshape(try n.transpose(try n.concat(outputs, axis: 2), [0, 2, 1, 3]), [batch, length, qHeads * dv])
  if element != .f32 { y = try n.emit1(.cast, [y], ["to": .type(element)]) }
  if stateElement != .f32 { state = try n.emit1(.cast, [state], ["to": .type(stateElement)]) }
  return [y, state]
}
