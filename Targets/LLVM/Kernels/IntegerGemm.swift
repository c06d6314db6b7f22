//===--- IntegerGemm.swift - qconv and qmatmul on the LLVM target ----------===//
//
// The interpreter's arithmetic (Targets/Interpreter/Kernels/IntegerGemm.swift and
// `Requantization`), bit for bit. The weight is a constant, stored once as i32 with its
// zero points subtracted, W'[c][k] = w - zw[c]; the input's zero point folds into the
// bias at compile time: bias'[c] = bias[c] - zx * sum_k W'[c][k], so
//
//   acc[c] = bias'[c] + sum_k x[k] * W'[c][k]      (x raw; padding reads zx)
//
// which is the form a u8 x s8 dot-product kernel (VNNI vpdpbusd) takes. This first
// version is scalar loops (correctness and the differential tests; fold-qdq is not in
// -O2 yet); the requantizing epilogue runs per element in f32 as the interpreter does.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerIntegerOp() throws -> OpKernel {
    let input = type(op.operands[0]), result = type(op.result)
    guard let xq = input.quantization, let wq = type(op.operands[1]).quantization,
          let wName = constantNames[op.operands[1]], let w = constants[wName],
          let bName = constantNames[op.operands[2]], let biasTensor = constants[bName] else {
      throw unsupported("a non-constant weight or bias")
    }
    let steps = attributes.epilogue
    guard steps.allSatisfy(Requantization.acceptsQuantized) else {
      throw unsupported("epilogue steps other than relu, clip and add")
    }
    let output = result.quantization
    let isConv = op.kind == .qconv
    let channels = isConv ? w.shape[0] : w.shape[1]
    let taps = w.count / channels
    // W'[c][k] (matmul weights are [K, N]: transposed here) and the folded bias.
    var centered = [Int32](repeating: 0, count: w.count)
    for i in 0..<w.count {
      let (c, k) = isConv ? (i / taps, i % taps) : (i % channels, i / channels)
      centered[c * taps + k] = Int32(w.integerValue(i)! - wq.zeroPoint(c))
    }
    let zx = Int32(xq.zeroPoints[0])
    let bias = (0..<channels).map { c -> Int32 in
      var sum: Int32 = 0
      for k in 0..<taps { sum = sum &+ centered[c * taps + k] }
      return Int32(biasTensor.integerValue(c)!) &- zx &* sum
    }
    let multipliers = Requantization.multipliers(input: xq, weight: wq, output: output, channels: channels)
    let residualQuantizations = op.operands.dropFirst(3).map { type($0).quantization }
    let geometry = try IntegerGeometry(self, input: input.shape, weight: w.shape, result: result.shape)

    let f = defineKernel { results, operands, _ in
      let wTable = cg.constantBytes("\(symbol).w", centered.withUnsafeBytes { Array($0) }, as: cg.f32Ptr)
      let biasTable = cg.constantBytes("\(symbol).b", bias.withUnsafeBytes { Array($0) }, as: cg.f32Ptr)
      let multiplierTable = cg.constantFloats("\(symbol).m", multipliers)
      cg.forEachIndex(geometry.outputSpace) { index in
        let (out, channel) = geometry.outputOffset(cg, index)
        var acc = cg.load(.i32, biasTable, channel)
        acc = geometry.accumulate(cg, index, acc: acc, zeroPoint: zx,
                                  input: { cg.convert(cg.load(input.element, operands[0], $0), from: input.element, to: .i32) },
                                  weight: { cg.load(.i32, wTable, cg.add(cg.mul(channel, taps), $0)) })
        var t = cg.fmul(LLVMBuildSIToFP(cg.builder, acc, cg.f32, "")!, cg.load(.f32, multiplierTable, channel))
        var residual = 0
        for step in steps {
          switch step {
          case .relu:
            t = cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOLT, t, cg.float(0), "")!, cg.float(0), t)
          case let .clip(lo, hi):
            let (a, b) = output.map { (lo / $0.scales[0], hi / $0.scales[0]) } ?? (lo, hi)
            t = cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOLT, t, cg.float(a), "")!, cg.float(a), t)
            t = cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOGT, t, cg.float(b), "")!, cg.float(b), t)
          case .add:
            let operand = 3 + residual
            let re = type(op.operands[operand]).element
            let r = cg.load(re, operands[operand], out)
            if let rq = residualQuantizations[residual] {
              let centered = cg.sub(cg.convert(r, from: re, to: .i32), cg.int32(rq.zeroPoints[0]))
              let factor = Requantization.residualFactor(rq, output: output)
              t = cg.fadd(t, cg.fmul(LLVMBuildSIToFP(cg.builder, centered, cg.f32, "")!, cg.float(factor)))
            } else {
              t = cg.fadd(t, r)
            }
            residual += 1
          default:
            preconditionFailure("checked above")
          }
        }
        guard let output else {
          cg.store(.f32, t, results[0], out)
          return
        }
        // saturate(roundHalfEven(t) + zy), clamped before the conversion.
        let range = result.element.quantizedStorageRange!, zy = output.zeroPoints[0]
        var r = cg.call("llvm.roundeven", [t])
        let lo = cg.float(Float(range.lowerBound - zy)), hi = cg.float(Float(range.upperBound - zy))
        r = cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOLT, r, lo, "")!, lo, r)
        r = cg.select(LLVMBuildFCmp(cg.builder, LLVMRealOGT, r, hi, "")!, hi, r)
        let q = cg.add(LLVMBuildFPToSI(cg.builder, r, cg.i32, "")!, cg.int32(zy))
        cg.store(result.element, LLVMBuildTrunc(cg.builder, q, cg.i8, "")!, results[0], out)
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
