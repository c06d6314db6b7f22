//===--- NewerOps.swift - CumProd, TensorScatter, BitCast -----------------===//
//
// Ops of opsets 23-24 without an IR op of their own:
// - CumProd: a running product unrolled along the axis (slices, muls, one concat): exact,
//   and refused above `maxCumProdLength` positions.
// - TensorScatter (KV-cache update): scatter_elements of the update into the cache at
//   index write_indices[b] + i along `axis` (mod the cache length in `circular` mode).
// - CausalConvWithState (Mamba-style short conv): the past state (zeros when absent)
//   concatenated before the input on the length axis, a depthwise 1-D conv without padding,
//   optional SiLU; the present state is the last k-1 positions of that concatenation.
// - BitCast: reinterprets the bytes of a value known at compile time (folded); of a
//   runtime value it is refused with a diagnostic (no IR op reinterprets bits yet).

import SparrowIR

let maxCumProdLength = 1024

let newerOpConverters: [String: Converter] = [
  "CumProd": { n in
    let x = try n.input(0)
    let axisTensor = try n.constantInput(1, "axis")
    guard axisTensor.count == 1 else { throw n.error("CumProd axis must be a scalar") }
    let rank = n.shape(x).count
    let axis = try n.axis(Int(axisTensor.int64(at: 0)), rank: rank)
    let length = n.shape(x)[axis]
    guard length <= maxCumProdLength else {
      throw n.error("CumProd over \(length) positions is not supported (at most \(maxCumProdLength))")
    }
    guard length > 1 else {
      return [try n.int("exclusive", 0) != 0 ? try n.emit1(.mul, [x, n.scalar(0, n.type(x).element, "zero")]) : x]
    }
    let reverse = try n.int("reverse", 0) != 0, exclusive = try n.int("exclusive", 0) != 0
    let order = reverse ? Array((0..<length).reversed()) : Array(0..<length)
    var running: ValueID?
    var parts = [ValueID](repeating: x, count: length)
    for position in order {
      let element = try n.slice(x, axis: axis, position, position + 1)
      if exclusive {
        if let r = running {
          parts[position] = r
        } else {
          var ones = n.shape(x)
          ones[axis] = 1
          parts[position] = n.constant(fromScalars(TensorType(n.type(x).element, ones),
                                                   .floats([Double](repeating: 1, count: ones.reduce(1, *)))), "one")
        }
        running = try running.map { try n.emit1(.mul, [$0, element]) } ?? element
      } else {
        running = try running.map { try n.emit1(.mul, [$0, element]) } ?? element
        parts[position] = running!
      }
    }
    return [try n.concat(parts, axis: axis)]
  },
  "TensorScatter": { n in
    let cache = try n.input(0), update = try n.input(1)
    let cs = n.shape(cache), us = n.shape(update)
    let axis = try n.axis(try n.int("axis", -2), rank: cs.count)
    guard axis > 0, us.count == cs.count, cs.indices.allSatisfy({ $0 == axis ? us[$0] <= cs[$0] : us[$0] == cs[$0] }) else {
      throw n.error("TensorScatter update \(n.type(update)) does not fit cache \(n.type(cache)) on axis \(axis)")
    }
    let mode = try n.string("mode", "linear")
    guard mode == "linear" || mode == "circular" else { throw n.error("TensorScatter mode '\(mode)' is not linear or circular") }
    var positionShape = [Int](repeating: 1, count: cs.count)
    positionShape[axis] = us[axis]
    var index = n.constant(Tensor(shape: positionShape, scalars: (0..<us[axis]).map { Int64($0) }), "positions")
    if let writes = n.optionalInput(2) {
      var batchShape = [Int](repeating: 1, count: cs.count)
      batchShape[0] = cs[0]
      let offsets = try n.reshape(try n.emit1(.cast, [writes], ["to": .type(.i64)]), batchShape)
      index = try n.emit1(.add, [index, offsets])
    }
    if mode == "circular" {
      index = try n.emit1(.mod, [index, n.scalar(Double(cs[axis]), .i64, "cache_length")])
    }
    index = try n.emit1(.expand, [index], ["shape": .ints(us)])
    return [try n.emit1(.scatter_elements, [cache, index, update], ["axis": .int(axis)])]
  },
  "CausalConvWithState": { n in
    let x = try n.input(0), w = try n.input(1)
    let xs = n.shape(x), ws = n.shape(w)
    guard xs.count == 3, ws.count == 3, ws[0] == xs[1], ws[1] == 1, ws[2] >= 1 else {
      throw n.error("CausalConvWithState needs input [B, C, L] and weight [C, 1, k], got \(n.type(x)) and \(n.type(w))")
    }
    let k = ws[2]
    let zeros = n.constant(Tensor(zeros: TensorType(n.type(x).element, [xs[0], xs[1], k - 1])), "past_state")
    let past = n.optionalInput(3) ?? zeros
    guard n.shape(past) == [xs[0], xs[1], k - 1] else {
      throw n.error("CausalConvWithState past_state \(n.type(past)) must be [\(xs[0]), \(xs[1]), \(k - 1)]")
    }
    // k = 1 keeps no state: the present state is empty.
    let padded = k == 1 ? x : try n.concat([past, x], axis: 2)
    var operands = [padded, w]
    if let b = n.optionalInput(2) { operands.append(b) }
    var y = try n.emit1(.conv, operands, ["strides": .ints([1]), "pads": .ints([0, 0]), "dilations": .ints([1]),
                                          "group": .int(xs[1])])
    switch try n.string("activation", "none") {
    case "none": break
    case "silu", "swish": y = try n.emit1(.mul, [y, try n.emit1(.sigmoid, [y])])
    case let other: throw n.error("CausalConvWithState activation '\(other)' is not none, silu or swish")
    }
    let length = n.shape(padded)[2]
    return [y, k == 1 ? zeros : try n.slice(padded, axis: 2, length - (k - 1), length)]
  },
  "BitCast": { n in
    guard let to = try n.elementTypeAttribute("to") else { throw n.error("BitCast needs attribute 'to'") }
    let from = n.type(try n.input(0)).element
    guard from.byteSize == to.byteSize else {
      throw n.error("BitCast from \(from) to \(to) changes the element size")
    }
    let x = try n.compileTimeInput(0, "value", because: "BitCast reinterprets the bytes of a constant (no IR op does it at run time)")
    return [n.constant(Tensor(type: TensorType(to, x.shape), bytes: x.bytes), "bits")]
  },
]
