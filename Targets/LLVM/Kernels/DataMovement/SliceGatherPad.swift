//===--- SliceGatherPad.swift - slice, split, pad, gather, expand, resize (nearest) ---===//
//
// Each is a loop nest over the result whose source offset is affine per dimension
// (slice, split, expand), clamped with a validity select (pad), read from an index
// operand (gather), or read from per-axis index tables computed at compile time (resize).
// Elements of any type move as raw bits of their size (ElementValues.swift).

internal import CLLVM
import SparrowIR
import SparrowTargetSupport

extension OpContext {
  /// Copies `source[base + Σ i_d * strides[d]]` into a contiguous result of `shape`.
  private func emitStridedCopy(from source: Value, to destination: Value, shape: [Int], base: Int,
                               strides: [Int]) {
    let (dims, s) = collapseDimensions(shape, [contiguousStrides(shape), strides])
    let e = type(op.operands[0]).element.raw
    let start = cg.element(e, source, base)
    cg.forEachIndex(dims) { idx in
      cg.store(e, cg.load(e, start, cg.linearOffset(idx, s[1])), destination, cg.linearOffset(idx, s[0]))
    }
  }

  func lowerSlice() throws -> OpKernel {
    let x = shape(operand: 0), out = shape()
    let a = attributes
    let strides = contiguousStrides(x)
    var base = 0, steps = strides
    let starts = a.ints("starts"), ends = a.ints("ends"), axes = a.ints("axes"), stepList = a.ints("steps")
    for i in axes.indices {
      let r = sliceRange(start: starts[i], end: ends[i], step: stepList[i], dim: x[axes[i]])
      if r.count > 0 { base += r.first * strides[axes[i]] }
      steps[axes[i]] = strides[axes[i]] * stepList[i]
    }
    let f = defineKernel { results, operands, _ in
      if out.reduce(1, *) > 0 {
        emitStridedCopy(from: operands[0], to: results[0], shape: out, base: base, strides: steps)
      }
    }
    return OpKernel(function: f)
  }

  func lowerSplit() throws -> OpKernel {
    let x = shape(operand: 0)
    let axis = attributes.int("axis")
    let strides = contiguousStrides(x)
    let f = defineKernel { results, operands, _ in
      var offset = 0
      for (i, r) in results.enumerated() {
        let s = shape(result: i)
        if s.reduce(1, *) > 0 {
          emitStridedCopy(from: operands[0], to: r, shape: s, base: offset * strides[axis], strides: strides)
        }
        offset += s[axis]
      }
    }
    return OpKernel(function: f)
  }

  func lowerExpand() throws -> OpKernel {
    let out = shape()
    let strides = broadcastStrides(shape(operand: 0), to: out)
    let f = defineKernel { results, operands, _ in
      emitStridedCopy(from: operands[0], to: results[0], shape: out, base: 0, strides: strides)
    }
    return OpKernel(function: f)
  }

