//===--- ScalarIntegerGemm.swift - grouped qconvs (and sparse weights), scalar ---===//
//
// The interpreter's arithmetic (Targets/Interpreter/Kernels/IntegerGemm.swift and
// `Requantization`), bit for bit. The weight is a constant, stored once as i32 with its
// zero points subtracted, W'[c][k] = w - zw[c]; the input's zero point folds into the
// bias at compile time: bias'[c] = bias[c] - zx * sum_k W'[c][k], so
//
//   acc[c] = bias'[c] + sum_k x[k] * W'[c][k]      (x raw; padding reads zx)
//
// which is the form the u8 x s8 dot-product kernels take. Scalar loops, one output
// element at a time: what remains for grouped and depthwise qconvs and sparse-typed
// weights; everything else runs the register-tiled GEMM (IntegerGemmLowering.swift).

internal import CLLVM
import SparrowIR

extension OpContext {
  /// The scalar kernel: grouped and depthwise qconvs and sparse-typed weights (the fast
  /// GEMM, IntegerGemmLowering.swift, takes the rest).
  func lowerScalarIntegerOp() throws -> OpKernel {
    let input = type(op.operands[0]), result = type(op.result)
    let zx = input.quantization!.zeroPoints[0]
    let operands = try integerOperands(inputZeroPoint: zx)
    let epilogue = try requantizingEpilogue()
    let taps = operands.taps
    let weightShape = type(op.operands[1]).shape
    let geometry = try IntegerGeometry(self, input: input.shape, weight: weightShape, result: result.shape)

    let f = defineKernel { results, operands_, _ in
      let wTable = cg.constantBytes("\(symbol).w", operands.centered.withUnsafeBytes { Array($0) }, as: cg.f32Ptr)
      let biasTable = cg.constantBytes("\(symbol).b", operands.bias.withUnsafeBytes { Array($0) }, as: cg.f32Ptr)
      let multiplierTable = cg.constantFloats("\(symbol).m", operands.multipliers)
      cg.forEachIndex(geometry.outputSpace) { index in
        let (out, channel) = geometry.outputOffset(cg, index)
        var acc = cg.load(.i32, biasTable, channel)
        acc = geometry.accumulate(cg, index, acc: acc, zeroPoint: Int32(zx),
                                  input: { cg.convert(cg.load(input.element, operands_[0], $0), from: input.element, to: .i32) },
                                  weight: { cg.load(.i32, wTable, cg.add(cg.mul(channel, taps), $0)) })
        let t = cg.fmul(LLVMBuildSIToFP(cg.builder, acc, cg.f32, "")!, cg.load(.f32, multiplierTable, channel))
        let stored = epilogue.apply(cg, t, vector: false) { i in
          cg.load(epilogue.residuals[i].element, operands_[3 + i], out)
        }
        cg.store(epilogue.storedElement, stored, results[0], out)
      }
    }
    return OpKernel(function: f, embeddedOperands: [1, 2])
  }
}

/// Where a qconv/qmatmul output element and its terms live (NCHW or NHWC convs).
private struct IntegerGeometry {
  let outputSpace: [Int]
  let conv: Bool
  let channelsLast: Bool
  let input: [Int], weightShape: [Int], result: [Int]
  let group: Int
  let strides: [Int], pads: [Int], dilations: [Int]

  init(_ ctx: OpContext, input: [Int], weight: [Int], result: [Int]) throws {
    self.input = input
    self.weightShape = weight
    self.result = result
    conv = ctx.op.kind == .qconv
    let a = ctx.attributes
    channelsLast = conv && a.convLayout == .nhwc
    group = conv ? a.int("group") : 1
    strides = conv ? a.ints("strides") : []
    pads = conv ? a.ints("pads") : []
    dilations = conv ? a.ints("dilations") : []
    if conv {
      // [N, C, OH, OW] in NCHW terms, whatever the layout.
      let r = channelsLast ? ConvLayout.channelsFirst(result) : result
      outputSpace = r
    } else {
      outputSpace = [result.reduce(1, *) / result.last!, result.last!]
    }
  }

  /// The output element's offset and channel for an index of `outputSpace`.
  func outputOffset(_ cg: CodegenModule, _ i: [Value]) -> (Value, Value) {
    guard conv else { return (cg.add(cg.mul(i[0], outputSpace[1]), i[1]), i[1]) }
    let (c, h, w) = (outputSpace[1], outputSpace[2], outputSpace[3])
    let offset = channelsLast
      ? cg.linearOffset([i[0], i[2], i[3], i[1]], [h * w * c, w * c, c, 1])
      : cg.linearOffset(i, [c * h * w, h * w, w, 1])
    return (offset, i[1])
  }

  /// acc + sum_k x * W'[k] over the element's K terms, `input(offset)` and `weight(k)`
  /// loading them as i32; conv taps outside the input read the zero point (a real zero).
  func accumulate(_ cg: CodegenModule, _ i: [Value], acc: Value, zeroPoint: Int32,
                  input: (Value) -> Value, weight: (Value) -> Value) -> Value {
    guard conv else {
      let k = weightShape[0]
      return cg.forLoop(cg.int(0), cg.int(k), carrying: [acc]) { kk, a in
        [cg.add(a[0], cg.mul(input(cg.add(cg.mul(i[0], k), kk)), weight(kk)))]
      }[0]
    }
    let (cin, h, w) = channelsLast ? (self.input[3], self.input[1], self.input[2])
                                   : (self.input[1], self.input[2], self.input[3])
    let (cinG, kh, kw) = (weightShape[1], weightShape[2], weightShape[3])
    let coutG = weightShape[0] / group
    let groupBase = cg.mul(LLVMBuildUDiv(cg.builder, i[1], cg.int(coutG), "")!, cinG)
    return cg.forLoop(cg.int(0), cg.int(cinG), carrying: [acc]) { c, a0 in
      cg.forLoop(cg.int(0), cg.int(kh), carrying: a0) { ky, a1 in
        cg.forLoop(cg.int(0), cg.int(kw), carrying: a1) { kx, a2 in
          let iy = cg.add(cg.sub(cg.mul(i[2], strides[0]), cg.int(pads[0])), cg.mul(ky, dilations[0]))
          let ix = cg.add(cg.sub(cg.mul(i[3], strides[1]), cg.int(pads[1])), cg.mul(kx, dilations[1]))
          let rows = LLVMBuildAnd(cg.builder, cg.icmp(LLVMIntSGE, iy, cg.int(0)), cg.icmp(LLVMIntSLT, iy, cg.int(h)), "")!
          let cols = LLVMBuildAnd(cg.builder, cg.icmp(LLVMIntSGE, ix, cg.int(0)), cg.icmp(LLVMIntSLT, ix, cg.int(w)), "")!
          let inside = LLVMBuildAnd(cg.builder, rows, cols, "")!
          // Outside the image: read element 0 (any valid address), use the zero point.
          let channel = cg.add(groupBase, c)
          let yy = cg.select(inside, iy, cg.int(0)), xx = cg.select(inside, ix, cg.int(0))
          let offset = channelsLast
            ? cg.linearOffset([i[0], yy, xx, channel], [h * w * cin, w * cin, cin, 1])
            : cg.linearOffset([i[0], channel, yy, xx], [cin * h * w, h * w, w, 1])
          let x = cg.select(inside, input(offset), cg.int32(Int(zeroPoint)))
          let k = cg.linearOffset([c, ky, kx], [kh * kw, kw, 1])
          return [cg.add(a2[0], cg.mul(x, weight(k)))]
        }
      }
    }[0]
  }
}
