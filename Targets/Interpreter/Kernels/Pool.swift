//===--- Pool.swift - max, average and Lp pooling, windowed and global ---===//
//
// Windows follow `WindowGeometry` (1-3 spatial axes, pads [begin..., end...], dilations,
// ceil_mode already in the result shape). max_pool's optional second result holds each
// maximum's flat index into the input: row-major over (n, c, spatial...), or with
// storage_order = 1 column-major over the spatial axes (as onnxruntime). Integer max
// pooling runs in f64.

import SparrowIR

func evaluatePool(_ k: KernelArgs) throws -> [TensorRef] {
  let x = k.inputs[0]
  if x.element.isInteger && (k.kind == .max_pool || k.kind == .global_max_pool) {
    return try integerMaxPool(k.allocatingResults).map(\.ref)
  }
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

/// max_pool of an integer tensor: a maximum is one of the inputs, so it runs in f64, which
/// holds every integer up to 32 bits exactly (64-bit integers are not supported).
private func integerMaxPool(_ k: KernelArgs) throws -> [Tensor] {
  let x = k.inputs[0]
  guard x.element.byteSize <= 4 else { throw k.unsupported("element type \(x.element)") }
  let wide = KernelArgs(kind: k.kind, attributes: k.attributes,
                        inputs: [castTensor(x, to: x.type.with(element: .f64))],
                        resultTypes: [k.type().with(element: .f64)] + k.resultTypes.dropFirst())
  var outs = try evaluatePool(wide).map(\.tensor)
  outs[0] = castTensor(outs[0], to: k.type())
  return outs
}

private func globalPool<T: KernelFloat>(_ k: KernelArgs, _: T.Type) -> TensorRef {
  let x = k.inputs[0]
  let planes = x.shape[0] * x.shape[1]
  let size = x.shape[2...].reduce(1, *)
  let p = k.kind == .global_lp_pool ? T(k.attributes.int("p")) : 0
  return k.result(of: T.self, zeroed: true) { y in
    x.withElementPointer(of: T.self) { px in
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

private func windowPool<T: KernelFloat>(_ k: KernelArgs, _: T.Type) throws -> [TensorRef] {
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
  let (td, th, tw) = (g.windowTaps(axis: 0), g.windowTaps(axis: 1), g.windowTaps(axis: 2))
  let (rowH, rowW) = (g.input[1], g.input[2])
  let y = k.result(of: T.self, zeroed: true) { py in
    x.withElementPointer(of: T.self) { px in
    td.taps.withUnsafeBufferPointer { tdTaps in
    th.taps.withUnsafeBufferPointer { thTaps in
    tw.taps.withUnsafeBufferPointer { twTaps in
      var o = 0
      for plane in 0..<planes {
        let v = px + plane * g.inputSize
        for od in 0..<g.output[0] {
          let ds = td.range(od)
          for oh in 0..<g.output[1] {
            let hs = th.range(oh)
            for ow in 0..<g.output[2] {
              let ws = tw.range(ow)
              switch reduction {
              case .max where !wantIndices:
                // Branch-free maximum (the index-tracking loop below mispredicts on real data).
                var best = -T.infinity
                for i in ds {
                  for j in hs {
                    let row = v + (tdTaps[i] * rowH + thTaps[j]) * rowW
                    for l in ws { best = Swift.max(best, row[twTaps[l]]) }
                  }
                }
                py[o] = best
              case .max:
                var best = -T.infinity, bestIndex = -1
                for i in ds {
                  let id = tdTaps[i]
                  for j in hs {
                    let ih = thTaps[j]
                    let row = v + (id * rowH + ih) * rowW
                    for l in ws {
                      let iw = twTaps[l]
                      if row[iw] > best || bestIndex < 0 {
                        best = row[iw]
                        bestIndex = id * sd + ih * sh + iw * sw
                      }
                    }
                  }
                }
                py[o] = best
                if wantIndices { indices[o] = Int64(plane * g.inputSize + max(bestIndex, 0)) }
              case let .average(includePad):
                var acc: T = 0
                for i in ds {
                  for j in hs {
                    let row = v + (tdTaps[i] * rowH + thTaps[j]) * rowW
                    for l in ws { acc += row[twTaps[l]] }
                  }
                }
                let count = includePad ? g.paddedWindowCount(od, oh, ow) : ds.count * hs.count * ws.count
                py[o] = count > 0 ? acc / T(count) : 0
              case let .lp(p):
                var acc: T = 0
                for i in ds {
                  for j in hs {
                    let row = v + (tdTaps[i] * rowH + thTaps[j]) * rowW
                    for l in ws { acc += T.pow(Swift.abs(row[twTaps[l]]), T(p)) }
                  }
                }
                py[o] = T.pow(acc, 1 / T(p))
              }
              o += 1
            }
          }
        }
      }
    }
    }
    }
    }
  }
  if !wantIndices { return [y] }
  return [y, Tensor(shape: out.shape, scalars: indices).ref]
}

/// The input indices each output index's window reads along one axis (padding skipped),
/// flattened: output `o` reads `taps[starts[o]..<starts[o + 1]]`.
private struct WindowTaps {
  var taps: [Int] = []
  var starts: [Int] = [0]
  func range(_ o: Int) -> Range<Int> { starts[o]..<starts[o + 1] }
}

extension WindowGeometry {
  fileprivate func windowTaps(axis: Int) -> WindowTaps {
    var t = WindowTaps()
    for o in 0..<output[axis] {
      for k in 0..<kernel[axis] {
        if let i = inputIndex(axis: axis, output: o, kernel: k) { t.taps.append(i) }
      }
      t.starts.append(t.taps.count)
    }
    return t
  }

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
