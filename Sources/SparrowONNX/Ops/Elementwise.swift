//===--- Elementwise.swift - unary, binary and variadic elementwise ops ---===//
//
// Mostly one-to-one. Opsets < 7 broadcast B only with `broadcast=1` and align it at
// `axis`: B is reshaped so numpy broadcasting gives the same result. Clip's min/max are
// attributes before opset 11 and constant inputs after. Activations without an IR op
// (Swish-like, HardSwish variants) map to the nearest op or a short sequence.

import SparrowIR

let elementwiseConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  let unary: [String: OpKind] = [
    "Abs": .abs, "Neg": .neg, "Exp": .exp, "Log": .log, "Sqrt": .sqrt, "Reciprocal": .reciprocal,
    "Floor": .floor, "Ceil": .ceil, "Round": .round, "Sign": .sign, "Sin": .sin, "Cos": .cos,
    "Tan": .tan, "Asin": .asin, "Acos": .acos, "Atan": .atan, "Sinh": .sinh, "Cosh": .cosh,
    "Asinh": .asinh, "Acosh": .acosh, "Atanh": .atanh, "Erf": .erf, "Tanh": .tanh,
    "Sigmoid": .sigmoid, "Relu": .relu, "Softplus": .softplus, "Softsign": .softsign,
    "Mish": .mish, "HardSwish": .hard_swish, "Not": .not, "BitwiseNot": .bitwise_not,
    "IsNaN": .is_nan,
  ]
  for (name, kind) in unary {
    t[name] = { n in [try n.emit1(kind, [try n.input(0)])] }
  }
  // Unary ops with float attributes (ONNX name, IR op, attribute names with defaults).
  let withAttributes: [(String, OpKind, [(String, Float)])] = [
    ("LeakyRelu", .leaky_relu, [("alpha", 0.01)]),
    ("Elu", .elu, [("alpha", 1)]),
    ("Celu", .celu, [("alpha", 1)]),
    ("Selu", .selu, [("alpha", 1.67326319217681884765625), ("gamma", 1.05070102214813232421875)]),
    ("ThresholdedRelu", .thresholded_relu, [("alpha", 1)]),
    ("HardSigmoid", .hard_sigmoid, [("alpha", 0.2), ("beta", 0.5)]),
    ("Shrink", .shrink, [("bias", 0), ("lambd", 0.5)]),
  ]
  for (name, kind, attrs) in withAttributes {
    t[name] = { n in
      var a: [String: AttributeValue] = [:]
      for (key, d) in attrs { a[key] = .float(try n.float(key, d)) }
      return [try n.emit1(kind, [try n.input(0)], a)]
    }
  }
  t["Gelu"] = { n in
    [try n.emit1(.gelu, [try n.input(0)], ["approximate": .string(try n.string("approximate", "none"))])]
  }
  t["Swish"] = { n in
    let x = try n.input(0)
    let alpha = n.constant(fromScalars(TensorType(n.type(x).element, []), .floats([Double(try n.float("alpha", 1))])), "alpha")
    return [try n.emit1(.mul, [x, try n.emit1(.sigmoid, [try n.emit1(.mul, [x, alpha])])])]
  }
  t["IsInf"] = { n in
    [try n.emit1(.is_inf, [try n.input(0)],
                 ["detect_negative": .bool(try n.int("detect_negative", 1) != 0),
                  "detect_positive": .bool(try n.int("detect_positive", 1) != 0)])]
  }
  t["Clip"] = convertClip
  t["Cast"] = { n in
    let to = try elementType(onnxCode: Int32(clamping: try n.int("to", 0)), what: "Cast 'to'")
    return [try n.emit1(.cast, [try n.input(0)], ["to": .type(to)])]
  }
  t["CastLike"] = { n in
    let to = n.type(try n.input(1)).element
    return [try n.emit1(.cast, [try n.input(0)], ["to": .type(to)])]
  }

  let binary: [String: OpKind] = [
    "Add": .add, "Sub": .sub, "Mul": .mul, "Div": .div, "Pow": .pow,
    "And": .and, "Or": .or, "Xor": .xor, "Equal": .equal, "Greater": .greater,
    "GreaterOrEqual": .greater_or_equal, "Less": .less, "LessOrEqual": .less_or_equal,
    "BitwiseAnd": .bitwise_and, "BitwiseOr": .bitwise_or, "BitwiseXor": .bitwise_xor,
  ]
  for (name, kind) in binary {
    t[name] = { n in
      let (a, b) = try legacyBroadcast(n)
      return [try n.emit1(kind, [a, b])]
    }
  }
  t["Mod"] = { n in
    [try n.emit1(.mod, [try n.input(0), try n.input(1)], ["fmod": .bool(try n.int("fmod", 0) != 0)])]
  }
  t["BitShift"] = { n in
    [try n.emit1(.bit_shift, [try n.input(0), try n.input(1)],
                 ["direction": .string(try n.string("direction", "LEFT"))])]
  }
  t["PRelu"] = { n in
    let x = try n.input(0)
    var slope = try n.input(1)
    // Opsets < 7 (and some exporters) give a per-channel slope [C] for an NCHW input.
    let xs = n.shape(x), ss = n.shape(slope)
    if ss.count == 1, xs.count >= 2, ss[0] == xs[1], ss[0] != xs.last {
      slope = try n.reshape(slope, [ss[0]] + [Int](repeating: 1, count: xs.count - 2))
    }
    return [try n.emit1(.prelu, [x, slope])]
  }
  let variadic: [String: OpKind] = ["Max": .max, "Min": .min, "Sum": .sum, "Mean": .mean]
  for (name, kind) in variadic {
    t[name] = { n in
      let xs = try n.inputs()
      if xs.count == 1 { return [xs[0]] }
      return [try n.emit1(kind, xs)]
    }
  }
  t["Where"] = { n in [try n.emit1(.where, [try n.input(0), try n.input(1), try n.input(2)])] }
  return t
}()

/// Inputs 0 and 1 of a binary op, with B reshaped for the opset < 7 `broadcast`/`axis` rule.
private func legacyBroadcast(_ n: ONNXNode) throws -> (ValueID, ValueID) {
  let a = try n.input(0), b = try n.input(1)
  guard n.opset < 7, try n.int("broadcast", 0) != 0 else { return (a, b) }
  let ra = n.shape(a).count, sb = n.shape(b)
  guard let axisAttr = try n.optionalInt("axis") else { return (a, b) }
  let axis = axisAttr < 0 ? axisAttr + ra : axisAttr
  let trailing = ra - axis - sb.count
  guard axis >= 0, trailing >= 0 else { throw n.error("broadcast axis \(axisAttr) does not fit B \(sb)") }
  return (a, try n.reshape(b, sb + [Int](repeating: 1, count: trailing)))
}

private func convertClip(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0)
  var attrs: [String: AttributeValue] = [:]
  if n.opset < 11 {
    attrs["min"] = .float(try n.float("min", -.infinity))
    attrs["max"] = .float(try n.float("max", .infinity))
  } else {
    if let lo = try n.optionalConstantInput(1, "min") {
      guard lo.count == 1 else { throw n.error("Clip min must be a scalar") }
      attrs["min"] = .float(Float(lo.double(at: 0)))
    }
    if let hi = try n.optionalConstantInput(2, "max") {
      guard hi.count == 1 else { throw n.error("Clip max must be a scalar") }
      attrs["max"] = .float(Float(hi.double(at: 0)))
    }
  }
  return [try n.emit1(.clip, [x], attrs)]
}
