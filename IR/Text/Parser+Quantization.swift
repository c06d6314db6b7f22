//===--- Parser+Quantization.swift - `#quant<...>` in tensor types --------===//
//
//   #quant<0.0235:128>                      per tensor: scale:zero_point
//   #quant<axis=0, 0.011:0, 0.009:0>         per axis: one scale:zero_point per slice
//
// The encoding is checked against the tensor's element type and shape here, so a parsed
// type is always a valid one (Quantization.problem(for:)).

extension Parser {
  mutating func parseQuantization(for type: TensorType) throws -> Quantization {
    let start = try expect(.hash, "a quantization like '#quant<0.02:128>'")
    guard start.text == "quant" else {
      throw error("expected '#quant<...>', got '#\(start.text)'", at: start)
    }
    try expectPunct("<", "after '#quant'")
    var axis: Int?
    if tok.kind == .identifier && tok.text == "axis" {
      try advance()
      try expectPunct("=", "after 'axis'")
      axis = try expectInt("the quantized axis")
      try expectPunct(",", "after the axis")
    }
    var scales: [Float] = []
    var zeroPoints: [Int] = []
    while true {
      let t = tok
      guard t.kind == .float || t.kind == .integer, let scale = parseFloatLiteral(t.text) else {
        throw error("expected a scale, got \(describe(t))")
      }
      try advance()
      try expectPunct(":", "between a scale and its zero point")
      scales.append(scale)
      zeroPoints.append(try expectInt("a zero point"))
      if isPunct(">") { break }
      try expectPunct(",", "or '>' in '#quant<...>'")
    }
    try advance()
    let q = axis.map { Quantization(axis: $0, scales: scales, zeroPoints: zeroPoints) }
      ?? Quantization(scale: scales[0], zeroPoint: zeroPoints[0])
    if axis == nil && scales.count != 1 {
      throw error("a per-tensor '#quant' takes one scale:zero_point (write 'axis=N,' for per-axis)", at: start)
    }
    if let problem = q.problem(for: type) { throw error(problem, at: start) }
    return q
  }
}
