//===--- DepthwiseConv.swift - groups = C = Co convolution, vectorized over width ---===//
//
//   per plane (n, c):   copy x[n][c] into the interior of a zero-bordered scratch plane
//   per output row oy:  for ox0 in 0, L, 2L ...   (L = vector lanes)
//                         acc = bias[c]
//                         for each tap (i, j): acc += w[c][i][j] * padded[oy*sy + i*dy][ox0*sx + j*dx + lane*sx]
//                         epilogue (residual, activation), store (masked on the last vector)
//
// The border is zeroed once per call and never written afterwards, so padding costs no
// compares in the inner loop (PaddedPlane.swift). Strides above 2 use the scalar loop.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerDepthwise(x: [Int], kh: Int, kw: Int, oh: Int, ow: Int, strides: [Int],
                      pads: [Int], dilations: [Int], steps: [GemmEpilogueStep],
                      residual: Int?) -> OpKernel {
    let (channels, height, width) = (x[1], x[2], x[3])
    let padded = PaddedPlane(cg: cg, height: height, width: width, oh: oh, ow: ow, kernel: [kh, kw],
                             strides: strides, pads: pads, dilations: dilations)
    guard padded.isSupported else {
      return lowerDepthwiseScalar(x: x, kh: kh, kw: kw, oh: oh, ow: ow, strides: strides, pads: pads,
                                  dilations: dilations, steps: steps, residual: residual)
    }
    let hasBias = op.operands.count >= 3
    let f = defineKernel { results, operands, scratch in
      padded.fill(scratch, with: 0)
      cg.forLoop(0, x[0] * channels) { plane in
        let c = cg.urem(plane, channels)
        padded.copy(from: cg.at(operands[0], cg.mul(plane, height * width)), into: scratch)
        let taps = (0..<kh * kw).map { t in cg.broadcast(cg.load(cg.at(operands[1], cg.add(cg.mul(c, kh * kw), t)))) }
        let start = hasBias ? cg.broadcast(cg.load(cg.at(operands[2], c))) : cg.splat(0)
        let outPlane = cg.mul(plane, oh * ow)
        cg.forLoop(0, oh) { oy in
          let row = padded.row(scratch, oy: oy)
          let outRow = cg.add(outPlane, cg.mul(oy, ow))
          cg.forEachVector(count: ow) { ox0, valid in
            var acc = start
            for i in 0..<kh {
              for j in 0..<kw { acc = cg.fma(padded.tap(row, ox0: ox0, i: i, j: j), taps[i * kw + j], acc) }
            }
            let at = cg.add(outRow, ox0)
            for step in steps {
              switch step {
              case .addResidual: acc = cg.fadd(acc, cg.load(vectorAt: cg.at(operands[residual!], at), lanes: valid))
              case let .activation(a): acc = cg.apply(a, acc)
              }
            }
            cg.store(vector: acc, at: cg.at(results[0], at), lanes: valid)
          }
        }
      }
    }
    return OpKernel(function: f, scratchBytes: padded.scratchBytes)
  }

  /// One output element per iteration (strides above 2).
  private func lowerDepthwiseScalar(x: [Int], kh: Int, kw: Int, oh: Int, ow: Int, strides: [Int],
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
  /// Lanes 0, 2, 4 ... of the 2L-lane concatenation `a ++ b`.
  func evenLanes(_ a: Value, _ b: Value) -> Value {
    var indices: [Value?] = (0..<lanes).map { int32(2 * $0) }
    return LLVMBuildShuffleVector(builder, a, b, LLVMConstVector(&indices, UInt32(lanes)), "")
  }

  /// `memset` of `count` floats to zero.
  func zeroFloats(_ p: Value, count: Int) {
    let (f, t) = intrinsic("llvm.memset", [i8Ptr, i64])
    var args: [Value?] = [LLVMBuildBitCast(builder, p, i8Ptr, ""), LLVMConstInt(i8, 0, 0), int(count * 4),
                          LLVMConstInt(i1, 0, 0)]
    LLVMBuildCall2(builder, t, f, &args, 4, "")
  }
}
