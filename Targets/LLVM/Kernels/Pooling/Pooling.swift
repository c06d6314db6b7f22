//===--- Pooling.swift - max/average pooling over NCHW windows, global pools ---===//
//
// Max pooling with strides up to 2 runs a vector of output columns at a time over a
// -inf bordered copy of each plane (PaddedPlane.swift). Otherwise one output element per
// iteration; taps outside the input are skipped (max) or not counted (average, unless
// count_include_pad counts the padded window). Threads split the planes.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerPool() throws -> OpKernel {
    let x = shape(operand: 0), y = shape()
    guard x.count == 4 else { throw unsupported("\(x.count - 2)-D pooling (2-D only)") }
    guard op.results.count == 1 else { throw unsupported("max_pool indices") }
    let a = attributes
    let k = a.ints("kernel"), s = a.ints("strides"), p = a.ints("pads"), d = a.ints("dilations")
    let isMax = op.kind == .max_pool
    let includePad = op.kind == .average_pool && a.bool("count_include_pad")
    let (height, width, oh, ow) = (x[2], x[3], y[2], y[3])
    let padded = PaddedPlane(cg: cg, height: height, width: width, oh: oh, ow: ow, kernel: k, strides: s,
                             pads: p, dilations: d)
    if isMax && padded.isSupported { return lowerMaxPool(planes: x[0] * x[1], padded) }
    let work = ParallelCost.nanoseconds(fmas: x[0] * x[1] * oh * ow * k.reduce(1, *) * 4)
    let f = defineKernel(parallelOver: x[0] * x[1], nanoseconds: work) { results, operands, _, begin, end in
      cg.forEachIndex([x[0] * x[1], oh, ow], outermost: (begin, end)) { idx in
        let src = cg.at(operands[0], cg.mul(idx[0], height * width))
        var acc = cg.float(isMax ? -.infinity : 0)
        var count = cg.float(0)
        for i in 0..<k[0] {
          let iy = cg.add(cg.mul(idx[1], s[0]), i * d[0] - p[0])
          for j in 0..<k[1] {
            let ix = cg.add(cg.mul(idx[2], s[1]), j * d[1] - p[1])
            let valid = LLVMBuildAnd(cg.builder, cg.inRange(iy, height), cg.inRange(ix, width), "")!
            let v = cg.load(cg.at(src, cg.add(cg.mul(cg.clamp(iy, height), width), cg.clamp(ix, width))))
            if isMax {
              acc = cg.select(valid, cg.fmax(acc, v), acc)
            } else {
              acc = cg.fadd(acc, cg.select(valid, v, cg.float(0)))
              let counted: Value
              if includePad {
                // Inside the padded input (ceil_mode windows may run past it).
                let py = cg.icmp(LLVMIntSLT, iy, cg.int(height + p[2]))
                let px = cg.icmp(LLVMIntSLT, ix, cg.int(width + p[3]))
                counted = LLVMBuildAnd(cg.builder, py, px, "")!
              } else {
                counted = valid
              }
              count = cg.fadd(count, cg.select(counted, cg.float(1), cg.float(0)))
            }
          }
        }
        let value = isMax ? acc : cg.fdiv(acc, count)
        cg.store(value, cg.at(results[0], cg.linearOffset(idx, [oh * ow, ow, 1])))
      }
    }
    return OpKernel(function: f)
  }

  /// Max pooling a vector of output columns at a time over a -inf bordered plane.
  private func lowerMaxPool(planes: Int, _ padded: PaddedPlane) -> OpKernel {
    let (height, width, oh, ow) = (padded.height, padded.width, padded.oh, padded.ow)
    let work = ParallelCost.nanoseconds(fmas: planes * oh * ow * padded.kernel.reduce(1, *)) + streamingNanoseconds
    let slice = (padded.scratchBytes + 63) / 64 * 64
    let f = defineKernel(parallelOver: planes, nanoseconds: work, scratchPerThread: slice) {
      results, operands, scratch, begin, end in
      padded.fill(scratch, with: -.infinity)
      cg.forLoop(begin, end) { plane in
        padded.copy(from: cg.at(operands[0], cg.mul(plane, height * width)), into: scratch)
        cg.forLoop(0, oh) { oy in
          let row = padded.row(scratch, oy: oy)
          let outRow = cg.add(cg.mul(plane, oh * ow), cg.mul(oy, ow))
          cg.forEachVector(count: ow) { ox0, valid in
            var acc = cg.splat(-.infinity)
            for i in 0..<padded.kernel[0] {
              for j in 0..<padded.kernel[1] { acc = cg.fmax(acc, padded.tap(row, ox0: ox0, i: i, j: j)) }
            }
            cg.store(vector: acc, at: cg.at(results[0], cg.add(outRow, ox0)), lanes: valid)
          }
        }
      }
    }
    return OpKernel(function: f, scratchBytes: slice * ParallelCost.maximumThreads)
  }

  func lowerGlobalPool() throws -> OpKernel {
    let x = shape(operand: 0)
    guard x.count >= 3 else { throw unsupported("global pooling of rank \(x.count)") }
    let planes = x[0] * x[1], size = x.dropFirst(2).reduce(1, *)
    let isMax = op.kind == .global_max_pool
    let f = defineKernel(parallelOver: planes, nanoseconds: streamingNanoseconds) { results, operands, _, begin, end in
      cg.forLoop(begin, end) { plane in
        let src = cg.at(operands[0], cg.mul(plane, size))
        let total = cg.forLoop(cg.int(0), cg.int(size), carrying: [cg.float(isMax ? -.infinity : 0)]) { i, acc in
          let v = cg.load(cg.at(src, i))
          return [isMax ? cg.fmax(acc[0], v) : cg.fadd(acc[0], v)]
        }[0]
        cg.store(isMax ? total : cg.fdiv(total, cg.float(Float(size))), cg.at(results[0], plane))
      }
    }
    return OpKernel(function: f)
  }
}
