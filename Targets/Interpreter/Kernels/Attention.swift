//===--- Attention.swift - the fused attention op, the exact reference -----===//
//
// Plain loops, one query row at a time: the row's scores in f32 from Double dot
// products, scale, softcap, bias, causal limit, then a stable softmax (the row maximum
// subtracted, the sum in Double) and Σ p_j v_j in Double. A row whose scores are all
// -inf gives zeros. Semantics: IR/Ops/ShapeRules+Attention.swift.

import Foundation
import SparrowIR

func evaluateAttention(_ k: KernelArgs) throws -> Tensor {
  guard k.inputs.allSatisfy({ $0.element == .f32 }) else { throw k.unsupported("non-f32 operands") }
  let (qs, ks, vs) = (k.inputs[0].shape, k.inputs[1].shape, k.inputs[2].shape)
  let (batch, qHeads, qLength, depth) = (qs[0], qs[1], qs[2], qs[3])
  let (kvHeads, kvLength, valueDepth) = (ks[1], ks[2], vs[3])
  let group = qHeads / kvHeads
  let scale = k.attributes.float("scale"), softcap = k.attributes.float("softcap")
  let causal = k.attributes.bool("causal"), offset = k.attributes.int("causal_offset")
  let scoreShape = [batch, qHeads, qLength, kvLength]
  let biasStrides = k.inputs.count == 4 ? stridesBroadcasting(k.inputs[3].shape, to: scoreShape) : nil
  var scores = [Float](repeating: 0, count: kvLength)
  var sums = [Double](repeating: 0, count: valueDepth)
  func withBias<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
    k.inputs.count == 4 ? k.inputs[3].withElements(Float.self) { body($0) } : body(nil)
  }
  return Tensor.computed(k.type(), of: Float.self) { y in
    k.inputs[0].withElements(Float.self) { q in
      k.inputs[1].withElements(Float.self) { key in
        k.inputs[2].withElements(Float.self) { value in
          withBias { bias in
            for b in 0..<batch {
              for h in 0..<qHeads {
                let kvBase = (b * kvHeads + h / group) * kvLength
                for i in 0..<qLength {
                  let row = (b * qHeads + h) * qLength + i
                  for j in 0..<kvLength {
                    var dot = 0.0
                    for d in 0..<depth { dot += Double(q[row * depth + d]) * Double(key[(kvBase + j) * depth + d]) }
                    var s = scale * Float(dot)
                    if softcap > 0 { s = softcap * Foundation.tanh(s / softcap) }
                    if let bias, let st = biasStrides {
                      s += bias[b * st[0] + h * st[1] + i * st[2] + j * st[3]]
                    }
                    if causal && j > i + offset { s = -.infinity }
                    scores[j] = s
                  }
                  let peak = scores.max() ?? -.infinity
                  let out = y + row * valueDepth
                  guard peak > -.infinity else { continue }  // fully masked: zeros
                  var total = 0.0
                  for d in 0..<valueDepth { sums[d] = 0 }
                  for j in 0..<kvLength {
                    let p = Double(Foundation.exp(scores[j] - peak))
                    total += p
                    if p == 0 { continue }
                    for d in 0..<valueDepth { sums[d] += p * Double(value[(kvBase + j) * valueDepth + d]) }
                  }
                  for d in 0..<valueDepth { out[d] = Float(sums[d] / total) }
                }
              }
            }
          }
        }
      }
    }
  }
}
