//===--- Pool.swift - MaxPool, AveragePool, LpPool, global pooling, MaxUnpool ===//

import SparrowIR

let poolConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  @Sendable func window(_ n: ONNXNode) throws -> (ValueID, [String: AttributeValue]) {
    let x = try n.input(0)
    let xs = n.shape(x)
    guard xs.count >= 3 else { throw n.error("\(n.opType) needs an input of rank >= 3, got \(xs)") }
    let ceil = try n.int("ceil_mode", 0) != 0
    let w = try resolveWindow(n, input: Array(xs[2...]), kernel: nil)
    var a = w.attributes
    a["kernel"] = .ints(w.kernel)
    a["ceil_mode"] = .bool(ceil)
    return (x, a)
  }
  t["MaxPool"] = { n in
    var (x, a) = try window(n)
    a["storage_order"] = .int(try n.int("storage_order", 0))
    return try n.emit(.max_pool, [x], a, results: n.hasOutput(1) ? 2 : 1)
  }
  t["AveragePool"] = { n in
    var (x, a) = try window(n)
    a["count_include_pad"] = .bool(try n.int("count_include_pad", 0) != 0)
    return [try n.emit1(.average_pool, [x], a)]
  }
  t["LpPool"] = { n in
    var (x, a) = try window(n)
    a["p"] = .int(try n.int("p", 2))
    return [try n.emit1(.lp_pool, [x], a)]
  }
  t["MaxUnpool"] = { n in
    // Indices (from MaxPool) are flat over the whole output: scatter into zeros.
    let x = try n.input(0), indices = try n.input(1)
    let xs = n.shape(x)
    guard xs.count >= 3, n.shape(indices) == xs else { throw n.error("MaxUnpool X \(xs) and indices must have the same shape, rank >= 3") }
    // Indices address the default unpooled shape; a larger output_shape pads at the end.
    let w = try resolveWindow(n, input: Array(xs[2...]), kernel: nil)
    let spatial = xs.count - 2
    let natural = Array(xs[..<2]) + (0..<spatial).map { i in
      (xs[2 + i] - 1) * w.strides[i] - w.pads[i] - w.pads[spatial + i] + w.kernel[i]
    }
    let out = try n.optionalConstantInput(2, "output shape")?.ints ?? natural
    guard out.count == xs.count, zip(out, natural).allSatisfy({ $0 >= $1 }),
          let total = checkedProduct(natural), total > 0 else {
      throw n.error("MaxUnpool output shape \(out) is invalid for \(xs)")
    }
    let zeros = n.constant(Tensor(zeros: TensorType(n.type(x).element, [total])), "zeros")
    let flatIndices = try n.reshape(indices, [n.type(indices).count])
    let flatValues = try n.reshape(x, [n.type(x).count])
    let y = try n.reshape(try n.emit1(.scatter_elements, [zeros, flatIndices, flatValues], ["axis": .int(0)]), natural)
    if out == natural { return [y] }
    let pads = [Int](repeating: 0, count: xs.count) + zip(out, natural).map { $0 - $1 }
    return [try n.emit1(.pad, [y], ["pads": .ints(pads)])]
  }
  t["GlobalAveragePool"] = { n in [try n.emit1(.global_average_pool, [try n.input(0)])] }
  t["GlobalMaxPool"] = { n in [try n.emit1(.global_max_pool, [try n.input(0)])] }
  t["GlobalLpPool"] = { n in [try n.emit1(.global_lp_pool, [try n.input(0)], ["p": .int(try n.int("p", 2))])] }
  return t
}()
