//===--- StatisticsNorms.swift - instance/group/mean-variance/lp norm and lrn ---===//
//
// The interpreter's semantics (Targets/Interpreter/Kernels/Normalization.swift):
//   instance_norm       per (n, c) over the spatial axes: (x - mean) / sqrt(var + eps) * s[c] + b[c]
//   group_norm          per (n, group) over its C/G channels and the spatial axes; s, b per
//                       channel (C values) or per group (num_groups values)
//   mean_variance_norm  (x - E[x]) / (sqrt(E[x²] - E[x]²) + 1e-9) over `axes`
//   lp_norm             x / ||x||_p along `axis` (p = 1 or 2); a zero norm gives 0
//   lrn                 x / (bias + alpha / size * Σ x² over the channel window)^beta
// Each row (the elements one statistic covers) is walked twice or three times: sums,
// then the normalized store. Plain loops, sums in f32.

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerStatisticsNorm() throws -> OpKernel {
    let x = shape(operand: 0)
    let a = attributes
    switch op.kind {
    case .instance_norm:
      guard x.count >= 2 else { throw unsupported("rank \(x.count)") }
      let spatial = x[2...].reduce(1, *)
      return rowNormalization(rows: x[0] * x[1], rowLength: spatial, epsilon: a.float("epsilon"),
                              parameter: { row, _ in cg.urem(row, x[1]) })
    case .group_norm:
      let groups = a.int("num_groups")
      guard x.count >= 2, groups > 0, x[1] % groups == 0 else { throw unsupported("\(groups) groups of \(x)") }
      let spatial = x[2...].reduce(1, *), perGroup = x[1] / groups
      let perChannel = shape(operand: 1).reduce(1, *) == x[1]
      return rowNormalization(rows: x[0] * groups, rowLength: perGroup * spatial, epsilon: a.float("epsilon"),
                              parameter: { row, i in
                                let g = cg.urem(row, groups)
                                return perChannel ? cg.add(cg.mul(g, perGroup), cg.udiv(i, spatial)) : g
                              })
    case .mean_variance_norm: return try lowerMeanVarianceNorm()
    case .lp_norm: return try lowerLpNorm()
    default: return lowerLRN()
    }
  }

  /// Rows of `rowLength` contiguous elements: y = (x - mean) / sqrt(var + eps) * s[p] + b[p],
  /// p = parameter(row, index in row).
  private func rowNormalization(rows: Int, rowLength: Int, epsilon: Float,
                                parameter: @escaping (Value, Value) -> Value) -> OpKernel {
    let n = cg.float(Float(rowLength))
    let f = defineKernel { results, operands, _ in
      cg.forLoop(0, rows) { row in
        let base = cg.mul(row, rowLength)
        let sums = cg.forLoop(cg.int(0), cg.int(rowLength), carrying: [cg.float(0)]) { i, acc in
          [cg.fadd(acc[0], cg.load(cg.at(operands[0], cg.add(base, i))))]
        }
        let mean = cg.fdiv(sums[0], n)
        let squares = cg.forLoop(cg.int(0), cg.int(rowLength), carrying: [cg.float(0)]) { i, acc in
          let d = cg.fsub(cg.load(cg.at(operands[0], cg.add(base, i))), mean)
          return [cg.fma(d, d, acc[0])]
        }
        let inverse = cg.fdiv(cg.float(1), cg.call("llvm.sqrt", [cg.fadd(cg.fdiv(squares[0], n), cg.float(epsilon))]))
        cg.forLoop(0, rowLength) { i in
          let p = parameter(row, i)
          let (s, b) = (cg.load(cg.at(operands[1], p)), cg.load(cg.at(operands[2], p)))
          let v = cg.load(cg.at(operands[0], cg.add(base, i)))
          cg.store(cg.fma(cg.fmul(cg.fsub(v, mean), inverse), s, b), cg.at(results[0], cg.add(base, i)))
        }
      }
    }
    return OpKernel(function: f)
  }

  private func lowerMeanVarianceNorm() throws -> OpKernel {
    let x = shape(operand: 0)
    let axes = Set(attributes.ints("axes"))
    let strides = contiguousStrides(x)
    let kept = x.indices.filter { !axes.contains($0) }, reduced = x.indices.filter { axes.contains($0) }
    let count = cg.float(Float(reduced.map { x[$0] }.reduce(1, *)))
    let f = defineKernel { results, operands, _ in
      let sum = cg.entryAlloca(cg.f32), squares = cg.entryAlloca(cg.f32)
      cg.forEachIndex(kept.map { x[$0] }) { outer in
        let base = cg.linearOffset(outer, kept.map { strides[$0] })
        func each(_ body: (Value) -> Void) {
          cg.forEachIndex(reduced.map { x[$0] }) { inner in
            body(cg.add(base, cg.linearOffset(inner, reduced.map { strides[$0] })))
          }
        }
        LLVMBuildStore(cg.builder, cg.float(0), sum)
        LLVMBuildStore(cg.builder, cg.float(0), squares)
        each { at in
          let v = cg.load(cg.at(operands[0], at))
          LLVMBuildStore(cg.builder, cg.fadd(LLVMBuildLoad2(cg.builder, cg.f32, sum, "")!, v), sum)
          LLVMBuildStore(cg.builder, cg.fma(v, v, LLVMBuildLoad2(cg.builder, cg.f32, squares, "")!), squares)
        }
        let mean = cg.fdiv(LLVMBuildLoad2(cg.builder, cg.f32, sum, "")!, count)
        let meanSquare = cg.fdiv(LLVMBuildLoad2(cg.builder, cg.f32, squares, "")!, count)
        let variance = cg.fmax(cg.fsub(meanSquare, cg.fmul(mean, mean)), cg.float(0))
        let denominator = cg.fadd(cg.call("llvm.sqrt", [variance]), cg.float(1e-9))
        each { at in
          cg.store(cg.fdiv(cg.fsub(cg.load(cg.at(operands[0], at)), mean), denominator), cg.at(results[0], at))
        }
      }
    }
    return OpKernel(function: f)
  }

  private func lowerLpNorm() throws -> OpKernel {
    let x = shape(operand: 0)
    let axis = attributes.int("axis"), p = attributes.int("p")
    guard p == 1 || p == 2 else { throw unsupported("p = \(p)") }
    let (outer, length, inner) = (x[..<axis].reduce(1, *), x[axis], x[(axis + 1)...].reduce(1, *))
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([outer, inner]) { idx in
        let base = cg.add(cg.mul(idx[0], length * inner), idx[1])
        let total = cg.forLoop(cg.int(0), cg.int(length), carrying: [cg.float(0)]) { i, acc in
          let v = cg.load(cg.at(operands[0], cg.add(base, cg.mul(i, inner))))
          return [p == 1 ? cg.fadd(acc[0], cg.call("llvm.fabs", [v])) : cg.fma(v, v, acc[0])]
        }[0]
        let norm = p == 1 ? total : cg.call("llvm.sqrt", [total])
        let isZero = LLVMBuildFCmp(cg.builder, LLVMRealOEQ, norm, cg.float(0), "")!
        cg.forLoop(0, length) { i in
          let at = cg.add(base, cg.mul(i, inner))
          let v = cg.load(cg.at(operands[0], at))
          cg.store(cg.select(isZero, cg.float(0), cg.fdiv(v, norm)), cg.at(results[0], at))
        }
      }
    }
    return OpKernel(function: f)
  }

  private func lowerLRN() -> OpKernel {
    let x = shape(operand: 0)
    let a = attributes
    let size = a.int("size")
    let scale = cg.float(a.float("alpha") / Float(size)), beta = cg.float(a.float("beta"))
    let bias = cg.float(a.float("bias"))
    let (channels, spatial) = (x[1], x[2...].reduce(1, *))
    let (before, after) = ((size - 1) / 2, (size - 1) - (size - 1) / 2)
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([x[0], channels, spatial]) { idx in
        let (n, c, s) = (idx[0], idx[1], idx[2])
        let plane = cg.add(cg.mul(n, channels * spatial), s)
        let sum = cg.forLoop(cg.int(-before), cg.int(after + 1), carrying: [cg.float(0)]) { k, acc in
          let ck = cg.add(c, k)
          let v = cg.load(cg.at(operands[0], cg.add(plane, cg.mul(cg.clamp(ck, channels), spatial))))
          return [cg.select(cg.inRange(ck, channels), cg.fma(v, v, acc[0]), acc[0])]
        }[0]
        let at = cg.add(plane, cg.mul(c, spatial))
        let denominator = cg.call("llvm.pow", [cg.fma(scale, sum, bias), beta])
        cg.store(cg.fdiv(cg.load(cg.at(operands[0], at)), denominator), cg.at(results[0], at))
      }
    }
    return OpKernel(function: f)
  }
}
