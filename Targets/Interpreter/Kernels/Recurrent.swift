//===--- Recurrent.swift - lstm, gru, rnn ---------------------------------===//
//
// Operands (normalized by the frontend): X, W, R, B, initial_h[, initial_c][, P] with B and
// the initial states always present. Layout 1 inputs are transposed to layout 0, run, and
// the results transposed back. Per direction, X * W^T for all steps is one GEMM; each
// step adds H * R^T (another GEMM) and applies the cell (ONNX gate orders: LSTM i o f c,
// GRU z r h). `clip` bounds the gate pre-activations. Cells compute in Double (one code
// path for f32 and f64; these layers are small next to the convolutions around them).

import SparrowIR

func evaluateRecurrent(_ k: KernelArgs) throws -> [Tensor] {
  guard let t = kernelFloatType(k.inputs[0].element),
        k.inputs.allSatisfy({ $0.element == k.inputs[0].element }) else {
    throw k.unsupported("element type \(k.inputs[0].element)")
  }
  return try recurrent(k, t)
}

/// An ONNX RNN activation with its alpha/beta.
private struct Activation {
  let apply: (Double) -> Double

  static let defaults: [OpKind: [String]] = [.lstm: ["Sigmoid", "Tanh", "Tanh"],
                                             .gru: ["Sigmoid", "Tanh"], .rnn: ["Tanh"]]

  /// Parses `names`, taking alpha/beta values in order for the functions that use them.
  static func parse(_ names: [String], alphas: [Float], betas: [Float], _ k: KernelArgs) throws -> [Activation] {
    var (ai, bi) = (0, 0)
    func alpha(_ d: Double) -> Double { defer { ai += 1 }; return ai < alphas.count ? Double(alphas[ai]) : d }
    func beta(_ d: Double) -> Double { defer { bi += 1 }; return bi < betas.count ? Double(betas[bi]) : d }
    return try names.map { name in
      switch name.lowercased() {
      case "sigmoid": return Activation { 1 / (1 + Double.exp(-$0)) }
      case "tanh": return Activation { Double.tanh($0) }
      case "relu": return Activation { max($0, 0) }
      case "affine": let (a, b) = (alpha(1), beta(0)); return Activation { a * $0 + b }
      case "leakyrelu": let a = alpha(0.01); return Activation { $0 >= 0 ? $0 : a * $0 }
      case "thresholdedrelu": let a = alpha(1); return Activation { $0 > a ? $0 : 0 }
      case "scaledtanh": let (a, b) = (alpha(1), beta(1)); return Activation { a * Double.tanh(b * $0) }
      case "hardsigmoid":
        let (a, b) = (alpha(0.2), beta(0.5))
        return Activation { min(max(a * $0 + b, 0), 1) }
      case "elu": let a = alpha(1); return Activation { $0 >= 0 ? $0 : a * (Double.exp($0) - 1) }
      case "softsign": return Activation { $0 / (1 + Swift.abs($0)) }
      case "softplus": return Activation { $0 > 30 ? $0 : Double.logOnePlus(Double.exp($0)) }
      default: throw k.unsupported("activation '\(name)'")
      }
    }
  }
}

/// C[m x n] = A[m x k] * B[n x k]^T over Double arrays.
private func productTransposed(_ a: [Double], _ b: ArraySlice<Double>, m: Int, n: Int, k: Int) -> [Double] {
  var c = [Double](repeating: 0, count: m * n)
  let b = Array(b)
  if m * n * k == 0 { return c }
  a.withUnsafeBufferPointer { pa in
    b.withUnsafeBufferPointer { pb in
      c.withUnsafeMutableBufferPointer { pc in
        naiveGemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!,
                  lda: k, b: pb.baseAddress!, ldb: k, beta: 0, c: pc.baseAddress!, ldc: n)
      }
    }
  }
  return c
}

/// Swaps the first two axes of a rank-3 tensor (layout 1 <-> layout 0).
private func transposed01(_ t: some TensorBytes) -> Tensor {
  let s = t.shape
  let st = contiguousStrides(s)
  let type = t.type.with(shape: [s[1], s[0], s[2]])
  return copyStrided(t, StridedView(shape: type.shape, strides: [st[1], st[0], st[2]]), as: type).tensor
}

