//===--- Pool.swift - MaxPool, AveragePool, LpPool, global pooling --------===//

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
  t["GlobalAveragePool"] = { n in [try n.emit1(.global_average_pool, [try n.input(0)])] }
  t["GlobalMaxPool"] = { n in [try n.emit1(.global_max_pool, [try n.input(0)])] }
  t["GlobalLpPool"] = { n in [try n.emit1(.global_lp_pool, [try n.input(0)], ["p": .int(try n.int("p", 2))])] }
  return t
}()
