//===--- Quantize.swift - quantize_linear / dequantize_linear -------------===//
//
//   quantize:   y = saturate(round_half_even(x / scale) + zero_point)   (type of zero_point)
//   dequantize: y = (x - zero_point) * scale                            (type of scale)
//
// Scales (and zero points, same shape) are per tensor (one element), per axis (a vector
// along `axis`) or blocked (`block_size` > 0: same rank as x, ceil(d / block_size)
// along `axis`). Integer results always saturate; `saturate` only matters for float8,
// which is not an element type here. x / scale is computed in f32 as onnxruntime does.

import SparrowIR

func evaluateQuantize(_ k: KernelArgs) throws -> [Tensor] {
  try computingInFloat(k) { k in
    var x = k.inputs[0]
    let output = k.kind == .quantize_linear ? k.inputs[2].element : x.element
    guard k.inputs[1].element == .f32 else { throw k.unsupported("\(k.inputs[1].element) scales") }
    if k.kind == .quantize_linear && x.element == .i32 { x = castTensor(x, to: x.type.with(element: .f32)).ref }
    guard k.kind == .dequantize_linear || x.element == .f32 else { throw k.unsupported("\(x.element) input") }
    guard k.kind == .quantize_linear || k.inputs[2].element == x.element else {
      throw k.unsupported("a \(k.inputs[2].element) zero point for \(x.element) input")
    }
    let layout = try ScaleLayout(k, x: x.shape, scale: k.inputs[1].shape)
    guard let t = try withIntegerType(output, QuantizeKernel(k: k, x: x, layout: layout)) else {
      throw k.unsupported("\(output)")
    }
    return [t]
  }
}

/// Maps an element index of x to the index of its scale and zero point.
struct ScaleLayout {
  let inner: Int
  let axisSize: Int
  let blockSize: Int
  let perTensor: Bool
  let blocked: Bool

  init(_ k: KernelArgs, x: [Int], scale: [Int]) throws {
    let count = scale.reduce(1, *)
    let block = k.attributes.int("block_size")
    let axis = k.attributes.int("axis")
    perTensor = count == 1 && block == 0
    guard perTensor || (axis >= 0 && axis < x.count) else {
      throw Diagnostic("'\(k.kind.rawValue)' axis \(axis) out of range for \(x)")
    }
    axisSize = perTensor ? 1 : x[axis]
    inner = perTensor ? 1 : x[(axis + 1)...].reduce(1, *)
    blockSize = max(block, 1)
    blocked = !perTensor && block > 0
    if perTensor { return }
    if block > 0 {
      var want = x
      want[axis] = (x[axis] + block - 1) / block
      guard scale == want else {
        throw Diagnostic("'\(k.kind.rawValue)' blocked scale \(scale) must be \(want) for input \(x) and block_size \(block)")
      }
    } else {
      guard scale == [x[axis]] else {
        throw Diagnostic("'\(k.kind.rawValue)' scale \(scale) must have one element or \(x[axis]) (axis \(axis) of \(x))")
      }
    }
  }

  /// Number of scales along the axis.
  var blocks: Int { (axisSize + blockSize - 1) / blockSize }

  /// Calls `body(start, count, scaleIndex)` for each run of x elements sharing a scale.
  @inline(__always)
  func forEachRun(count: Int, _ body: (Int, Int, Int) -> Void) {
    if perTensor { body(0, count, 0); return }
    let outer = axisSize * inner == 0 ? 0 : count / (axisSize * inner)
    for o in 0..<outer {
      for a in 0..<axisSize {
        let start = (o * axisSize + a) * inner
        if blocked {
          // Scales [outer, blocks, inner]: one run per element.
          for i in 0..<inner { body(start + i, 1, (o * blocks + a / blockSize) * inner + i) }
        } else {
          body(start, inner, a)
        }
      }
    }
  }
}

private struct QuantizeKernel: IntegerKernel {
  let k: KernelArgs
  let x: TensorRef
  let layout: ScaleLayout

  func run<T: KernelInteger>(_: T.Type) throws -> Tensor {
    let scales = k.inputs[1].array(of: Float.self)
    let zeros = k.inputs[2].array(of: T.self)
    guard zeros.count == scales.count else {
      throw Diagnostic("'\(k.kind.rawValue)' zero point has \(zeros.count) elements, scale \(scales.count)")
    }
    if k.kind == .quantize_linear {
      let (lo, hi) = (Double(T.min), Double(T.max))
      return x.withElements(Float.self) { p in
        makeTensor(k.type(), of: T.self) { y in
          layout.forEachRun(count: x.count) { start, n, s in
            let (scale, zero) = (scales[s], Double(zeros[s]))
            for i in start..<start + n {
              let q = Double((p[i] / scale).rounded(.toNearestOrEven)) + zero
              y[i] = T.truncating(Swift.min(Swift.max(q, lo), hi))
            }
          }
        }
      }
    }
    return x.withElements(T.self) { p in
      makeTensor(k.type(), of: Float.self) { y in
        layout.forEachRun(count: x.count) { start, n, s in
          let (scale, zero) = (scales[s], Int64(zeros[s]))
          for i in start..<start + n { y[i] = Float(Int64(p[i]) - zero) * scale }
        }
      }
    }
  }
}