private func recurrent<T: KernelFloat>(_ k: KernelArgs, _: T.Type) throws -> [Tensor] {
  let a = k.attributes
  let layout = a.int("layout")
  guard layout == 0 || layout == 1 else { throw k.unsupported("layout \(layout)") }
  let direction = a.string("direction")
  guard ["forward", "reverse", "bidirectional"].contains(direction) else {
    throw k.unsupported("direction '\(direction)'")
  }
  let dirs = direction == "bidirectional" ? 2 : 1
  let hidden = a.int("hidden_size")
  let gates = k.kind == .lstm ? 4 : k.kind == .gru ? 3 : 1
  let perDirection = Activation.defaults[k.kind]!.count
  var names = a.strings("activations")
  if names.isEmpty { names = Array([[String]](repeating: Activation.defaults[k.kind]!, count: dirs).joined()) }
  if names.count == perDirection && dirs == 2 { names += names }
  guard names.count == perDirection * dirs else {
    throw Diagnostic("'\(k.kind.rawValue)' needs \(perDirection * dirs) activations, got \(names.count)")
  }
  let activations = try Activation.parse(names, alphas: optionalFloats(a, "activation_alpha"),
                                         betas: optionalFloats(a, "activation_beta"), k)
  let clip = Double(a.float("clip"))
  let clamp: (Double) -> Double = clip > 0 ? { min(max($0, -clip), clip) } : { $0 }
  let inputForget = k.kind == .lstm && a.bool("input_forget")
  let linearBeforeReset = k.kind == .gru && a.bool("linear_before_reset")

  // Everything runs in layout 0: X [seq, batch, input], states [dirs, batch, hidden].
  let layout0 = { (t: TensorRef) -> [Double] in layout == 0 ? t.doubles : transposed01(t).doubles }
  let x = layout0(k.inputs[0])
  let (seq, batch) = layout == 0 ? (k.inputs[0].shape[0], k.inputs[0].shape[1])
                                 : (k.inputs[0].shape[1], k.inputs[0].shape[0])
  let inputSize = k.inputs[0].shape[2]
  let w = k.inputs[1].doubles, r = k.inputs[2].doubles, bias = k.inputs[3].doubles
  let h0 = layout0(k.inputs[4])
  let c0 = k.kind == .lstm ? layout0(k.inputs[5]) : []
  let peep = k.kind == .lstm && k.inputs.count == 7 ? k.inputs[6].doubles : []
  guard bias.count == dirs * 2 * gates * hidden, peep.isEmpty || peep.count == dirs * 3 * hidden,
        h0.count == dirs * batch * hidden, c0.isEmpty || c0.count == dirs * batch * hidden else {
    throw Diagnostic("'\(k.kind.rawValue)' B, P or an initial state does not match \(dirs) directions of hidden size \(hidden)")
  }
  let g = gates * hidden
  let state = batch * hidden
  var y = [Double](repeating: 0, count: seq * dirs * state)
  var yh = [Double](repeating: 0, count: dirs * state)
  var yc = yh

  for d in 0..<dirs {
    let reverse = direction == "reverse" || d == 1
    let act = Array(activations[(d * perDirection)..<((d + 1) * perDirection)])
    let rd = r[(d * g * hidden)..<((d + 1) * g * hidden)]
    let wb = Array(bias[(d * 2 * g)..<(d * 2 * g + g)])
    let rb = Array(bias[(d * 2 * g + g)..<((d + 1) * 2 * g)])
    let xw = productTransposed(x, w[(d * g * inputSize)..<((d + 1) * g * inputSize)],
                               m: seq * batch, n: g, k: inputSize)
    var h = Array(h0[(d * state)..<((d + 1) * state)])
    var c = k.kind == .lstm ? Array(c0[(d * state)..<((d + 1) * state)]) : []
    for step in 0..<seq {
      let t = reverse ? seq - 1 - step : step
      let hr = productTransposed(h, rd, m: batch, n: g, k: hidden)
      // Pre-activation of `gate` for (batch b, unit j): input part and recurrent part.
      func input(_ gate: Int, _ b: Int, _ j: Int) -> Double { xw[(t * batch + b) * g + gate * hidden + j] + wb[gate * hidden + j] }
      func recurrent(_ gate: Int, _ b: Int, _ j: Int) -> Double { hr[b * g + gate * hidden + j] + rb[gate * hidden + j] }
      switch k.kind {
      case .rnn:
        for b in 0..<batch { for j in 0..<hidden { h[b * hidden + j] = act[0].apply(clamp(input(0, b, j) + recurrent(0, b, j))) } }
      case .gru:
        var z = [Double](repeating: 0, count: state), rg = z
        for b in 0..<batch {
          for j in 0..<hidden {
            z[b * hidden + j] = act[0].apply(clamp(input(0, b, j) + recurrent(0, b, j)))
            rg[b * hidden + j] = act[0].apply(clamp(input(1, b, j) + recurrent(1, b, j)))
          }
        }
        // Without linear_before_reset the candidate uses (r * H) * Rh^T.
        let resetProduct = linearBeforeReset ? [] : productTransposed(
          zip(rg, h).map { $0 * $1 }, rd[(rd.startIndex + 2 * hidden * hidden)...], m: batch, n: hidden, k: hidden)
        for b in 0..<batch {
          for j in 0..<hidden {
            let s = b * hidden + j
            let rec = linearBeforeReset ? rg[s] * recurrent(2, b, j) : resetProduct[s] + rb[2 * hidden + j]
            let candidate = act[1].apply(clamp(input(2, b, j) + rec))
            h[s] = (1 - z[s]) * candidate + z[s] * h[s]
          }
        }
      default:
        for b in 0..<batch {
          for j in 0..<hidden {
            let s = b * hidden + j
            let p = { (gate: Int) in peep.isEmpty ? 0 : peep[(d * 3 + gate) * hidden + j] }
            let pre = { (gate: Int) in input(gate, b, j) + recurrent(gate, b, j) }
            // input_forget couples the gates as onnxruntime does: f = 1 - i.
            let inGate = act[0].apply(clamp(pre(0) + p(0) * c[s]))
            let forget = inputForget ? 1 - inGate : act[0].apply(clamp(pre(2) + p(2) * c[s]))
            let cell = act[1].apply(clamp(pre(3)))
            c[s] = forget * c[s] + inGate * cell
            let out = act[0].apply(clamp(pre(1) + p(1) * c[s]))
            h[s] = out * act[2].apply(c[s])
          }
        }
      }
      for s in 0..<state { y[(t * dirs + d) * state + s] = h[s] }
    }
    for s in 0..<state {
      yh[d * state + s] = h[s]
      if k.kind == .lstm { yc[d * state + s] = c[s] }
    }
  }

  // Back to the requested layout and element type.
  func tensor(_ values: [Double], _ type: TensorType, layout0Shape: [Int]) -> Tensor {
    let t = Tensor.computed(type.with(shape: layout0Shape), of: T.self) { p in
      for (i, v) in values.enumerated() { p[i] = T(v) }
    }
    if layout == 0 { return t }
    if layout0Shape.count == 3 { return transposed01(t) }
    // Y: [seq, dirs, batch, h] -> [batch, seq, dirs, h].
    let s = contiguousStrides(layout0Shape)
    return copyStrided(t, StridedView(shape: type.shape, strides: [s[2], s[0], s[1], s[3]]), as: type).tensor
  }
  let e = k.inputs[0].element
  let yType = TensorType(e, layout == 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden])
  let stateType = TensorType(e, layout == 0 ? [dirs, batch, hidden] : [batch, dirs, hidden])
  var results = [tensor(y, yType, layout0Shape: [seq, dirs, batch, hidden]),
                 tensor(yh, stateType, layout0Shape: [dirs, batch, hidden])]
  if k.kind == .lstm { results.append(tensor(yc, stateType, layout0Shape: [dirs, batch, hidden])) }
  results = Array(results.prefix(k.resultTypes.count))
  return results
}

private func optionalFloats(_ a: Attributes, _ name: String) -> [Float] {
  a.has(name) ? a.floats(name) : []
}
