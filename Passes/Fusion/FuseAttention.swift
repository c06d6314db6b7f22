//===--- FuseAttention.swift - matmul/scale/mask/softmax/matmul into attention ---===//
//
//   %kt = transpose %k {perm = [0, 1, 3, 2]}
//   %s  = matmul %q, %kt : tensor<1x12x128x128xf32>
//   %c  = constant @scale : tensor<f32>                %y = attention %q, %k, %v, %mask
//   %t  = div %s, %c                              =>        {scale = 0.125}
//   %m  = add %t, %mask
//   %p  = softmax %m {axis = 3}
//   %y  = matmul %p, %v : tensor<1x12x128x64xf32>
//
// How BERT-like encoders and most exported transformers spell attention. The scale is a
// `mul` or `div` by a one-value constant (optional, either order with the mask add
// absent); the mask is any f32 value broadcast to the scores' shape (optional). Q is
// [B, H, Sq, D] and the keys' operand a `transpose` of a rank-4 value; K is that value
// transposed by the perm with its last two entries swapped (no op when that is the
// identity; otherwise a transpose like the one it replaces). Every intermediate must have
// no other user. The fused op lists every absorbed node in its origin.

import SparrowIR

public struct FuseAttention: Pass {
  public static let name = "fuse-attention"
  public static let summary = "Fuse matmul(Q, Kᵀ) -> scale -> mask add -> softmax -> matmul(., V) into attention."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// The matched chain, from the softmax's input back to the scores matmul.
  private struct Chain {
    var scores: Operation
    var scale: Float = 1
    var mask: ValueID?
    /// The absorbed values (every op defining one becomes part of the fused op's origin).
    var absorbed: [ValueID] = []
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("fuse-attention", roots: [.matmul]) { op, r in
      let (probabilities, values) = (op.operands[0], op.operands[1])
      guard r.type(of: values).rank == 4, r.type(of: values).element == .f32, r.hasOneUse(probabilities),
            let softmax = r.definingOp(of: probabilities), softmax.kind == .softmax,
            softmax.attributes.int("axis") == 3, r.hasOneUse(softmax.operands[0]),
            var chain = match(softmax.operands[0], r) else { return nil }
      chain.absorbed += [probabilities]
      let (q, keysT) = (chain.scores.operands[0], chain.scores.operands[1])
      guard let transpose = r.definingOp(of: keysT), transpose.kind == .transpose, r.hasOneUse(keysT) else { return nil }
      let qShape = r.type(of: q).shape, vShape = r.type(of: values).shape
      let scores = r.type(of: chain.scores.result).shape
      guard r.type(of: q).element == .f32, qShape.count == 4, r.type(of: keysT).shape.count == 4,
            Array(r.type(of: keysT).shape.prefix(2)) == Array(qShape.prefix(2)),
            Array(vShape.prefix(2)) == Array(qShape.prefix(2)), vShape[2] == scores[3] else { return nil }
      if let mask = chain.mask {
        let t = r.type(of: mask)
        guard t.element == .f32, t.rank <= 4, (try? broadcastShapes([scores, t.shape])) == scores else { return nil }
      }
      var perm = transpose.attributes.ints("perm")
      perm.swapAt(2, 3)
      let name = r.name(of: op.result)
      let keys = perm == [0, 1, 2, 3] ? transpose.operands[0]
        : try r.insert(.transpose, [transpose.operands[0]], ["perm": .ints(perm)], name: name + ".keys")[0]
      let y = try r.insert(.attention, [q, keys, values] + (chain.mask.map { [$0] } ?? []),
                           ["scale": .float(chain.scale)], name: name)[0]
      let origin = r.origin(of: chain.absorbed + [keysT, chain.scores.result])
      r.modifyOp(r.definingSlot(of: y)!) { $0.origin.merge(origin) }
      return [y]
    },
  ]

  /// softmax input -> [add mask] -> [mul/div by a scalar constant] -> matmul(Q, Kᵀ).
  private static func match(_ x: ValueID, _ r: Rewriter) -> Chain? {
    guard let def = r.definingOp(of: x) else { return nil }
    switch def.kind {
    case .matmul:
      return Chain(scores: def, absorbed: [x])
    case .mul, .div:
      for (xi, ci) in def.kind == .div ? [(0, 1)] : [(0, 1), (1, 0)] {
        guard let c = r.constantTensor(of: def.operands[ci]), c.element == .f32, c.type.count == 1,
              r.hasOneUse(def.operands[xi]), let inner = r.definingOp(of: def.operands[xi]),
              inner.kind == .matmul, r.type(of: def.operands[xi]) == r.type(of: x) else { continue }
        let value = c.array(of: Float.self)[0]
        guard value != 0, value.isFinite else { return nil }
        return Chain(scores: inner, scale: def.kind == .div ? 1 / value : value, absorbed: [x, def.operands[xi]])
      }
      return nil
    case .add:
      for (xi, mi) in [(0, 1), (1, 0)] {
        guard r.hasOneUse(def.operands[xi]), r.type(of: def.operands[xi]) == r.type(of: x),
              let kind = r.definingOp(of: def.operands[xi])?.kind, [OpKind.matmul, .mul, .div].contains(kind),
              var chain = match(def.operands[xi], r) else { continue }
        chain.mask = def.operands[mi]
        chain.absorbed.append(x)
        return chain
      }
      return nil
    default:
      return nil
    }
  }
}
