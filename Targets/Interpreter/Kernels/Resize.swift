//===--- Resize.swift - nearest, linear and cubic resize over any axes ---===//
//
// The per-axis taps come from Targets/Support/ResizeTaps.swift. Nearest picks one tap per
// axis and moves bytes (any element type); linear and cubic apply the taps axis by axis
// in Double (f32/f64). With tf_crop_and_resize an output whose source coordinate falls
// outside the input on any axis is `extrapolation_value`.

import SparrowIR
import SparrowTargetSupport

func evaluateResize(_ k: KernelArgs) throws -> [Tensor] {
  let x = k.inputs[0], out = k.type()
  let a = k.attributes
  let mode = a.string("mode")
  guard out.count == 0 || x.count > 0 else { throw k.unsupported("resizing an empty tensor \(x.type)") }
  let axes = try resizeAxes(a, input: x.shape, output: out.shape)
  let transform = a.string("coordinate_transformation_mode")
  let outside = axes.map(\.outside)
  let extrapolation = Double(a.float("extrapolation_value"))
  if mode == "nearest" {
    let maps = axes.map { $0.taps.map { $0[0].index } }
    var y = gatherAxes(x, maps: maps, fill: [], as: out)
    if transform == "tf_crop_and_resize" { fillOutside(&y, outside, with: extrapolation) }
    return [y]
  }
  guard let t = kernelFloatType(x.element) else { throw k.unsupported("\(mode) resize of \(x.element)") }
  // f32 named statically so the loops are specialized for it.
  var y = x.element == .f32 ? interpolate(x, axes, as: out, Float.self) : interpolate(x, axes, as: out, t)
  if transform == "tf_crop_and_resize" { fillOutside(&y, outside, with: extrapolation) }
  return [y]
}

/// Applies the taps axis by axis (skipping identity axes).
private func interpolate<T: KernelFloat>(_ x: some TensorBytes, _ axes: [ResizeAxis], as out: TensorType,
                                         _: T.Type) -> Tensor {
  var shape = x.shape
  var values = x.withUnsafeBuffer(of: T.self) { $0.map { Double($0) } }
  for (axis, resize) in axes.enumerated() where !resize.identity {
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    let (n, m) = (shape[axis], resize.taps.count)
    // Taps flattened: output j reads (index, weight) pairs starts[j]..<starts[j + 1].
    var indices: [Int] = [], weights: [Double] = [], starts = [0]
    for row in resize.taps {
      for (index, weight) in row where weight != 0 { indices.append(index); weights.append(weight) }
      starts.append(indices.count)
    }
    var next = [Double](repeating: 0, count: outer * m * inner)
    values.withUnsafeBufferPointer { src in
      next.withUnsafeMutableBufferPointer { dst in
        for o in 0..<outer {
          for j in 0..<m {
            let d = dst.baseAddress! + (o * m + j) * inner
            for t in starts[j]..<starts[j + 1] {
              let s = src.baseAddress! + (o * n + indices[t]) * inner
              let w = weights[t]
              for i in 0..<inner { d[i] += w * s[i] }
            }
          }
        }
      }
    }
    values = next
    shape[axis] = m
  }
  return Tensor.computed(out, of: T.self) { y in
    values.withUnsafeBufferPointer { v in
      for i in 0..<v.count { y[i] = T(v[i]) }
    }
  }
}

/// Sets elements whose index is outside on any axis to `value`.
private func fillOutside(_ y: inout Tensor, _ outside: [Set<Int>], with value: Double) {
  if outside.allSatisfy(\.isEmpty) { return }
  let bytes = elementBytes(value, as: y.element)
  let es = bytes.count
  let strides = contiguousStrides(y.shape)
  for flat in 0..<y.count {
    var rest = flat
    var out = false
    for (axis, s) in strides.enumerated() {
      if outside[axis].contains(rest / s) { out = true; break }
      rest %= s
    }
    if out { y.bytes.replaceSubrange((flat * es)..<((flat + 1) * es), with: bytes) }
  }
}
