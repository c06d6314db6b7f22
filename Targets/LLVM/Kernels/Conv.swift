//===--- Conv.swift - 2-D convolution: 1x1 and im2col onto GEMM, depthwise direct ---===//
//
//   groups = 1, 1x1, stride 1, no pad:  Y[n] = W[Co, C] · X[n][C, H*W]     (+ bias per row)
//   groups = 1 otherwise:               Y[n] = W[Co, C*kh*kw] · im2col(X[n]) (scratch)
//   groups = C = Co (depthwise):        direct loops, one channel at a time
//   algorithm winograd2/winograd4:      Winograd tiles, 16/36 GEMMs (Kernels/Winograd/)
//
// The weight must be a constant: it is packed into the GEMM's panels at compile time.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerConv() throws -> OpKernel {
    if let mask = ActivationMask(attributes, output: shape()) { return try lowerMaskedConv(mask) }
    let x = shape(operand: 0), w = shape(operand: 1), y = shape()
    guard x.count == 4 else { throw unsupported("\(x.count - 2)-D convolution (2-D only)") }
    let a = attributes
    let group = a.int("group")
    let strides = a.optionalInts("strides") ?? [1, 1], dilations = a.optionalInts("dilations") ?? [1, 1]
    let pads = a.optionalInts("pads") ?? [0, 0, 0, 0]
    let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
    let (outChannels, kh, kw) = (w[0], w[2], w[3])
    let (oh, ow) = (y[2], y[3])
    let fused = try fusedEpilogue(coreOperands: min(op.operands.count, 3))
    let bias = op.operands.count >= 3 ? constant(operand: 2) : nil
    if op.operands.count >= 3 && bias == nil { throw unsupported("a run-time conv bias") }
    if group == channels && outChannels == channels && w[1] == 1 {
      return lowerDepthwise(x: x, kh: kh, kw: kw, oh: oh, ow: ow, strides: strides, pads: pads,
                            dilations: dilations, steps: fused.steps, residual: fused.residual)
    }
    guard group == 1 else { throw unsupported("grouped convolution (group = \(group))") }
    guard let weights = constant(operand: 1) else { throw unsupported("a run-time conv weight") }
    if let tile = WinogradTile(algorithm: a.string("algorithm")), type(op.operands[1]).layout == nil,
       kh == 3, kw == 3, strides == [1, 1], dilations == [1, 1], oh > 0, ow > 0 {
      return lowerWinogradConv(tile, weights: weights, bias: bias, steps: fused.steps, residual: fused.residual)
    }
    let k = channels * kh * kw, positions = oh * ow
    let direct = kh == 1 && kw == 1 && strides == [1, 1] && pads.allSatisfy { $0 == 0 }
    let epilogue = GemmEpilogue(bias: bias.map { .perRow($0) } ?? .none, steps: fused.steps)
    // A weight with a sparse layout (set by `sparsify`) gets the weight-specialized sparse
    // GEMM (Kernels/Sparse), which runs on one thread; dense weights the packed GEMM.
    let gemm: Value, gemmScratchBytes: Int, sparse: Bool
    if let layout = type(op.operands[1]).layout {
      let d = SparseGemmDescriptor(layout: layout, weight: weights, rows: outChannels, k: k, n: positions,
                                   epilogue: epilogue, taps: kh * kw)
      gemm = SparseGemmEmitter(cg: cg, d: d, name: symbol + ".sparse_gemm").emit()
      (gemmScratchBytes, sparse) = (d.scratchBytes(lanes: cg.lanes), true)
    } else {
      let descriptor = GemmDescriptor(m: outChannels, n: positions, k: k, a: .constant(weights),
                                      b: .argument, epilogue: epilogue)
      let emitter = GemmEmitter(cg, descriptor, name: symbol + ".gemm")
      (gemm, gemmScratchBytes, sparse) = (emitter.emit(), emitter.scratchBytes, false)
    }
    let columnsBytes = direct ? 0 : (k * positions * 4 + 63) / 64 * 64
    let f = defineKernel(threaded: { results, operands, scratch, threads in
      cg.forLoop(0, batch) { n in
        let input = cg.at(operands[0], cg.mul(n, channels * height * width))
        var b = input
        if !direct {
          b = scratch
          emitIm2col(input, into: scratch, channels: channels, height: height, width: width,
                     kh: kh, kw: kw, oh: oh, ow: ow, strides: strides, pads: pads, dilations: dilations)
        }
        let gemmScratch = cg.at(scratch, columnsBytes / 4)
        let outputOffset = cg.mul(n, outChannels * positions)
        let residual = fused.residual.map { cg.at(operands[$0], outputOffset) } ?? cg.nullFloatPointer()
        var arguments = [cg.at(results[0], outputOffset), cg.nullFloatPointer(), b, residual, gemmScratch]
        if !sparse { arguments.append(threads) }
        cg.call(function: gemm, arguments)
      }
    })
    return OpKernel(function: f, embeddedOperands: bias == nil ? [1] : [1, 2], scratchBytes: columnsBytes + gemmScratchBytes)
  }

  /// columns[(c*kh + i)*kw + j][oy*ow + ox] = x[c][oy*sy - py + i*dy][ox*sx - px + j*dx] (0 outside).
  private func emitIm2col(_ x: Value, into columns: Value, channels: Int, height: Int, width: Int,
                          kh: Int, kw: Int, oh: Int, ow: Int, strides: [Int], pads: [Int],
                          dilations: [Int]) {
    cg.forEachIndex([channels, kh, kw, oh]) { idx in
      let (c, i, j, oy) = (idx[0], idx[1], idx[2], idx[3])
      let row = cg.add(cg.mul(cg.add(cg.mul(c, kh), i), kw), j)
      let iy = cg.add(cg.sub(cg.mul(oy, strides[0]), cg.int(pads[0])), cg.mul(i, dilations[0]))
      let rowValid = cg.inRange(iy, height)
      let dst = cg.at(columns, cg.add(cg.mul(row, oh * ow), cg.mul(oy, ow)))
      let src = cg.at(x, cg.add(cg.mul(c, height * width), cg.mul(cg.clamp(iy, height), width)))
      cg.forLoop(0, ow) { ox in
        let ix = cg.add(cg.sub(cg.mul(ox, strides[1]), cg.int(pads[1])), cg.mul(j, dilations[1]))
        let valid = LLVMBuildAnd(cg.builder, rowValid, cg.inRange(ix, width), "")!
        let v = cg.load(cg.at(src, cg.clamp(ix, width)))
        cg.store(cg.select(valid, v, cg.float(0)), cg.at(dst, ox))
      }
    }
  }

  private func lowerDepthwise(x: [Int], kh: Int, kw: Int, oh: Int, ow: Int, strides: [Int],
                              pads: [Int], dilations: [Int], steps: [GemmEpilogueStep],
                              residual: Int?) -> OpKernel {
    let (channels, height, width) = (x[1], x[2], x[3])
    let hasBias = op.operands.count >= 3
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([x[0] * channels, oh]) { idx in
        let (plane, oy) = (idx[0], idx[1])
        let c = cg.urem(plane, channels)
        let src = cg.at(operands[0], cg.mul(plane, height * width))
        let dst = cg.at(results[0], cg.add(cg.mul(plane, oh * ow), cg.mul(oy, ow)))
        let start = hasBias ? cg.load(cg.at(operands[2], c)) : cg.float(0)
        cg.forLoop(0, ow) { ox in
          var acc = start
          for i in 0..<kh {
            let iy = cg.add(cg.mul(oy, strides[0]), i * dilations[0] - pads[0])
            for j in 0..<kw {
              let ix = cg.add(cg.mul(ox, strides[1]), j * dilations[1] - pads[1])
              let valid = LLVMBuildAnd(cg.builder, cg.inRange(iy, height), cg.inRange(ix, width), "")!
              let v = cg.load(cg.at(src, cg.add(cg.mul(cg.clamp(iy, height), width), cg.clamp(ix, width))))
              let wv = cg.load(cg.at(operands[1], cg.add(cg.mul(c, kh * kw), i * kw + j)))
              acc = cg.fadd(acc, cg.select(valid, cg.fmul(v, wv), cg.float(0)))
            }
          }
          for step in steps {
            switch step {
            case .addResidual:
              let at = cg.add(cg.add(cg.mul(plane, oh * ow), cg.mul(oy, ow)), ox)
              acc = cg.fadd(acc, cg.load(cg.at(operands[residual!], at)))
            case let .activation(a): acc = cg.apply(a, acc)
            }
          }
          cg.store(acc, cg.at(dst, ox))
        }
      }
    }
    return OpKernel(function: f)
  }
}

extension CodegenModule {
  /// 0 <= i < n.
  func inRange(_ i: Value, _ n: Int) -> Value { icmp(LLVMIntULT, i, int(n)) }
  /// i clamped into [0, n).
  func clamp(_ i: Value, _ n: Int) -> Value {
    let low = select(icmp(LLVMIntSLT, i, int(0)), int(0), i)
    return select(icmp(LLVMIntSGE, low, int(n)), int(n - 1), low)
  }
}
