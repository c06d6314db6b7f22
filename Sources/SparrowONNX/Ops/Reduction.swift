//===--- Reduction.swift - ReduceX, ArgMax/Min, CumSum, TopK, Softmax -----===//
//
// Reduce axes are an attribute before opset 18 (13 for ReduceSum) and an input after;
// both become an explicit, non-negative `axes` list (all axes when empty, unless
// noop_with_empty_axes). Softmax-like ops before opset 13 flatten to 2-D at `axis`;
// that is a reshape, a softmax over axis 1 and a reshape back.

import SparrowIR

let reductionConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  let reduces: [String: OpKind] = [
    "ReduceSum": .reduce_sum, "ReduceMean": .reduce_mean, "ReduceMax": .reduce_max,
    "ReduceMin": .reduce_min, "ReduceProd": .reduce_prod, "ReduceL1": .reduce_l1,
    "ReduceL2": .reduce_l2, "ReduceLogSum": .reduce_log_sum,
    "ReduceLogSumExp": .reduce_log_sum_exp, "ReduceSumSquare": .reduce_sum_square,
  ]
  for (name, kind) in reduces {
    let inputSince = name == "ReduceSum" ? 13 : 18
    t[name] = { n in
      let x = try n.input(0)
      let rank = n.shape(x).count
      var axes: [Int]
      if n.opset >= inputSince {
        axes = try n.optionalConstantInput(1, "axes")?.ints ?? []
      } else {
        axes = try n.ints("axes") ?? []
      }
      if axes.isEmpty {
        if n.opset >= inputSince, try n.int("noop_with_empty_axes", 0) != 0 { return [x] }
        axes = Array(0..<rank)
      }
      axes = try n.axes(axes, rank: rank)
      return [try n.emit1(kind, [x], ["axes": .ints(axes), "keepdims": .bool(try n.int("keepdims", 1) != 0)])]
    }
  }
  for (name, kind) in [("ArgMax", OpKind.argmax), ("ArgMin", .argmin)] {
    t[name] = { n in
      let x = try n.input(0)
      let axis = try n.axis(try n.int("axis", 0), rank: n.shape(x).count)
      return [try n.emit1(kind, [x], ["axis": .int(axis), "keepdims": .bool(try n.int("keepdims", 1) != 0),
                                      "select_last_index": .bool(try n.int("select_last_index", 0) != 0)])]
    }
  }
  t["CumSum"] = { n in
    let x = try n.input(0)
    let a = try n.constantInput(1, "axis")
    guard a.count == 1 else { throw n.error("CumSum axis must be a scalar") }
    let axis = try n.axis(a.ints[0], rank: n.shape(x).count)
    return [try n.emit1(.cumsum, [x], ["axis": .int(axis), "exclusive": .bool(try n.int("exclusive", 0) != 0),
                                       "reverse": .bool(try n.int("reverse", 0) != 0)])]
  }
  t["TopK"] = { n in
    let x = try n.input(0)
    let axis = try n.axis(try n.int("axis", -1), rank: n.shape(x).count)
    let k: Int
    if n.opset < 10 {
      guard let kk = try n.optionalInt("k") else { throw n.error("TopK needs attribute k") }
      k = kk
    } else {
      let kt = try n.constantInput(1, "k")
      guard kt.count == 1 else { throw n.error("TopK k must have one element") }
      k = kt.ints[0]
    }
    return try n.emit(.top_k, [x], ["axis": .int(axis), "k": .int(k),
                                    "largest": .bool(try n.int("largest", 1) != 0),
                                    "sorted": .bool(try n.int("sorted", 1) != 0)])
  }
  for (name, kind) in [("Softmax", OpKind.softmax), ("LogSoftmax", .log_softmax), ("Hardmax", .hardmax)] {
    t[name] = { n in
      let x = try n.input(0)
      let shape = n.shape(x)
      if n.opset >= 13 {
        let axis = try n.axis(try n.int("axis", -1), rank: shape.count)
        return [try n.emit1(kind, [x], ["axis": .int(axis)])]
      }
      let axis = try n.axis(try n.int("axis", 1), rank: shape.count)
      let rows = shape[..<axis].reduce(1, *), cols = shape[axis...].reduce(1, *)
      if axis == shape.count - 1 { return [try n.emit1(kind, [x], ["axis": .int(axis)])] }
      let flat = try n.reshape(x, [rows, cols])
      let y = try n.emit1(kind, [flat], ["axis": .int(1)])
      return [try n.reshape(y, shape)]
    }
  }
  return t
}()
