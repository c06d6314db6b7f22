//===--- SoftmaxLayerBatchNorm.swift - softmax, layer_norm, batch_norm (inference) ---===//
//
// softmax and layer_norm view the input as [outer, axis..., inner] and make two or
// three passes over each row: a vector at a time when the row is contiguous (layer_norm
// always, softmax over the last axis; VectorRows.swift), else one element at a time.
// batch_norm folds its four vectors into a per-channel
// scale and shift before the loop over the channel's plane. Threads split the rows
// (softmax, layer_norm) or the (image, channel) planes (batch_norm).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerSoftmax() throws -> OpKernel {
    let x = shape(operand: 0)
    let axis = attributes.int("axis")
    let outer = x[..<axis].reduce(1, *), length = x[axis], inner = x[(axis + 1)...].reduce(1, *)
    let isLog = op.kind == .log_softmax
    if inner == 1 { return lowerRowSoftmax(rows: outer, length: length, isLog: isLog) }
    let f = defineKernel(parallelOver: outer, nanoseconds: streamingNanoseconds * 4) { results, operands, _, begin, end in
      cg.forEachIndex([outer, inner], outermost: (begin, end)) { idx in
        let base = cg.add(cg.mul(idx[0], length * inner), idx[1])
        let src = cg.at(operands[0], base), dst = cg.at(results[0], base)
        let peak = cg.forLoop(cg.int(0), cg.int(length), carrying: [cg.float(-.infinity)]) { i, acc in
          [cg.fmax(acc[0], cg.load(cg.at(src, cg.mul(i, inner))))]
        }[0]
        let sum = cg.forLoop(cg.int(0), cg.int(length), carrying: [cg.float(0)]) { i, acc in
          let e = cg.exp(cg.fsub(cg.load(cg.at(src, cg.mul(i, inner))), peak))
          if !isLog { cg.store(e, cg.at(dst, cg.mul(i, inner))) }
          return [cg.fadd(acc[0], e)]
        }[0]
        let logSum = cg.call("llvm.log", [sum])
        let inverse = cg.fdiv(cg.float(1), sum)
        cg.forLoop(0, length) { i in
          let p = cg.at(dst, cg.mul(i, inner))
          if isLog {
            cg.store(cg.fsub(cg.fsub(cg.load(cg.at(src, cg.mul(i, inner))), peak), logSum), p)
          } else {
            cg.store(cg.fmul(cg.load(p), inverse), p)
          }
        }
      }
    }
    return OpKernel(function: f)
  }

  /// Softmax over contiguous rows, a vector at a time.
  private func lowerRowSoftmax(rows: Int, length: Int, isLog: Bool) -> OpKernel {
    let f = defineKernel(parallelOver: rows, nanoseconds: streamingNanoseconds * 4) { results, operands, _, begin, end in
      cg.forLoop(begin, end) { row in
        let src = cg.at(operands[0], cg.mul(row, length)), dst = cg.at(results[0], cg.mul(row, length))
        let peak = cg.broadcast(cg.reduceRow(src, count: length, neutral: -.infinity, combine: cg.fmax,
                                             horizontal: cg.reduceMax))
        // Σ exp(x - peak); softmax keeps the exponentials in the output, log_softmax recomputes.
        let sum: Value
        if isLog {
          sum = cg.sumRow(src, count: length) { cg.exp(cg.fsub($0, peak)) }
        } else {
          cg.forEachVector(count: length) { i, valid in
            let e = cg.exp(cg.fsub(cg.load(vectorAt: cg.at(src, i), lanes: valid), peak))
            cg.store(vector: e, at: cg.at(dst, i), lanes: valid)
          }
          sum = cg.sumRow(dst, count: length)
        }
        let logSum = cg.broadcast(cg.call("llvm.log", [sum]))
        let inverse = cg.broadcast(cg.fdiv(cg.float(1), sum))
        cg.forEachVector(count: length) { i, valid in
          let y = isLog ? cg.fsub(cg.fsub(cg.load(vectorAt: cg.at(src, i), lanes: valid), peak), logSum)
            : cg.fmul(cg.load(vectorAt: cg.at(dst, i), lanes: valid), inverse)
          cg.store(vector: y, at: cg.at(dst, i), lanes: valid)
        }
      }
    }
    return OpKernel(function: f)
  }

  func lowerLayerNorm() throws -> OpKernel {
    let x = shape(operand: 0)
    let axis = attributes.int("axis"), epsilon = attributes.float("epsilon")
    let outer = x[..<axis].reduce(1, *), size = x[axis...].reduce(1, *)
    let scaleCount = shape(operand: 1).reduce(1, *)
    let biasCount = op.operands.count == 3 ? shape(operand: 2).reduce(1, *) : 0
    guard scaleCount == size || scaleCount == 1, biasCount == 0 || biasCount == size || biasCount == 1 else {
      throw unsupported("layer_norm scale/bias that are not per-element of the normalized axes")
    }
    let f = defineKernel(parallelOver: outer, nanoseconds: streamingNanoseconds * 2) { results, operands, _, begin, end in
      cg.forLoop(begin, end) { row in
        let src = cg.at(operands[0], cg.mul(row, size)), dst = cg.at(results[0], cg.mul(row, size))
        let n = cg.float(Float(size))
        let mean = cg.fdiv(cg.sumRow(src, count: size), n)
        let meanVector = cg.broadcast(mean)
        let squares = cg.sumRow(src, count: size) { v in
          let d = cg.fsub(v, meanVector)
          return cg.fmul(d, d)
        }
        let inverse = cg.broadcast(cg.fdiv(cg.float(1), cg.call("llvm.sqrt", [cg.fadd(cg.fdiv(squares, n), cg.float(epsilon))])))
        func parameter(_ k: Int, count: Int, _ i: Value, valid: Int) -> Value {
          count == 1 ? cg.broadcast(cg.load(operands[k])) : cg.load(vectorAt: cg.at(operands[k], i), lanes: valid)
        }
        cg.forEachVector(count: size) { i, valid in
          var y = cg.fmul(cg.fsub(cg.load(vectorAt: cg.at(src, i), lanes: valid), meanVector), inverse)
          y = cg.fmul(y, parameter(1, count: scaleCount, i, valid: valid))
          if biasCount > 0 { y = cg.fadd(y, parameter(2, count: biasCount, i, valid: valid)) }
          cg.store(vector: y, at: cg.at(dst, i), lanes: valid)
        }
      }
    }
    return OpKernel(function: f)
  }

  func lowerBatchNorm() throws -> OpKernel {
    let x = shape(operand: 0)
    guard x.count >= 2 else { throw unsupported("batch_norm of rank \(x.count)") }
    let channels = x[1], plane = x.dropFirst(2).reduce(1, *)
    let epsilon = attributes.float("epsilon")
    let f = defineKernel(parallelOver: x[0] * channels, nanoseconds: streamingNanoseconds) { results, operands, _, begin, end in
      cg.forLoop(begin, end) { image in
        let idx = [cg.udiv(image, channels), cg.urem(image, channels)]
        let c = idx[1]
        let load = { (k: Int) in cg.load(cg.at(operands[k], c)) }
        let scale = cg.fdiv(load(1), cg.call("llvm.sqrt", [cg.fadd(load(4), cg.float(epsilon))]))
        let shift = cg.fsub(load(2), cg.fmul(load(3), scale))
        let base = cg.mul(cg.add(cg.mul(idx[0], channels), c), plane)
        cg.forLoop(0, plane) { i in
          let at = cg.add(base, i)
          cg.store(cg.fma(cg.load(cg.at(operands[0], at)), scale, shift), cg.at(results[0], at))
        }
      }
    }
    return OpKernel(function: f)
  }
}
