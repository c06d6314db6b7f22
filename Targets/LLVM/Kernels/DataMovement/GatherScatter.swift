//===--- GatherScatter.swift - gather_elements, gather_nd, scatters, reverse_sequence ---===//
//
//   gather_elements   y[i...] = x[i... with i_axis = indices[i...]]
//   scatter_elements  y = x; then in index order y[i... with i_axis = indices[i...]] (op)= updates[i...]
//   gather_nd         y[t] = the slice x[batch(t), indices[t, 0], ..., indices[t, q-1], :...]
//   scatter_nd        y = x; then in index order slice(indices[t]) (op)= updates[t]
//   reverse_sequence  the first lens[b] steps along the time axis reversed, the rest copied
//
// Elements of any type move as raw bits; scatter reductions (add, mul, max, min) compute
// in the element type (integers wrap). Index operands are i32 or i64; negative indices
// count from the end. The interpreter rejects an index out of range at run time; here it
// is clamped into the axis so generated code never reads or writes outside a buffer.

internal import CLLVM
import SparrowIR

extension OpContext {
  /// The index at `offset` of an i32/i64 buffer as i64, made non-negative and clamped to `n`.
  private func loadIndex(_ p: Value, _ offset: Value, axisSize n: Int) throws -> Value {
    let e = type(op.operands[1]).element
    guard e == .i64 || e == .i32 else { throw unsupported("\(e) indices") }
    let i = cg.convert(cg.load(e, p, offset), from: e, to: .i64)
    return cg.clamp(cg.select(cg.icmp(LLVMIntSLT, i, cg.int(0)), cg.add(i, n), i), n)
  }

  func lowerIndexedAccess() throws -> OpKernel {
    switch op.kind {
    case .gather_elements, .scatter_elements: return try lowerElementsAccess()
    case .gather_nd, .scatter_nd: return try lowerSliceAccess()
    default: return try lowerReverseSequence()
    }
  }

  /// gather_elements and scatter_elements.
  private func lowerElementsAccess() throws -> OpKernel {
    let data = shape(operand: 0), indices = shape(operand: 1)
    let axis = attributes.int("axis")
    let e = type(op.operands[0]).element
    let scatter = op.kind == .scatter_elements
    let combine = scatter ? try scatterCombine(e) : nil
    guard indices.count == data.count,
          indices.indices.allSatisfy({ $0 == axis || indices[$0] <= data[$0] }) else {
      throw unsupported("indices \(type(op.operands[1])) that exceed data \(type(op.operands[0]))")
    }
    let strides = contiguousStrides(data)
    let f = try defineKernel { results, operands, _ in
      if scatter {
        cg.copyElements(e, from: operands[0], cg.int(0), to: results[0], cg.int(0), count: data.reduce(1, *))
      }
      guard indices.reduce(1, *) > 0 else { return }
      var failure: Error?
      cg.forEachIndex(indices) { idx in
        let flat = cg.linearOffset(idx, contiguousStrides(indices))
        do {
          let i = try loadIndex(operands[1], flat, axisSize: data[axis])
          var offset = cg.mul(i, strides[axis])
          for d in data.indices where d != axis { offset = cg.add(offset, cg.mul(idx[d], strides[d])) }
          if let combine {
            combine(results[0], offset, operands[2], flat)
          } else {
            cg.store(e.raw, cg.load(e.raw, operands[0], offset), results[0], flat)
          }
        } catch { failure = error }
      }
      if let failure { throw failure }
    }
    return OpKernel(function: f)
  }

