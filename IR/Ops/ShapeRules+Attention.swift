//===--- ShapeRules+Attention.swift - the fused attention op ---------------===//
//
//   %y = attention %q, %k, %v[, %bias] {scale = 0.125, causal = true, causal_offset = 0,
//                                       softcap = 0.0} : tensor<BxHqxSqxDvxf32>
//
// q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv], all f32; Hq a multiple of
// Hkv (grouped-query attention: q head h reads kv head h / (Hq / Hkv)). For each
// (b, h, i):
//   s_j = scale * (q_i · k_j)                      j in 0 ..< Skv
//   s_j = softcap * tanh(s_j / softcap)            when softcap > 0
//   s_j += bias[b, h, i, j]                        the optional additive f32 bias,
//                                                  broadcast (numpy) to [B, Hq, Sq, Skv]
//   s_j = -inf where causal and j > i + causal_offset
//   y_i = Σ_j softmax(s)_j v_j, and y_i = 0 when every s_j is -inf (a fully masked row).
// Boolean masks are additive biases of 0 / -inf (the frontend converts them).

func attentionType(_ x: [TensorType], _ a: Attributes) throws -> TensorType {
  let (q, k, v) = (x[0], x[1], x[2])
  for t in x {
    try expect(t.element == .f32, "attention needs f32 operands, got \(t)")
  }
  try expect(q.rank == 4 && k.rank == 4 && v.rank == 4,
             "attention needs q, k, v of rank 4 ([B, H, S, D]), got \(q), \(k), \(v)")
  let (batch, qHeads, qLength, depth) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
  let (kvHeads, kvLength) = (k.shape[1], k.shape[2])
  try expect(k.shape[0] == batch && v.shape[0] == batch, "attention batch sizes differ: \(q), \(k), \(v)")
  try expect(k.shape[3] == depth, "attention q and k head sizes differ: \(q) and \(k)")
  try expect(v.shape[1] == kvHeads && v.shape[2] == kvLength,
             "attention k and v differ in heads or length: \(k) and \(v)")
  try expect(kvHeads > 0 && qHeads % kvHeads == 0,
             "attention q heads (\(qHeads)) must be a multiple of kv heads (\(kvHeads))")
  let scores = [batch, qHeads, qLength, kvLength]
  if x.count == 4 {
    try expect(x[3].rank <= 4 && (try? broadcastShapes([scores, x[3].shape])) == scores,
               "attention bias \(x[3]) does not broadcast to \(scores)")
  }
  try expect(a.float("scale").isFinite, "attention scale must be finite")
  let softcap = a.float("softcap")
  try expect(softcap.isFinite && softcap >= 0, "attention softcap must be >= 0, got \(softcap)")
  return TensorType(.f32, [batch, qHeads, qLength, v.shape[3]])
}
