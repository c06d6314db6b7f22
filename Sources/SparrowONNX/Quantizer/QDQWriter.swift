//===--- QDQWriter.swift - a QDQ ModelProto from the float one and a plan ------===//
//
//   W (f32 initializer)                      W_quantized (int8), W_scale [C], W_zero_point [C]
//   c = Conv(x, W, B)                        W_DequantizeLinear: DequantizeLinear(..., axis 0)
//                                      =>    x_QuantizeLinear / x_DequantizeLinear (u8 scalars)
//                                            c = Conv(x_DequantizeLinear_Output,
//                                                     W_DequantizeLinear_Output, B_DequantizeLinear_Output)
//                                            c_QuantizeLinear / c_DequantizeLinear, users read the latter
//
// Names follow onnxruntime's quantizer (`T_QuantizeLinear`, `T_DequantizeLinear_Output`,
// `T_scale`, `T_zero_point`, `W_quantized`), made unique against every name in the graph.
// Original nodes keep their names. A quantized graph output keeps its name on the
// DequantizeLinear's output (its producer writes `T_QuantizeLinear_Input`). Float
// initializers that no node reads any more are dropped (and their graph inputs, for
// models that list initializers as inputs); kept ones stored as external data are inlined.
// Per-axis DequantizeLinear needs opset 13.

import Foundation
import SparrowIR

struct QDQWriter {
  let plan: QDQPlan
  /// Scale and zero point of every planned activation.
  let parameters: [String: ActivationQuantization]
  let root: ExternalDataRoot
  let file: String

  private var used: Set<String> = []
  private var nodes: [Onnx_NodeProto] = []
  private var initializers: [Onnx_TensorProto] = []
  /// Quantized weights and biases already written: float initializer -> DQ output.
  private var dequantizedConstants: [String: String] = [:]
  private var weightScales: [String: [Float]] = [:]

  init(plan: QDQPlan, parameters: [String: ActivationQuantization], root: ExternalDataRoot, file: String) {
    self.plan = plan
    self.parameters = parameters
    self.root = root
    self.file = file
  }

  mutating func write(_ model: Onnx_ModelProto) throws -> Onnx_ModelProto {
    let graph = model.graph
    guard let opset = model.opsetImport.last(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" })?.version,
          opset >= 13 else {
      throw Diagnostic("quantize writes per-channel DequantizeLinear, which needs opset 13 or newer; convert the model first (onnx.version_converter.convert_version(model, 13))", at: file)
    }
    for n in graph.node { used.insert(n.name); used.formUnion(n.input); used.formUnion(n.output) }
    used.formUnion(graph.initializer.map(\.name))
    used.formUnion(graph.input.map(\.name))
    used.formUnion(graph.output.map(\.name))
    let graphOutputs = Set(graph.output.map(\.name))
    let floatInitializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let integerNodes = Dictionary(plan.integerNodes.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })

    // Where producers write and users read each quantized tensor.
    var written: [String: String] = [:], read: [String: String] = [:]
    for t in plan.activations {
      if graphOutputs.contains(t) {
        written[t] = unique("\(t)_QuantizeLinear_Input")
        read[t] = t
      } else {
        written[t] = t
        read[t] = unique("\(t)_DequantizeLinear_Output")
      }
    }
    for input in graph.input where plan.isQuantized(input.name) {
      try emitPair(for: input.name, written: written[input.name]!, read: read[input.name]!)
    }
    for i in plan.order where !plan.removedNodes.contains(i) {
      var n = graph.node[i]
      var replaced: [Int: String] = [:]
      if let q = integerNodes[i] {
        guard let w = floatInitializers[q.weight] else { continue }
        replaced[1] = try dequantizedWeight(w, axis: q.axis)
        if let b = q.bias, let bias = floatInitializers[b] {
          let inputScale = parameters[n.input[0]]!.scale
          replaced[2] = try dequantizedBias(bias, inputScale: inputScale, weight: q.weight, axis: q.axis)
        }
      }
      n.input = n.input.enumerated().map { j, name in replaced[j] ?? read[name] ?? name }
      let outputs = n.output.map { plan.renamedOutputs[$0] ?? $0 }
      n.output = outputs.map { written[$0] ?? $0 }
      nodes.append(n)
      for o in outputs where plan.isQuantized(o) {
        try emitPair(for: o, written: written[o]!, read: read[o]!)
      }
    }

    var result = model
    var g = graph
    g.node = nodes
    let reads = Set(nodes.flatMap(\.input)).union(graphOutputs)
    // Kept initializers stored as external data are inlined: the output may be written
    // to another folder than the model's.
    let kept = try graph.initializer.filter { reads.contains($0.name) }.map { t in
      guard t.dataLocation == .external else { return t }
      var inline = t
      inline.dataLocation = .default
      inline.externalData = []
      inline.rawData = Data(try tensor(t).bytes)
      return inline
    }
    let dropped = Set(graph.initializer.map(\.name)).subtracting(kept.map(\.name))
    g.initializer = kept + initializers
    g.input = graph.input.filter { !dropped.contains($0.name) }
    let defined = Set(nodes.flatMap(\.output))
    g.valueInfo = graph.valueInfo.filter { defined.contains($0.name) }
    result.graph = g
    return result
  }

