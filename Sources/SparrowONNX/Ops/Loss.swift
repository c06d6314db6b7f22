//===--- Loss.swift - NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss --===//
//
// Inference value of the loss functions, decomposed into IR ops:
//   picked[n, d...] = x[n, target[n, d...], d...]          (gather_elements on axis 1)
//   w               = weight[target] (or 1), 0 where target == ignore_index
//   loss            = -picked * w
// reduced as `none`, `sum`, or `mean` = sum(loss) / sum(w) (np.mean without weights or
// ignore_index, as the ONNX reference). Ignored targets index class 0 so the gathers stay
// in range. SoftmaxCrossEntropyLoss is the same on log_softmax(scores, axis 1), whose
// value is its optional second output.

import SparrowIR

let lossConverters: [String: Converter] = [
  "NegativeLogLikelihoodLoss": { n in [try negativeLogLikelihood(n, try n.input(0))] },
  "SoftmaxCrossEntropyLoss": { n in
    let logProbabilities = try n.emit1(.log_softmax, [try n.input(0)], ["axis": .int(1)])
    return [try negativeLogLikelihood(n, logProbabilities), logProbabilities]
  },
]

/// The loss of `x` ([N, C, d...] log-probabilities) against input 1 (targets [N, d...]).
private func negativeLogLikelihood(_ n: ONNXNode, _ x: ValueID) throws -> ValueID {
  let target = try n.input(1)
  let xs = n.shape(x), ts = n.shape(target)
  guard xs.count >= 2, ts == [xs[0]] + xs.dropFirst(2) else {
    throw n.error("\(n.opType) needs scores [N, C, d...] and targets [N, d...], got \(n.type(x)) and \(n.type(target))")
  }
  let element = n.type(x).element, indexElement = n.type(target).element
  var index = target, valid: ValueID?
  if let ignored = try n.optionalInt("ignore_index") {
    let ignoredValue = n.scalar(Double(ignored), indexElement, "ignore_index")
    let kept = try n.emit1(.not, [try n.emit1(.equal, [target, ignoredValue])])
    index = try n.emit1(.where, [kept, target, n.scalar(0, indexElement, "class0")])
    valid = kept
  }
  var picked = try n.emit1(.gather_elements, [x, try n.unsqueeze(index, at: 1)], ["axis": .int(1)])
  picked = try n.reshape(picked, ts)
  var weight = try n.optionalInput(2).map { try n.emit1(.gather, [$0, index], ["axis": .int(0)]) }
  if let valid {
    weight = try n.emit1(.where, [valid, weight ?? n.scalar(1, element, "one"), n.scalar(0, element, "zero")])
  }
  var loss = try n.emit1(.neg, [picked])
  if let weight { loss = try n.emit1(.mul, [loss, weight]) }
  let all: [String: AttributeValue] = ["axes": .ints(Array(ts.indices)), "keepdims": .bool(false)]
  switch try n.string("reduction", "mean") {
  case "none": return loss
  case "sum": return try n.emit1(.reduce_sum, [loss], all)
  case "mean":
    guard let weight else { return try n.emit1(.reduce_mean, [loss], all) }
    return try n.emit1(.div, [try n.emit1(.reduce_sum, [loss], all), try n.emit1(.reduce_sum, [weight], all)])
  case let other: throw n.error("\(n.opType) reduction '\(other)' is not one of none, sum, mean")
  }
}