  /// gather_nd (with batch_dims) and scatter_nd.
  private func lowerSliceAccess() throws -> OpKernel {
    let data = shape(operand: 0), q = shape(operand: 1)
    let e = type(op.operands[0]).element
    let scatter = op.kind == .scatter_nd
    let combine = scatter ? try scatterCombine(e) : nil
    let b = scatter ? 0 : attributes.int("batch_dims")
    guard let depth = q.last, b + depth <= data.count else {
      throw unsupported("indices \(type(op.operands[1])) for data \(type(op.operands[0]))")
    }
    let strides = contiguousStrides(data)
    let length = data[(b + depth)...].reduce(1, *)
    let tuples = q.dropLast().reduce(1, *)
    let perBatch = max(tuples / max(q[..<b].reduce(1, *), 1), 1)
    let f = try defineKernel { results, operands, _ in
      if scatter {
        cg.copyElements(e, from: operands[0], cg.int(0), to: results[0], cg.int(0), count: data.reduce(1, *))
      }
      guard tuples > 0, length > 0 else { return }
      var failure: Error?
      cg.forLoop(0, tuples) { t in
        do {
          var batch = cg.udiv(t, perBatch)
          var start = cg.int(0)
          for axis in stride(from: b - 1, through: 0, by: -1) {
            start = cg.add(start, cg.mul(cg.urem(batch, data[axis]), strides[axis]))
            batch = cg.udiv(batch, data[axis])
          }
          for j in 0..<depth {
            let i = try loadIndex(operands[1], cg.add(cg.mul(t, depth), j), axisSize: data[b + j])
            start = cg.add(start, cg.mul(i, strides[b + j]))
          }
          if let combine {
            cg.forLoop(0, length) { j in combine(results[0], cg.add(start, j), operands[2], cg.add(cg.mul(t, length), j)) }
          } else {
            cg.copyElements(e, from: operands[0], start, to: results[0], cg.mul(t, length), count: length)
          }
        } catch { failure = error }
      }
      if let failure { throw failure }
    }
    return OpKernel(function: f)
  }

  /// `(target, at, updates, from)`: target[at] = reduction(target[at], updates[from]).
  private func scatterCombine(_ e: ElementType) throws -> (Value, Value, Value, Value) -> Void {
    let reduction = attributes.string("reduction")
    if reduction == "none" {
      return { target, at, updates, from in cg.store(e.raw, cg.load(e.raw, updates, from), target, at) }
    }
    guard ["add", "mul", "max", "min"].contains(reduction) else { throw unsupported("reduction '\(reduction)'") }
    guard e != .bool, !e.isHalf else { throw unsupported("reduction '\(reduction)' on \(e)") }
    let b = cg.builder
    return { target, at, updates, from in
      let d = cg.load(e, target, at), u = cg.load(e, updates, from)
      let v: Value
      switch (reduction, e.isFloat) {
      case ("add", true): v = cg.fadd(d, u)
      case ("add", false): v = LLVMBuildAdd(b, d, u, "")
      case ("mul", true): v = cg.fmul(d, u)
      case ("mul", false): v = LLVMBuildMul(b, d, u, "")
      default:
        // Swift.max(d, u) = u >= d ? u : d;  Swift.min(d, u) = u < d ? u : d.
        let max = reduction == "max"
        let c: Value
        if e.isFloat {
          c = LLVMBuildFCmp(b, max ? LLVMRealOGE : LLVMRealOLT, u, d, "")
        } else {
          let s = e.isSignedInteger
          c = cg.icmp(max ? (s ? LLVMIntSGE : LLVMIntUGE) : (s ? LLVMIntSLT : LLVMIntULT), u, d)
        }
        v = cg.select(c, u, d)
      }
      cg.store(e, v, target, at)
    }
  }

  private func lowerReverseSequence() throws -> OpKernel {
    let x = shape(operand: 0)
    let e = type(op.operands[0]).element.raw
    let (batchAxis, timeAxis) = (attributes.int("batch_axis"), attributes.int("time_axis"))
    guard x.count >= 2, batchAxis != timeAxis, x.indices.contains(batchAxis), x.indices.contains(timeAxis) else {
      throw unsupported("batch_axis \(batchAxis) and time_axis \(timeAxis) for \(type(op.operands[0]))")
    }
    let strides = contiguousStrides(x), steps = x[timeAxis]
    let f = try defineKernel { results, operands, _ in
      guard x.reduce(1, *) > 0 else { return }
      var failure: Error?
      cg.forEachIndex(x) { idx in
        do {
          let flat = cg.linearOffset(idx, strides)
          // A length is clamped to 0...steps (the interpreter rejects others).
          let n = try loadIndex(operands[1], idx[batchAxis], axisSize: steps + 1)
          let t = idx[timeAxis]
          let reversed = cg.add(flat, cg.mul(cg.sub(cg.sub(n, cg.int(1)), cg.mul(t, 2)), strides[timeAxis]))
          let source = cg.select(cg.icmp(LLVMIntSLT, t, n), reversed, flat)
          cg.store(e, cg.load(e, operands[0], source), results[0], flat)
        } catch { failure = error }
      }
      if let failure { throw failure }
    }
    return OpKernel(function: f)
  }
}
