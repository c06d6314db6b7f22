//===--- Window.swift - strides, pads, dilations of conv and pooling ------===//
//
// Resolves ONNX sliding-window attributes to the IR's explicit form: kernel from the
// weight or `kernel_shape`, default strides/dilations of 1, pads [begin..., end...] with
// auto_pad SAME_UPPER / SAME_LOWER / VALID computed from the static input size.

import SparrowIR

struct Window {
  var kernel: [Int]
  var strides: [Int]
  var pads: [Int]
  var dilations: [Int]

  var attributes: [String: AttributeValue] {
    ["strides": .ints(strides), "pads": .ints(pads), "dilations": .ints(dilations)]
  }
}

/// The window of `n` over the spatial dims `input` (N and C dropped).
func resolveWindow(_ n: ONNXNode, input: [Int], kernel givenKernel: [Int]?) throws -> Window {
  let spatial = input.count
  guard let kernel = try givenKernel ?? n.ints("kernel_shape") else {
    throw n.error("\(n.opType) needs attribute kernel_shape")
  }
  guard kernel.count == spatial, kernel.allSatisfy({ $0 > 0 }) else {
    throw n.error("kernel shape \(kernel) does not fit \(spatial) spatial dims")
  }
  let strides = try n.ints("strides") ?? [Int](repeating: 1, count: spatial)
  let dilations = try n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
  guard strides.count == spatial, strides.allSatisfy({ $0 > 0 }) else { throw n.error("bad strides \(strides)") }
  guard dilations.count == spatial, dilations.allSatisfy({ $0 > 0 }) else { throw n.error("bad dilations \(dilations)") }
  let autoPad = try n.string("auto_pad", "NOTSET")
  var pads: [Int]
  switch autoPad {
  case "NOTSET", "":
    pads = try n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
    guard pads.count == 2 * spatial, pads.allSatisfy({ $0 >= 0 }) else { throw n.error("bad pads \(pads)") }
  case "VALID":
    pads = [Int](repeating: 0, count: 2 * spatial)
  case "SAME_UPPER", "SAME_LOWER":
    pads = [Int](repeating: 0, count: 2 * spatial)
    for i in 0..<spatial {
      let out = (input[i] + strides[i] - 1) / strides[i]
      let span = (kernel[i] - 1) * dilations[i] + 1
      let total = max(0, (out - 1) * strides[i] + span - input[i])
      let small = total / 2, large = total - small
      pads[i] = autoPad == "SAME_UPPER" ? small : large
      pads[spatial + i] = autoPad == "SAME_UPPER" ? large : small
    }
  default:
    throw n.error("unknown auto_pad '\(autoPad)'")
  }
  return Window(kernel: kernel, strides: strides, pads: pads, dilations: dilations)
}
