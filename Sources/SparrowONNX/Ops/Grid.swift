//===--- Grid.swift - AffineGrid as a product with a constant base grid --===//
//
// The sampling grid is base · thetaᵀ, where base holds one row (x, y[, z], 1) of
// normalized coordinates per output location (x along W); the size input must be known.

import SparrowIR

let gridConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["AffineGrid"] = { n in
    let theta = try n.input(0)
    let size = try n.constantInput(1, "size").ints
    guard size.count == 4 || size.count == 5 else { throw n.error("AffineGrid size \(size) must have 4 or 5 entries") }
    let spatial = Array(size[2...])  // [H, W] or [D, H, W]
    let dims = spatial.count
    guard n.shape(theta) == [size[0], dims, dims + 1] else {
      throw n.error("AffineGrid theta \(n.shape(theta)) does not fit size \(size)")
    }
    guard spatial.allSatisfy({ $0 > 0 }), spatial.reduce(1, *) <= (1 << 24) else { throw n.error("AffineGrid size \(size) is invalid") }
    let alignCorners = try n.int("align_corners", 0) != 0
    func coordinate(_ i: Int, _ length: Int) -> Float {
      if alignCorners { return length == 1 ? 0 : -1 + 2 * Float(i) / Float(length - 1) }
      return (2 * Float(i) + 1) / Float(length) - 1
    }
    let count = spatial.reduce(1, *)
    let strides = contiguousStrides(spatial)
    var base = [Float](repeating: 1, count: count * (dims + 1))
    for p in 0..<count {
      // Column 0 is x (the last spatial axis), then y, then z.
      for j in 0..<dims {
        let axis = dims - 1 - j
        base[p * (dims + 1) + j] = coordinate((p / strides[axis]) % spatial[axis], spatial[axis])
      }
    }
    let b = n.constant(Tensor(shape: [count, dims + 1], scalars: base), "base_grid")
    let thetaT = try n.emit1(.transpose, [theta], ["perm": .ints([0, 2, 1])])
    let grid = try n.emit1(.matmul, [b, thetaT])
    return [try n.reshape(grid, [size[0]] + spatial + [dims])]
  }
  return t
}()
