//===--- ProducerFolding.swift - what the fusion passes share ---------------===//
//
// Fusion passes look through a value to the gemm or conv that produced it, check that
// nothing else sees the intermediate, and fold per-output-channel affine maps
// (y * scale + shift) into the producer's weights and bias as new pool constants.

import SparrowIR

extension Rewriter {
  /// The slot of the gemm or conv defining `v` when `v` is its only result and nothing
  /// but one operand of one op uses it (no function result, no second user).
  func soleUseProducer(of v: ValueID) -> Int? {
    guard hasOneUse(v), let slot = definingSlot(of: v), op(at: slot).kind.has(.hasEpilogue) else { return nil }
    return slot
  }

  /// As `soleUseProducer`, also accepting a conv_transpose (which has no epilogue but
  /// can absorb per-channel affine maps).
  func soleUseAffineProducer(of v: ValueID) -> Int? {
    if let slot = soleUseProducer(of: v) { return slot }
    guard hasOneUse(v), let slot = definingSlot(of: v), op(at: slot).kind == .conv_transpose else { return nil }
    return slot
  }

  /// The slot of the gemm or conv whose result `x` is, directly or through one reshape
  /// (a free view) that is the producer's only user. The caller checks `x`'s own uses.
  func producer(viewing x: ValueID) -> Int? {
    guard let slot = definingSlot(of: x) else { return nil }
    let def = op(at: slot)
    guard def.attributes.values["masked_fill"] == nil else { return nil }  // fixed masked value
    if def.kind.has(.hasEpilogue) && def.results.count == 1 { return slot }
    guard def.kind == .reshape, hasOneUse(def.operands[0]),
          let p = definingSlot(of: def.operands[0]), op(at: p).kind.has(.hasEpilogue),
          op(at: p).attributes.values["masked_fill"] == nil else { return nil }
    return p
  }

  /// The f32 data of `v` when a `constant` op defines it.
  func constantFloats(of v: ValueID) -> [Float]? {
    guard let t = constantTensor(of: v), t.element == .f32 else { return nil }
    return t.array(of: Float.self)
  }

  /// A new pool constant (never an existing one: other ops may share it) before `slot`,
  /// computed at the root from `sources` (its origin lists their weights).
  func insertFloats(_ values: [Float], shape: [Int], name: String, layout: SparseLayout? = nil,
                    before slot: Int, from sources: [ValueID] = []) -> ValueID {
    insertConstant(Tensor(shape: shape, scalars: values), name: name, layout: layout, before: slot,
                   origin: derivedOrigin(from: sources))
  }
}

/// The per-channel values of a constant `c` that broadcasts onto `output` only along
/// `axis` (shape [C,1,1], [1,C,1,1], [C] on a last axis, or a scalar); nil otherwise.
func perChannelValues(_ c: Tensor, output: [Int], axis: Int) -> [Float]? {
  guard c.element == .f32, c.shape.count <= output.count, c.count > 0 else { return nil }
  let offset = output.count - c.shape.count
  for (i, d) in c.shape.enumerated() where d != 1 {
    guard i + offset == axis, d == output[axis] else { return nil }
  }
  let values = c.array(of: Float.self)
  return values.count == 1 ? Array(repeating: values[0], count: output[axis]) : values
}

/// Whether the gemm, conv or conv_transpose in `slot` can absorb an affine map on its
/// output channels:
/// constant f32 weights, a constant bias if any, no epilogue (the map would land after
/// a nonlinearity) and no residual operands.
func canFoldAffine(into slot: Int, _ r: Rewriter) -> Bool {
  let p = r.op(at: slot)
  guard epilogueSteps(p.attributes).isEmpty, p.operands.count <= 3,
        p.attributes.values["masked_fill"] == nil,  // a fixed masked value would not scale
        p.kind != .conv || p.attributes.convLayout == .nchw,  // channels on axis 1
        r.constantFloats(of: p.operands[1]) != nil else { return false }
  if p.operands.count == 3 { return r.constantFloats(of: p.operands[2]) != nil }
  return true
}

/// Rewrites the gemm, conv or conv_transpose in `slot` (see `canFoldAffine`) to compute
/// `y * scale + shift` per output channel: the weights' output channels are scaled and
/// the bias becomes `bias * scale + shift`.
func foldAffine(into slot: Int, scale: [Float], shift: [Float], _ r: Rewriter) {
  let p = r.op(at: slot)
  let wValue = p.operands[1], wType = r.type(of: wValue)
  var w = r.constantFloats(of: wValue)!
  let outType = r.type(of: p.result)
  let channels = outType.shape[1]
  precondition(scale.count == channels && shift.count == channels, "affine map of \(scale.count) channels")
  var attributes = p.attributes
  var biasShape = [channels]
  var bias = [Float](repeating: 0, count: channels)
  if p.kind == .conv || p.kind == .conv_transpose {
    if p.kind == .conv {
      // w: [Cout, Cin/group, k...]; output channel = first axis.
      let inner = w.count / channels
      for o in 0..<channels { for i in 0..<inner { w[o * inner + i] *= scale[o] } }
    } else {
      // w: [Cin, Cout/group, k...]; input channel c of group c / (Cin/group) feeds output
      // channels group * (Cout/group) + j.
      let (cin, perGroup) = (wType.shape[0], wType.shape[1])
      let cinPerGroup = cin / p.attributes.int("group"), inner = w.count / (cin * perGroup)
      for i in w.indices {
        let (c, j) = (i / (perGroup * inner), i / inner % perGroup)
        w[i] *= scale[c / cinPerGroup * perGroup + j]
      }
    }
    if p.operands.count == 3 { bias = r.constantFloats(of: p.operands[2])! }
    for o in 0..<channels { bias[o] = bias[o] * scale[o] + shift[o] }
  } else {
    // gemm: output column n is row n of B when transB, else column n.
    let transB = p.attributes.bool("transB")
    for i in w.indices { w[i] *= scale[transB ? i / (w.count / channels) : i % channels] }
    // C' = beta * C * scale + shift, broadcast to [M, N] only when C is not per-column.
    if p.operands.count == 3 {
      let cType = r.type(of: p.operands[2]), c = r.constantFloats(of: p.operands[2])!
      let beta = p.attributes.float("beta")
      let rowVarying = cType.rank == 2 && cType.shape[0] != 1
      let columnVarying = cType.rank >= 1 && cType.shape[cType.rank - 1] != 1
      let rows = rowVarying ? outType.shape[0] : 1
      biasShape = rowVarying ? [rows, channels] : [channels]
      bias = (0..<rows * channels).map { i in
        let (m, n) = (i / channels, i % channels)
        let cIndex = (rowVarying ? m * cType.shape[cType.rank - 1] : 0) + (columnVarying ? n : 0)
        return beta * c[cIndex] * scale[n] + shift[n]
      }
    } else {
      bias = shift
    }
    attributes.values["beta"] = nil
  }
  let newW = r.insertFloats(w, shape: wType.shape, name: r.name(of: wValue), layout: wType.layout,
                            before: slot, from: [wValue])
  let newB = r.insertFloats(bias, shape: biasShape,
                            name: p.operands.count == 3 ? r.name(of: p.operands[2]) : r.name(of: p.result) + ".bias",
                            before: slot, from: Array(p.operands.dropFirst(2)))
  r.modifyOp(slot) { op in
    op.operands = [op.operands[0], newW, newB]
    op.attributes = attributes
  }
}