  /// QuantizeLinear + DequantizeLinear for activation `t` (uint8, per tensor).
  private mutating func emitPair(for t: String, written: String, read: String) throws {
    guard let p = parameters[t] else { throw Diagnostic("internal: no calibrated range for '\(t)'", at: file) }
    let scale = unique("\(t)_scale"), zero = unique("\(t)_zero_point")
    initializers.append(tensorProto(scale, dataType: 1, dims: [], bytes: [p.scale]))
    initializers.append(tensorProto(zero, dataType: 2, dims: [], bytes: [p.zeroPoint]))
    let quantized = unique("\(t)_QuantizeLinear_Output")
    nodes.append(node("QuantizeLinear", name: unique("\(t)_QuantizeLinear"), [written, scale, zero], quantized))
    nodes.append(node("DequantizeLinear", name: unique("\(t)_DequantizeLinear"), [quantized, scale, zero], read))
  }

  /// The int8 per-channel weight and its DequantizeLinear; returns the DQ's output.
  private mutating func dequantizedWeight(_ w: Onnx_TensorProto, axis: Int) throws -> String {
    let key = "\(w.name)\u{0}\(axis)"
    if let done = dequantizedConstants[key] { return done }
    let values = try tensor(w)
    let q = WeightQuantization(weights: values.array(of: Float.self), shape: values.shape, axis: axis)
    weightScales[key] = q.scales
    let output = emitConstant(named: w.name, dataType: 3, dims: w.dims, bytes: q.values,
                                  scales: q.scales, zeroPoints: [Int8](repeating: 0, count: q.scales.count), axis: axis)
    dequantizedConstants[key] = output
    return output
  }

  /// The int32 bias (scale sx * sw[c]) and its DequantizeLinear; returns the DQ's output.
  private mutating func dequantizedBias(_ b: Onnx_TensorProto, inputScale: Float, weight: String, axis: Int) throws -> String {
    let key = "\(b.name)\u{0}\(inputScale)\u{0}\(weight)\u{0}\(axis)"
    if let done = dequantizedConstants[key] { return done }
    let (values, scales) = quantizeBias(try tensor(b).array(of: Float.self), inputScale: inputScale,
                                        weightScales: weightScales["\(weight)\u{0}\(axis)"]!)
    let output = emitConstant(named: b.name, dataType: 6, dims: b.dims, bytes: values,
                                  scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count), axis: 0)
    dequantizedConstants[key] = output
    return output
  }

  private mutating func emitConstant<T>(named base: String, dataType: Int32, dims: [Int64],
                                        bytes: [T], scales: [Float], zeroPoints: [T], axis: Int) -> String {
    let q = unique("\(base)_quantized"), scale = unique("\(base)_scale"), zero = unique("\(base)_zero_point")
    initializers.append(tensorProto(q, dataType: dataType, dims: dims, bytes: bytes))
    initializers.append(tensorProto(scale, dataType: 1, dims: [Int64(scales.count)], bytes: scales))
    initializers.append(tensorProto(zero, dataType: dataType, dims: [Int64(zeroPoints.count)], bytes: zeroPoints))
    let output = unique("\(base)_DequantizeLinear_Output")
    var dq = node("DequantizeLinear", name: unique("\(base)_DequantizeLinear"), [q, scale, zero], output)
    var a = Onnx_AttributeProto()
    a.name = "axis"
    a.type = .int
    a.i = Int64(axis)
    dq.attribute = [a]
    nodes.append(dq)
    return output
  }

  /// The initializer's values (external data read relative to the model's folder).
  private func tensor(_ p: Onnx_TensorProto) throws -> Tensor {
    do {
      return try makeTensor(p, root: root, what: "initializer '\(p.name)'")
    } catch let d as Diagnostic {
      throw d.located(file)
    }
  }

  /// `base`, or `base_2`, `base_3` ... when taken; marks the result taken.
  private mutating func unique(_ base: String) -> String {
    var name = base, k = 2
    while used.contains(name) { name = "\(base)_\(k)"; k += 1 }
    used.insert(name)
    return name
  }
}

private func node(_ opType: String, name: String, _ inputs: [String], _ output: String) -> Onnx_NodeProto {
  var n = Onnx_NodeProto()
  n.opType = opType
  n.name = name
  n.input = inputs
  n.output = [output]
  return n
}

private func tensorProto<T>(_ name: String, dataType: Int32, dims: [Int64], bytes values: [T]) -> Onnx_TensorProto {
  var t = Onnx_TensorProto()
  t.name = name
  t.dataType = dataType
  t.dims = dims
  t.rawData = values.withUnsafeBytes { Data($0) }
  return t
}