  /// constant: the fill outside; edge: the nearest border element; reflect: mirrored
  /// about the border element (pads smaller than the axis, as ONNX requires); wrap: the
  /// index modulo the axis (as the interpreter, any pad).
  func lowerPad() throws -> OpKernel {
    let x = shape(operand: 0), out = shape()
    let mode = attributes.string("mode")
    guard ["constant", "edge", "reflect", "wrap"].contains(mode) else { throw unsupported("pad mode '\(mode)'") }
    if mode == "wrap" && x.reduce(1, *) == 0 && out.reduce(1, *) > 0 {
      throw unsupported("pad mode 'wrap' on an empty tensor")
    }
    let e = type(op.operands[0]).element
    let pads = attributes.ints("pads"), fill = cg.rawConstant(Double(attributes.float("value")), e)
    let strides = contiguousStrides(x)
    let f = defineKernel { results, operands, _ in
      cg.forEachIndex(out) { idx in
        var valid = LLVMConstInt(cg.i1, 1, 0)!
        var offset = cg.int(0)
        for d in x.indices {
          var i = cg.sub(idx[d], cg.int(pads[d]))
          if mode == "reflect" && x[d] > 1 {
            i = cg.select(cg.icmp(LLVMIntSLT, i, cg.int(0)), cg.sub(cg.int(0), i), i)
            i = cg.select(cg.icmp(LLVMIntSGE, i, cg.int(x[d])), cg.sub(cg.int(2 * (x[d] - 1)), i), i)
          }
          if mode == "wrap" && x[d] > 0 {  // ((i % n) + n) % n
            let r = LLVMBuildSRem(cg.builder, i, cg.int(x[d]), "")!
            i = cg.select(cg.icmp(LLVMIntSLT, r, cg.int(0)), cg.add(r, x[d]), r)
          }
          if mode == "constant" { valid = LLVMBuildAnd(cg.builder, valid, cg.inRange(i, x[d]), "") }
          offset = cg.add(offset, cg.mul(cg.clamp(i, x[d]), strides[d]))
        }
        let v = x.reduce(1, *) > 0 ? cg.load(e.raw, operands[0], offset) : fill
        cg.store(e.raw, cg.select(valid, v, fill), results[0], cg.linearOffset(idx, contiguousStrides(out)))
      }
    }
    return OpKernel(function: f)
  }

  func lowerGather() throws -> OpKernel {
    let x = shape(operand: 0), indices = shape(operand: 1)
    let axis = attributes.int("axis")
    let indexType = type(op.operands[1]).element
    let e = type(op.operands[0]).element
    let outer = x[..<axis].reduce(1, *), dim = x[axis], inner = x[(axis + 1)...].reduce(1, *)
    let count = indices.reduce(1, *)
    let f = defineKernel { results, operands, _ in
      let intType = indexType == .i64 ? cg.i64 : cg.i32
      let table = LLVMBuildBitCast(cg.builder, operands[1], LLVMPointerType(intType, 0), "")!
      cg.forEachIndex([outer, count]) { idx in
        let loaded = LLVMBuildLoad2(cg.builder, intType, cg.gep(intType, table, idx[1]), "")!
        var i = indexType == .i64 ? loaded : LLVMBuildSExt(cg.builder, loaded, cg.i64, "")!
        i = cg.select(cg.icmp(LLVMIntSLT, i, cg.int(0)), cg.add(i, dim), i)
        cg.copyElements(e, from: operands[0], cg.add(cg.mul(idx[0], dim * inner), cg.mul(cg.clamp(i, dim), inner)),
                        to: results[0], cg.add(cg.mul(idx[0], count * inner), cg.mul(idx[1], inner)), count: inner)
      }
    }
    return OpKernel(function: f)
  }

  /// Nearest resize as a gather through per-axis index tables; other modes and
  /// tf_crop_and_resize extrapolation in ResizeInterpolation.swift.
  func lowerResize() throws -> OpKernel {
    let x = shape(operand: 0), out = shape()
    let a = attributes
    let axes = try resizeAxes(a, input: x, output: out)
    let extrapolates = a.string("coordinate_transformation_mode") == "tf_crop_and_resize"
      && axes.contains { !$0.outside.isEmpty }
    if a.string("mode") != "nearest" || extrapolates { return try lowerInterpolatingResize() }
    let tables = axes.map { $0.taps.map { $0[0].index } }
    let strides = contiguousStrides(x)
    let f = defineKernel { results, operands, _ in
      let globals = tables.enumerated().map { d, t in
        cg.constantBytes("\(symbol).axis\(d)", t.map { Int64($0 * strides[d]) }.withUnsafeBytes { Array($0) },
                         as: LLVMPointerType(cg.i64, 0))
      }
      cg.forEachIndex(out) { idx in
        var offset = cg.int(0)
        for d in out.indices {
          offset = cg.add(offset, LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, globals[d], idx[d]), "")!)
        }
        cg.store(cg.load(cg.at(operands[0], offset)), cg.at(results[0], cg.linearOffset(idx, contiguousStrides(out))))
      }
    }
    return OpKernel(function: f)
  }
}
