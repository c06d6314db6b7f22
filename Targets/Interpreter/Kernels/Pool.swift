//===--- Pool.swift - max, average and Lp pooling, windowed and global ---===//
//
// Windows follow `WindowGeometry` (1-3 spatial axes, pads [begin..., end...], dilations,
// ceil_mode already in the result shape). max_pool's optional second result holds each
// maximum's flat index into the input: row-major over (n, c, spatial...), or with
// storage_order = 1 column-major over the spatial axes (as onnxruntime).

import SparrowIR

func evaluatePool(_ k: KernelArgs) throws -> [Tensor] {
  let x = k.inputs[0]
  guard let t = kernelFloatType(x.element) else { throw k.unsupported("element type \(x.element)") }
  let spatial = x.shape.count - 2
  guard (1...3).contains(spatial) else {
    throw k.unsupported("\(spatial) spatial axes (1 to 3 are supported)")
  }
  switch k.kind {
  case .global_average_pool, .global_max_pool, .global_lp_pool:
    return [x.element == .f32 ? globalPool(k, Float.self) : globalPool(k, t)]
  case .max_pool, .average_pool, .lp_pool:
    // f32 named statically so the loops are specialized for it.
    return try x.element == .f32 ? windowPool(k, Float.self) : windowPool(k, t)
  default: preconditionFailure("\(k.kind) is not a pooling op")
  }
}

private func globalPool<T: KernelFloat>(_ k: KernelArgs, _: T.Type) -> Tensor {
  let x = k.inputs[0]
  let planes = x.shape[0] * x.shape[1]
  let size = x.shape[2...].reduce(1, *)
  let p = k.kind == .global_lp_pool ? T(k.attributes.int("p")) : 0
  return Tensor.make(k.type(), of: T.self) { y in
    x.withPointer(of: T.self) { px in
      for i in 0..<planes {
        let v = px + i * size
        switch k.kind {
        case .global_max_pool:
          var m = -T.infinity
          for j in 0..<size where v[j] > m || v[j].isNaN { m = v[j] }
          y[i] = m
        case .global_average_pool:
          var s = T.zero
          for j in 0..<size { s += v[j] }
          y[i] = s / T(size)
        default:
          var s = T.zero
          for j in 0..<size { s += T.pow(Swift.abs(v[j]), p) }
          y[i] = T.pow(s, 1 / p)
        }
      }
    }
  }
}

private enum WindowReduction { case max, average(includePad: Bool), lp(Int) }

private func windowPool<T: KernelFloat>(_ k: KernelArgs, _: T.Type) throws -> [Tensor] {
  let x = k.inputs[0]
  let out = k.type()
  let a = k.attributes
  let g = WindowGeometry(input: Array(x.shape[2...]), output: Array(out.shape[2...]),
                         kernel: a.ints("kernel"), strides: a.ints("strides"),
                         dilations: a.ints("dilations"), pads: a.ints("pads"))
  let reduction: WindowReduction
  switch k.kind {
  case .max_pool: reduction = .max
  case .average_pool: reduction = .average(includePad: a.bool("count_include_pad"))
  default:
    let p = a.int("p")
    guard p > 0 else { throw k.unsupported("p = \(p)") }
    reduction = .lp(p)
  }
  let storageOrder = k.kind == .max_pool ? a.int("storage_order") : 0
  guard storageOrder == 0 || storageOrder == 1 else { throw k.unsupported("storage_order \(storageOrder)") }
  let wantIndices = k.resultTypes.count == 2
  var indices = [Int64](repeating: 0, count: wantIndices ? out.count : 0)
  let planes = x.shape[0] * x.shape[1]
  let spatialRank = x.shape.count - 2
  // Flat spatial index of (d, h, w) in the normalized geometry, per storage order.
  let (sd, sh, sw): (Int, Int, Int) = {
    if storageOrder == 0 { return (g.input[1] * g.input[2], g.input[2], 1) }
    // Column-major over the real spatial axes: the first real axis varies fastest.
    switch spatialRank {
    case 1: return (0, 0, 1)
    case 2: return (0, 1, g.input[1])
    default: return (1, g.input[0], g.input[0] * g.input[1])
    }
  }()
  let y = Tensor.make(out, of: T.self) { py in
    x.withPointer(of: T.self) { px in
      var o = 0
      for plane in 0..<planes {
        let v = px + plane * g.inputSize
        for od in 0..<g.output[0] {
          for oh in 0..<g.output[1] {
            for ow in 0..<g.output[2] {
              var acc: T = 0
              var best = -T.infinity, bestIndex = -1
              var valid = 0
              for kd in 0..<g.kernel[0] {
                guard let id = g.inputIndex(axis: 0, output: od, kernel: kd) else { continue }
                for kh in 0..<g.kernel[1] {
                  guard let ih = g.inputIndex(axis: 1, output: oh, kernel: kh) else { continue }
                  for kw in 0..<g.kernel[2] {
                    let iw = ow * g.strides[2] - g.padBegin[2] + kw * g.dilations[2]
                    guard iw >= 0 && iw < g.input[2] else { continue }
                    let flat = (id * g.input[1] + ih) * g.input[2] + iw
                    let value = v[flat]
                    valid += 1
                    switch reduction {
                    case .max:
                      if value > best || bestIndex < 0 {
                        best = value
                        bestIndex = id * sd + ih * sh + iw * sw
                      }
                    case .average: acc += value
                    case let .lp(p): acc += T.pow(Swift.abs(value), T(p))
                    }
                  }
                }
              }
              switch reduction {
              case .max:
                py[o] = best
                if wantIndices { indices[o] = Int64(plane * g.inputSize + max(bestIndex, 0)) }
              case let .average(includePad):
                let count = includePad ? g.paddedWindowCount(od, oh, ow) : valid
                py[o] = count > 0 ? acc / T(count) : 0
              case let .lp(p): py[o] = T.pow(acc, 1 / T(p))
              }
              o += 1
            }
          }
        }
      }
    }
  }
  if !wantIndices { return [y] }
  return [y, Tensor(shape: out.shape, scalars: indices)]
}

extension WindowGeometry {
  /// Window positions inside the padded input (average_pool's count_include_pad divisor).
  func paddedWindowCount(_ od: Int, _ oh: Int, _ ow: Int) -> Int {
    var total = 1
    for (axis, o) in [od, oh, ow].enumerated() {
      let start = o * strides[axis] - padBegin[axis]
      var n = 0
      for k in 0..<kernel[axis] where start + k * dilations[axis] < input[axis] + padEnd[axis] { n += 1 }
      total *= n
    }
    return total
  }
}
