//===--- Quantize.swift - QuantizeLinear, DequantizeLinear ----------------===//
//
// The IR's ops always take a zero point: an absent one is a zero constant (u8 for
// QuantizeLinear, the input's type for DequantizeLinear, per the ONNX defaults).

import SparrowIR

let quantizeConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["QuantizeLinear"] = { n in
    let x = try n.input(0), scale = try n.input(1)
    let element = try n.optionalInt("output_dtype").flatMap { $0 == 0 ? nil : $0 }
      .map { try elementType(onnxCode: Int32(clamping: $0), what: "QuantizeLinear output_dtype") } ?? .u8
    let zp = n.optionalInput(2) ?? n.constant(Tensor(zeros: TensorType(element, n.shape(scale))), "zero_point")
    let rank = n.shape(x).count
    return [try n.emit1(.quantize_linear, [x, scale, zp],
                        ["axis": .int(try quantizationAxis(n, rank: rank, scale: scale)),
                         "saturate": .bool(try n.int("saturate", 1) != 0),
                         "block_size": .int(try n.int("block_size", 0))])]
  }
  t["DequantizeLinear"] = { n in
    let x = try n.input(0), scale = try n.input(1)
    let zp = n.optionalInput(2) ?? n.constant(Tensor(zeros: TensorType(n.type(x).element, n.shape(scale))), "zero_point")
    let rank = n.shape(x).count
    return [try n.emit1(.dequantize_linear, [x, scale, zp],
                        ["axis": .int(try quantizationAxis(n, rank: rank, scale: scale)),
                         "block_size": .int(try n.int("block_size", 0))])]
  }
  t["DynamicQuantizeLinear"] = { n in
    // scale = (max(0, max x) - min(0, min x)) / 255; zero point = clamp(round(-min / scale)).
    let x = try n.input(0)
    let all: AttributeValue = .ints(Array(0..<n.shape(x).count))
    func scalar(_ v: Float, _ name: String) -> ValueID { n.constant(Tensor(scalar: v), name) }
    let zero = scalar(0, "zero")
    let hi = try n.emit1(.max, [try n.emit1(.reduce_max, [x], ["axes": all, "keepdims": .bool(false)]), zero])
    let lo = try n.emit1(.min, [try n.emit1(.reduce_min, [x], ["axes": all, "keepdims": .bool(false)]), zero])
    let scale = try n.emit1(.div, [try n.emit1(.sub, [hi, lo]), scalar(255, "qmax")])
    let zpFloat = try n.emit1(.round, [try n.emit1(.sub, [zero, try n.emit1(.div, [lo, scale])])])
    let zpClipped = try n.emit1(.clip, [zpFloat], ["min": .float(0), "max": .float(255)])
    let zp = try n.emit1(.cast, [zpClipped], ["to": .type(.u8)])
    let y = try n.emit1(.quantize_linear, [x, scale, zp], ["axis": .int(0)])
    return [y, scale, zp]
  }
  return t
}()

/// The normalized `axis`; it only matters (and is only checked) for a non-scalar scale.
func quantizationAxis(_ n: ONNXNode, rank: Int, scale: ValueID) throws -> Int {
  let axis = try n.int("axis", 1)
  if n.type(scale).count <= 1 && n.shape(scale).count <= 1 {
    let r = axis < 0 ? axis + rank : axis
    return r >= 0 && r < rank ? r : 0
  }
  return try n.axis(axis, rank: rank)
}
