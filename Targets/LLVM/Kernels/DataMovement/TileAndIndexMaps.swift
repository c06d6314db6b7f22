//===--- TileAndIndexMaps.swift - tile, depth_to_space, trilu, hardmax, mod, one_hot ---===//
//
//   tile            y[i...] = x[i % x_d ...]
//   depth_to_space  a transpose of the 6-D view [n, b, b, c/b², h, w] (DCR) or
//                   [n, c/b², b, b, h, w] (CRD); space_to_depth of [n, c, h/b, b, w/b, b]
//   trilu           x where the element is on the kept triangle, else 0
//   hardmax         1 at the first maximum along `axis`, 0 elsewhere
//   mod             fmod = 1: C fmod (sign of x); fmod = 0: the sign of y (Python's %)
//   one_hot         y[o][d][i] = values[1] where trunc(indices[o][i]) (+ depth if < 0) == d,
//                   else values[0] (indices of any numeric type, truncated as cast)
//
// tile, depth_to_space, trilu and one_hot move elements of any type (raw bits); hardmax
// and mod are f32 (mod of other types: Elementwise/TypedElementwise.swift).

internal import CLLVM
import SparrowIR

extension OpContext {
  func lowerIndexMap() throws -> OpKernel {
    switch op.kind {
    case .tile: return lowerTile()
    case .depth_to_space, .space_to_depth: return try lowerDepthToSpace()
    case .trilu: return lowerTrilu()
    case .hardmax: return lowerHardmax()
    case .one_hot: return lowerOneHot()
    default: return lowerMod()
    }
  }

  private func lowerTile() -> OpKernel {
    let x = shape(operand: 0), out = shape()
    let strides = contiguousStrides(x)
    let e = type(op.result).element.raw
    let f = defineKernel { results, operands, _ in
      guard out.reduce(1, *) > 0 else { return }
      cg.forEachIndex(out) { idx in
        var offset = cg.int(0)
        for d in x.indices { offset = cg.add(offset, cg.mul(cg.urem(idx[d], x[d]), strides[d])) }
        cg.store(e, cg.load(e, operands[0], offset), results[0], cg.linearOffset(idx, contiguousStrides(out)))
      }
    }
    return OpKernel(function: f)
  }

  private func lowerDepthToSpace() throws -> OpKernel {
    let x = shape(operand: 0)
    let b = attributes.int("blocksize")
    guard x.count == 4, b > 0 else { throw unsupported("rank \(x.count) or blocksize \(b)") }
    let (n, c, h, w) = (x[0], x[1], x[2], x[3])
    let view: [Int], perm: [Int]
    if op.kind == .space_to_depth {
      (view, perm) = ([n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4])
    } else if attributes.string("mode") == "CRD" {
      (view, perm) = ([n, c / (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3])
    } else {
      (view, perm) = ([n, b, b, c / (b * b), h, w], [0, 3, 4, 1, 5, 2])
    }
    let viewStrides = contiguousStrides(view)
    let outShape = perm.map { view[$0] }
    let e = type(op.result).element.raw
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex(outShape) { idx in
        let v = cg.load(e, operands[0], cg.linearOffset(idx, perm.map { viewStrides[$0] }))
        cg.store(e, v, results[0], cg.linearOffset(idx, contiguousStrides(outShape)))
      }
    }
    return OpKernel(function: f)
  }

  private func lowerTrilu() -> OpKernel {
    let x = shape(operand: 0)
    let upper = attributes.bool("upper"), k = attributes.int("k")
    let (rows, cols) = (x[x.count - 2], x[x.count - 1])
    let matrices = x.dropLast(2).reduce(1, *)
    let e = type(op.result).element.raw
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex([matrices, rows, cols]) { idx in
        let at = cg.linearOffset(idx, [rows * cols, cols, 1])
        let diagonal = cg.sub(idx[2], idx[1])  // j - i
        let kept = upper ? cg.icmp(LLVMIntSGE, diagonal, cg.int(k)) : cg.icmp(LLVMIntSLE, diagonal, cg.int(k))
        cg.store(e, cg.select(kept, cg.load(e, operands[0], at), cg.rawConstant(0, e)), results[0], at)
      }
    }
    return OpKernel(function: f)
  }

  private func lowerHardmax() -> OpKernel {
    let x = shape(operand: 0)
    let axis = attributes.int("axis")
    let (outer, length, inner) = (x[..<axis].reduce(1, *), x[axis], x[(axis + 1)...].reduce(1, *))
    let f = defineKernel { results, operands, _ in
      guard length > 0 else { return }
      cg.forEachIndex([outer, inner]) { idx in
        let base = cg.add(cg.mul(idx[0], length * inner), idx[1])
        let best = cg.forLoop(cg.int(1), cg.int(length), carrying: [cg.load(cg.at(operands[0], base)), cg.int(0)]) { i, acc in
          let v = cg.load(cg.at(operands[0], cg.add(base, cg.mul(i, inner))))
          let greater = LLVMBuildFCmp(cg.builder, LLVMRealOGT, v, acc[0], "")!
          return [cg.select(greater, v, acc[0]), cg.select(greater, i, acc[1])]
        }
        cg.forLoop(0, length) { i in
          let one = cg.select(cg.icmp(LLVMIntEQ, i, best[1]), cg.float(1), cg.float(0))
          cg.store(one, cg.at(results[0], cg.add(base, cg.mul(i, inner))))
        }
      }
    }
    return OpKernel(function: f)
  }

  private func lowerOneHot() -> OpKernel {
    let indices = shape(operand: 0)
    let depth = attributes.int("depth")
    var axis = attributes.int("axis")
    if axis < 0 { axis += indices.count + 1 }
    let (outer, inner) = (indices[..<axis].reduce(1, *), indices[axis...].reduce(1, *))
    let indexType = type(op.operands[0]).element, e = type(op.result).element.raw
    let f = defineKernel { results, operands, _ in
      let (off, on) = (cg.load(e, operands[1], cg.int(0)), cg.load(e, operands[1], cg.int(1)))
      cg.forEachIndex([outer, depth, inner]) { idx in
        let loaded = cg.load(indexType, operands[0], cg.add(cg.mul(idx[0], inner), idx[2]))
        let raw = indexType == .f32 ? LLVMBuildFPToSI(cg.builder, loaded, cg.i64, "")!
          : cg.convert(loaded, from: indexType, to: .i64)
        let index = cg.select(cg.icmp(LLVMIntSLT, raw, cg.int(0)), cg.add(raw, depth), raw)
        let value = cg.select(cg.icmp(LLVMIntEQ, index, idx[1]), on, off)
        cg.store(e, value, results[0], cg.linearOffset(idx, [depth * inner, inner, 1]))
      }
    }
    return OpKernel(function: f)
  }

  private func lowerMod() -> OpKernel {
    let cFmod = attributes.bool("fmod")
    return emitElementwise { v in
      let r = LLVMBuildFRem(cg.builder, v[0], v[1], "")!
      if cFmod { return r }
      let zero = cg.float(0)
      let nonzero = LLVMBuildFCmp(cg.builder, LLVMRealONE, r, zero, "")!
      let signsDiffer = LLVMBuildXor(cg.builder, LLVMBuildFCmp(cg.builder, LLVMRealOLT, r, zero, "")!,
                                     LLVMBuildFCmp(cg.builder, LLVMRealOLT, v[1], zero, "")!, "")!
      return cg.select(LLVMBuildAnd(cg.builder, nonzero, signsDiffer, "")!, cg.fadd(r, v[1]), r)
    }
  }
}
