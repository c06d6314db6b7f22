//===--- Recurrent.swift - lstm, gru, rnn as scalar loops ---------------------===//
//
// Operands (normalized by the frontend): X, W, R, B, initial_h[, initial_c][, P]; results
// Y, Y_h (, Y_c). Per direction (reverse for d = 1 of bidirectional) and time step:
//
//   gates[b][g] = x_t[b] · W[g] + h[b] · R[g] + Wb[g] + Rb[g]        ONNX gate orders:
//   rnn:  h = f(gates)                                                LSTM i o f c
//   gru:  z, r = f(..); h~ = g(x·Wh + Wbh + r * (h·Rh + Rbh))  (linear_before_reset)
//                           g(x·Wh + Wbh + (r*h)·Rh + Rbh)     (otherwise);  h = (1-z) h~ + z h
//   lstm: i = f(.. + Pi c), f = f(.. + Pf c) (or 1 - i with input_forget), c = f c + i g(..),
//         o = f(.. + Po c), h = o h(c)
//
// `clip` bounds every pre-activation. Layout 1 ([batch, seq, ...]) is handled by the
// offsets, not by transposes. The state and gates live in the kernel's scratch. These
// layers are small next to the convolutions around them: plain loops, f32 throughout
// (the interpreter computes in Double; they agree within the conformance tolerance).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerRecurrent() throws -> OpKernel {
    let a = attributes
    let kind = op.kind
    let layout = a.int("layout")
    let direction = a.string("direction")
    guard layout == 0 || layout == 1 else { throw unsupported("layout \(layout)") }
    guard ["forward", "reverse", "bidirectional"].contains(direction) else {
      throw unsupported("direction '\(direction)'")
    }
    let dirs = direction == "bidirectional" ? 2 : 1
    let hidden = a.int("hidden_size")
    let gates = kind == .lstm ? 4 : kind == .gru ? 3 : 1
    let x = shape(operand: 0)
    let (seq, batch, inputSize) = layout == 0 ? (x[0], x[1], x[2]) : (x[1], x[0], x[2])
    let defaults: [String] = kind == .lstm ? ["Sigmoid", "Tanh", "Tanh"] : kind == .gru ? ["Sigmoid", "Tanh"] : ["Tanh"]
    var names = a.strings("activations")
    if names.isEmpty { names = Array(Array(repeating: defaults, count: dirs).joined()) }
    if names.count == defaults.count && dirs == 2 { names += names }
    guard names.count == defaults.count * dirs else {
      throw unsupported("\(names.count) activations (\(defaults.count * dirs) needed)")
    }
    let alphas = a.has("activation_alpha") ? a.floats("activation_alpha") : []
    let betas = a.has("activation_beta") ? a.floats("activation_beta") : []
    let activations = try recurrentActivations(names, alphas: alphas, betas: betas)
    let clip = a.float("clip")
    let inputForget = kind == .lstm && a.bool("input_forget")
    let linearBeforeReset = kind == .gru && a.bool("linear_before_reset")
    let hasPeepholes = kind == .lstm && op.operands.count == 7
    let g = gates * hidden, state = batch * hidden

    // Offsets of X[t][b][i], Y[t][d][b][j] and the states [d][b][j] in either layout.
    func xOffset(_ t: Value, _ b: Int) -> Value {
      layout == 0 ? cg.mul(cg.add(cg.mul(t, batch), b), inputSize) : cg.mul(cg.add(cg.int(b * seq), t), inputSize)
    }
    func yOffset(_ t: Value, _ d: Int, _ b: Int) -> Value {
      layout == 0 ? cg.mul(cg.add(cg.mul(t, dirs * batch), d * batch + b), hidden)
                  : cg.mul(cg.add(cg.mul(cg.add(cg.int(b * seq), t), dirs), d), hidden)
    }
    func stateOffset(_ d: Int, _ b: Int) -> Int { (layout == 0 ? d * batch + b : b * dirs + d) * hidden }

    let f = defineKernel { results, operands, scratch in
      let (xs, w, r, bias, h0) = (operands[0], operands[1], operands[2], operands[3], operands[4])
      let h = scratch, c = cg.at(scratch, state), pre = cg.at(scratch, 2 * state)
      let rec = cg.at(scratch, 2 * state + batch * g)
      func clipped(_ v: Value) -> Value { clip > 0 ? cg.fmin(cg.fmax(v, cg.float(-clip)), cg.float(clip)) : v }
      /// Σ_k row[k] * matrix[rowIndex][k] over `count` values.
      func dot(_ row: Value, _ matrix: Value, _ rowStart: Value, _ count: Int) -> Value {
        cg.forLoop(cg.int(0), cg.int(count), carrying: [cg.float(0)]) { k, acc in
          [cg.fma(cg.load(cg.at(row, k)), cg.load(cg.at(matrix, cg.add(rowStart, k))), acc[0])]
        }[0]
      }
      for d in 0..<dirs {
        let reverse = direction == "reverse" || d == 1
        let act = Array(activations[(d * defaults.count)..<((d + 1) * defaults.count)])
        let (wd, rd) = (cg.at(w, d * g * inputSize), cg.at(r, d * g * hidden))
        let (wb, rb) = (cg.at(bias, d * 2 * g), cg.at(bias, d * 2 * g + g))
        for b in 0..<batch {
          cg.forLoop(0, hidden) { j in
            cg.store(cg.load(cg.at(h0, cg.add(j, stateOffset(d, b)))), cg.at(h, cg.add(j, b * hidden)))
            let c0 = kind == .lstm ? cg.load(cg.at(operands[5], cg.add(j, stateOffset(d, b)))) : cg.float(0)
            cg.store(c0, cg.at(c, cg.add(j, b * hidden)))
          }
        }
        cg.forLoop(0, seq) { step in
          let t = reverse ? cg.sub(cg.int(seq - 1), step) : step
          for b in 0..<batch {
            let xRow = cg.at(xs, xOffset(t, b)), hRow = cg.at(h, b * hidden)
            // Pre-activations; for the GRU candidate only the input part (its recurrent part
            // needs r) and, with linear_before_reset, h·Rh + Rbh in `rec`.
            cg.forLoop(0, g) { k in
              let input = cg.fadd(dot(xRow, wd, cg.mul(k, inputSize), inputSize), cg.load(cg.at(wb, k)))
              let recurrent = cg.fadd(dot(hRow, rd, cg.mul(k, hidden), hidden), cg.load(cg.at(rb, k)))
              if kind == .gru {
                let isCandidate = cg.icmp(LLVMIntSGE, k, cg.int(2 * hidden))
                cg.store(cg.select(isCandidate, input, cg.fadd(input, recurrent)), cg.at(pre, cg.add(k, b * g)))
                cg.ifThen(isCandidate) {
                  cg.store(recurrent, cg.at(rec, cg.add(cg.sub(k, cg.int(2 * hidden)), b * hidden)))
                }
              } else {
                cg.store(cg.fadd(input, recurrent), cg.at(pre, cg.add(k, b * g)))
              }
            }
            if kind == .gru && !linearBeforeReset {
              // rec = (r * h) · Rh + Rbh, with r = f(gate 1); r*h staged in `pre`'s gate-1 slot
              // is not possible (needed below), so compute the product row by row.
              cg.forLoop(0, hidden) { j in
                let sum = cg.forLoop(cg.int(0), cg.int(hidden), carrying: [cg.float(0)]) { k, acc in
                  let rk = act[0](clipped(cg.load(cg.at(pre, cg.add(k, b * g + hidden)))))
                  let rh = cg.fmul(rk, cg.load(cg.at(hRow, k)))
                  let weight = cg.load(cg.at(rd, cg.add(cg.mul(cg.add(j, 2 * hidden), hidden), k)))
                  return [cg.fma(rh, weight, acc[0])]
                }[0]
                cg.store(cg.fadd(sum, cg.load(cg.at(rb, cg.add(j, 2 * hidden)))), cg.at(rec, cg.add(j, b * hidden)))
              }
            }
            cg.forLoop(0, hidden) { j in
              let s = cg.add(j, b * hidden)
              func gate(_ i: Int) -> Value { cg.load(cg.at(pre, cg.add(j, b * g + i * hidden))) }
              let hNew: Value
              switch kind {
              case .rnn:
                hNew = act[0](clipped(gate(0)))
              case .gru:
                let z = act[0](clipped(gate(0))), rg = act[0](clipped(gate(1)))
                let recurrent = cg.load(cg.at(rec, s))
                let candidate = act[1](clipped(cg.fadd(gate(2), linearBeforeReset ? cg.fmul(rg, recurrent) : recurrent)))
                let old = cg.load(cg.at(h, s))
                hNew = cg.fadd(cg.fmul(cg.fsub(cg.float(1), z), candidate), cg.fmul(z, old))
              default:
                let cOld = cg.load(cg.at(c, s))
                func peephole(_ i: Int, _ cell: Value) -> Value {
                  hasPeepholes ? cg.fmul(cg.load(cg.at(operands[6], cg.add(j, (d * 3 + i) * hidden))), cell) : cg.float(0)
                }
                let inGate = act[0](clipped(cg.fadd(gate(0), peephole(0, cOld))))
                let forget = inputForget ? cg.fsub(cg.float(1), inGate)
                                         : act[0](clipped(cg.fadd(gate(2), peephole(2, cOld))))
                let cNew = cg.fadd(cg.fmul(forget, cOld), cg.fmul(inGate, act[1](clipped(gate(3)))))
                cg.store(cNew, cg.at(c, s))
                let out = act[0](clipped(cg.fadd(gate(1), peephole(1, cNew))))
                hNew = cg.fmul(out, act[2](cNew))
              }
              cg.store(hNew, cg.at(h, s))
              cg.store(hNew, cg.at(results[0], cg.add(yOffset(t, d, b), j)))
            }
          }
        }
        for b in 0..<batch {
          cg.forLoop(0, hidden) { j in
            let s = cg.add(j, b * hidden), out = cg.add(j, stateOffset(d, b))
            cg.store(cg.load(cg.at(h, s)), cg.at(results[1], out))
            if kind == .lstm { cg.store(cg.load(cg.at(c, s)), cg.at(results[2], out)) }
          }
        }
      }
    }
    let scratchFloats = 3 * state + batch * g
    return OpKernel(function: f, scratchBytes: (scratchFloats * 4 + 63) / 64 * 64)
  }

  /// ONNX RNN activation functions by name, taking alpha/beta values in order.
  private func recurrentActivations(_ names: [String], alphas: [Float], betas: [Float]) throws -> [(Value) -> Value] {
    var (ai, bi) = (0, 0)
    func alpha(_ d: Float) -> Float { defer { ai += 1 }; return ai < alphas.count ? alphas[ai] : d }
    func beta(_ d: Float) -> Float { defer { bi += 1 }; return bi < betas.count ? betas[bi] : d }
    let zero = cg.float(0), one = cg.float(1)
    func positive(_ x: Value) -> Value { LLVMBuildFCmp(cg.builder, LLVMRealOGE, x, zero, "")! }
    return try names.map { name -> (Value) -> Value in
      switch name.lowercased() {
      case "sigmoid": return { cg.sigmoid($0) }
      case "tanh": return { cg.tanh($0) }
      case "relu": return { cg.fmax($0, zero) }
      case "affine":
        let (a, b) = (cg.float(alpha(1)), cg.float(beta(0)))
        return { cg.fadd(cg.fmul(a, $0), b) }
      case "leakyrelu":
        let a = cg.float(alpha(0.01))
        return { x in cg.select(positive(x), x, cg.fmul(a, x)) }
      case "thresholdedrelu":
        let a = cg.float(alpha(1))
        return { x in cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOGT, x, a, "")!, x, zero) }
      case "scaledtanh":
        let (a, b) = (cg.float(alpha(1)), cg.float(beta(1)))
        return { cg.fmul(a, cg.tanh(cg.fmul(b, $0))) }
      case "hardsigmoid":
        let (a, b) = (cg.float(alpha(0.2)), cg.float(beta(0.5)))
        return { cg.fmin(cg.fmax(cg.fadd(cg.fmul(a, $0), b), zero), one) }
      case "elu":
        let a = cg.float(alpha(1))
        return { x in cg.select(positive(x), x, cg.fmul(a, cg.fsub(cg.exp(x), one))) }
      case "softsign": return { x in cg.fdiv(x, cg.fadd(one, cg.call("llvm.fabs", [x]))) }
      case "softplus": return { x in cg.call("llvm.log", [cg.fadd(one, cg.exp(x))]) }
      default: throw unsupported("activation '\(name)'")
      }
    }
  }
}
