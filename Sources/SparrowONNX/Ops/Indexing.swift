//===--- Indexing.swift - gathers, scatters, one-hot, depth/space, trilu --===//
//
// Known negative Gather indices are made non-negative at import. OneHot's depth and
// Trilu's k are constant inputs that become attributes.

import SparrowIR

let indexingConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["Gather"] = { n in
    let x = try n.input(0)
    var idx = try n.input(1)
    let axis = try n.axis(try n.int("axis", 0), rank: n.shape(x).count)
    if let k = n.known(idx), k.ints.contains(where: { $0 < 0 }) {
      let dim = n.shape(x)[axis]
      let fixed = k.ints.map { Int64($0 < 0 ? $0 + dim : $0) }
      idx = n.constant(fromScalars(TensorType(k.element, k.shape), .ints(fixed)), "indices")
    }
    return [try n.emit1(.gather, [x, idx], ["axis": .int(axis)])]
  }
  t["Compress"] = { n in
    var x = try n.input(0)
    let condition = try n.constantInput(1, "condition").ints
    var axis = 0
    if let a = try n.optionalInt("axis") {
      axis = try n.axis(a, rank: n.shape(x).count)
    } else {
      x = try n.reshape(x, [n.type(x).count])
    }
    let dim = n.shape(x)[axis]
    let picked = condition.prefix(dim).enumerated().filter { $0.element != 0 }.map { Int64($0.offset) }
    let indices = n.constant(Tensor(shape: [picked.count], scalars: picked), "indices")
    return [try n.emit1(.gather, [x, indices], ["axis": .int(axis)])]
  }
  t["GatherElements"] = { n in
    let x = try n.input(0)
    return [try n.emit1(.gather_elements, [x, try n.input(1)],
                        ["axis": .int(try n.axis(try n.int("axis", 0), rank: n.shape(x).count))])]
  }
  t["GatherND"] = { n in
    [try n.emit1(.gather_nd, [try n.input(0), try n.input(1)], ["batch_dims": .int(try n.int("batch_dims", 0))])]
  }
  let scatter: Converter = { n in
    let x = try n.input(0)
    return [try n.emit1(.scatter_elements, [x, try n.input(1), try n.input(2)],
                        ["axis": .int(try n.axis(try n.int("axis", 0), rank: n.shape(x).count)),
                         "reduction": .string(try n.string("reduction", "none"))])]
  }
  t["ScatterElements"] = scatter
  t["Scatter"] = scatter
  t["ScatterND"] = { n in
    [try n.emit1(.scatter_nd, [try n.input(0), try n.input(1), try n.input(2)],
                 ["reduction": .string(try n.string("reduction", "none"))])]
  }
  t["DepthToSpace"] = { n in
    guard let b = try n.optionalInt("blocksize") else { throw n.error("DepthToSpace needs blocksize") }
    return [try n.emit1(.depth_to_space, [try n.input(0)], ["blocksize": .int(b), "mode": .string(try n.string("mode", "DCR"))])]
  }
  t["SpaceToDepth"] = { n in
    guard let b = try n.optionalInt("blocksize") else { throw n.error("SpaceToDepth needs blocksize") }
    let x = try n.input(0)
    guard try n.string("mode", "DCR") == "CRD" else {
      return [try n.emit1(.space_to_depth, [x], ["blocksize": .int(b)])]
    }
    // CRD: channel-major blocks, as a reshape and a transpose.
    let s = n.shape(x)
    guard s.count == 4, b > 0, s[2] % b == 0, s[3] % b == 0 else { throw n.error("SpaceToDepth \(s) with blocksize \(b)") }
    let split = try n.reshape(x, [s[0], s[1], s[2] / b, b, s[3] / b, b])
    let moved = try n.emit1(.transpose, [split], ["perm": .ints([0, 1, 3, 5, 2, 4])])
    return [try n.reshape(moved, [s[0], s[1] * b * b, s[2] / b, s[3] / b])]
  }
  t["ReverseSequence"] = { n in
    [try n.emit1(.reverse_sequence, [try n.input(0), try n.input(1)],
                 ["batch_axis": .int(try n.int("batch_axis", 1)), "time_axis": .int(try n.int("time_axis", 0))])]
  }
  t["OneHot"] = { n in
    let depth = try n.constantInput(1, "depth")
    guard depth.count == 1, depth.double(at: 0) >= 0, depth.double(at: 0) <= Double(1 << 30) else {
      throw n.error("OneHot depth must be a scalar between 0 and 2^30")
    }
    return [try n.emit1(.one_hot, [try n.input(0), try n.input(2)],
                        ["axis": .int(try n.int("axis", -1)), "depth": .int(Int(depth.double(at: 0)))])]
  }
  t["Trilu"] = { n in
    let k = try n.optionalConstantInput(1, "k")?.ints.first ?? 0
    return [try n.emit1(.trilu, [try n.input(0)], ["upper": .bool(try n.int("upper", 1) != 0), "k": .int(k)])]
  }
  return t
}()
