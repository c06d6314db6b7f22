//===--- Normalization.swift - batch/layer/instance/group norm, LRN -------===//
//
// BatchNormalization with training_mode=1 normalizes with the batch statistics and also
// returns the updated running mean and variance. Old opsets' `is_test`/`spatial`
// attributes are accepted (spatial=0 needs [C] parameters anyway).
// GroupNormalization opset 18 has per-group scale/bias; they are repeated per channel,
// which is the IR's (and opset 21's) convention.

import SparrowIR

let normalizationConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["BatchNormalization"] = { n in
    let x = try n.input(0)
    let c = n.shape(x).count >= 2 ? n.shape(x)[1] : 0
    var params: [ValueID] = []
    for i in 1...4 {
      let p = try n.input(i)
      params.append(n.shape(p).count == 1 ? p : try n.reshape(p, [n.type(p).count == c ? c : n.type(p).count]))
    }
    let epsilon: AttributeValue = .float(try n.float("epsilon", 1e-5))
    if n.opset >= 14, try n.int("training_mode", 0) != 0 {
      return try batchNormTraining(n, x, channels: c, params, epsilon: epsilon)
    }
    return [try n.emit1(.batch_norm, [x] + params, ["epsilon": epsilon])]
  }
  t["LayerNormalization"] = { n in
    let x = try n.input(0)
    let axis = try n.axis(try n.int("axis", -1), rank: n.shape(x).count)
    var operands = [x, try n.input(1)]
    if let b = n.optionalInput(2) { operands.append(b) }
    let epsilon = try n.float("epsilon", 1e-5)
    let y = try n.emit1(.layer_norm, operands, ["axis": .int(axis), "epsilon": .float(epsilon)])
    guard n.hasOutput(1) || n.hasOutput(2) else { return [y] }
    // Mean and InvStdDev (kept dims), computed separately.
    let axes: AttributeValue = .ints(Array(axis..<n.shape(x).count))
    let mean = try n.emit1(.reduce_mean, [x], ["axes": axes])
    let d = try n.emit1(.sub, [x, mean])
    let variance = try n.emit1(.reduce_mean, [try n.emit1(.mul, [d, d])], ["axes": axes])
    let eps = n.constant(fromScalars(TensorType(n.type(x).element, []), .floats([Double(epsilon)])), "epsilon")
    let inv = try n.emit1(.reciprocal, [try n.emit1(.sqrt, [try n.emit1(.add, [variance, eps])])])
    return [y, mean, inv]
  }
  t["RMSNormalization"] = { n in
    let x = try n.input(0), scale = try n.input(1)
    let axis = try n.axis(try n.int("axis", -1), rank: n.shape(x).count)
    let eps = n.constant(fromScalars(TensorType(n.type(x).element, []),
                                     .floats([Double(try n.float("epsilon", 1e-5))])), "epsilon")
    let ms = try n.emit1(.reduce_mean, [try n.emit1(.mul, [x, x])], ["axes": .ints(Array(axis..<n.shape(x).count))])
    let inv = try n.emit1(.reciprocal, [try n.emit1(.sqrt, [try n.emit1(.add, [ms, eps])])])
    return [try n.emit1(.mul, [try n.emit1(.mul, [x, inv]), scale])]
  }
  t["InstanceNormalization"] = { n in
    [try n.emit1(.instance_norm, [try n.input(0), try n.input(1), try n.input(2)],
                 ["epsilon": .float(try n.float("epsilon", 1e-5))])]
  }
  t["GroupNormalization"] = { n in
    let x = try n.input(0)
    guard let groups = try n.optionalInt("num_groups") else { throw n.error("GroupNormalization needs num_groups") }
    let c = n.shape(x).count >= 2 ? n.shape(x)[1] : 0
    var scale = try n.input(1), bias = try n.input(2)
    if n.opset < 21, groups > 0, c % groups == 0, n.shape(scale) == [groups], groups != c {
      scale = try perChannel(n, scale, groups: groups, channels: c)
      bias = try perChannel(n, bias, groups: groups, channels: c)
    }
    return [try n.emit1(.group_norm, [x, scale, bias],
                        ["num_groups": .int(groups), "epsilon": .float(try n.float("epsilon", 1e-5))])]
  }
  t["LRN"] = { n in
    guard let size = try n.optionalInt("size") else { throw n.error("LRN needs attribute size") }
    return [try n.emit1(.lrn, [try n.input(0)],
                        ["size": .int(size), "alpha": .float(try n.float("alpha", 0.0001)),
                         "beta": .float(try n.float("beta", 0.75)), "bias": .float(try n.float("bias", 1))])]
  }
  t["LpNormalization"] = { n in
    let x = try n.input(0)
    return [try n.emit1(.lp_norm, [x], ["axis": .int(try n.axis(try n.int("axis", -1), rank: n.shape(x).count)),
                                       "p": .int(try n.int("p", 2))])]
  }
  t["MeanVarianceNormalization"] = { n in
    let x = try n.input(0)
    let axes = try n.axes(try n.ints("axes") ?? [0, 2, 3], rank: n.shape(x).count)
    return [try n.emit1(.mean_variance_norm, [x], ["axes": .ints(axes)])]
  }
  return t
}()

/// [G] -> [C]: each group's value repeated for its channels.
private func perChannel(_ n: ONNXNode, _ v: ValueID, groups: Int, channels: Int) throws -> ValueID {
  let g = try n.reshape(v, [groups, 1])
  let e = try n.emit1(.expand, [g], ["shape": .ints([groups, channels / groups])])
  return try n.reshape(e, [channels])
}

/// BatchNormalization with training_mode=1: normalizes with the batch's own mean and
/// (biased) variance over every axis but 1, and returns the running statistics updated
/// as `running * momentum + batch * (1 - momentum)` (as the ONNX reference).
private func batchNormTraining(_ n: ONNXNode, _ x: ValueID, channels c: Int, _ params: [ValueID],
                               epsilon: AttributeValue) throws -> [ValueID] {
  let rank = n.shape(x).count
  guard rank >= 2 else { throw n.error("BatchNormalization needs rank >= 2, got \(n.type(x))") }
  let axes: AttributeValue = .ints([0] + Array(2..<rank))
  let mean = try n.emit1(.reduce_mean, [x], ["axes": axes])
  let d = try n.emit1(.sub, [x, mean])
  let variance = try n.emit1(.reduce_mean, [try n.emit1(.mul, [d, d])], ["axes": axes])
  let (batchMean, batchVariance) = (try n.reshape(mean, [c]), try n.reshape(variance, [c]))
  let y = try n.emit1(.batch_norm, [x, params[0], params[1], batchMean, batchVariance], ["epsilon": epsilon])
  let momentum = Double(try n.float("momentum", 0.9))
  func scalar(_ v: Double, _ name: String) -> ValueID {
    n.constant(fromScalars(TensorType(n.type(x).element, []), .floats([v])), name)
  }
  let (keep, take) = (scalar(momentum, "momentum"), scalar(1 - momentum, "one_minus_momentum"))
  func updated(_ running: ValueID, _ batch: ValueID) throws -> ValueID {
    try n.emit1(.add, [try n.emit1(.mul, [running, keep]), try n.emit1(.mul, [batch, take])])
  }
  return [y, try updated(params[2], batchMean), try updated(params[3], batchVariance)]
}
