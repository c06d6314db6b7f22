//===--- ResizeInterpolation.swift - linear and cubic resize (any axes, antialias) ---===//
//
//   y[o0, o1, ...] = Σ_{t0, t1, ...} w0[o0][t0] * w1[o1][t1] * ... * x[i0[o0][t0], i1[o1][t1], ...]
//
// The taps (index, weight) of every axis are computed at compile time by the same code
// as the interpreter's (Targets/Support/ResizeTaps.swift) and embedded as tables padded to
// the axis's widest row (padding taps have weight 0). Axes that keep their size and map
// each index to itself get a single tap. With tf_crop_and_resize an output whose source
// lies outside the input on any axis is `extrapolation_value`.

internal import CLLVM
import SparrowIR
import SparrowTargetSupport

extension OpContext {
  func lowerInterpolatingResize() throws -> OpKernel {
    let x = shape(operand: 0), out = shape()
    let axes = try resizeAxes(attributes, input: x, output: out)
    let strides = contiguousStrides(x)
    let extrapolate = attributes.string("coordinate_transformation_mode") == "tf_crop_and_resize"
      && axes.contains { !$0.outside.isEmpty }
    let extrapolation = attributes.float("extrapolation_value")
    // Per axis: width, source offsets (index * stride) and weights, row-major [out][width].
    let tables = axes.enumerated().map { d, axis -> (width: Int, offsets: [Int64], weights: [Float]) in
      let rows = axis.identity ? (0..<out[d]).map { [(index: $0, weight: 1.0)] }
                               : axis.taps.map { $0.filter { $0.weight != 0 } }
      let width = max(rows.map(\.count).max() ?? 1, 1)
      var offsets: [Int64] = [], weights: [Float] = []
      for row in rows {
        for t in 0..<width {
          offsets.append(t < row.count ? Int64(row[t].index * strides[d]) : 0)
          weights.append(t < row.count ? Float(row[t].weight) : 0)
        }
      }
      return (width, offsets, weights)
    }
    let i64Ptr = LLVMPointerType(cg.i64, 0)!
    let f = defineKernel { results, operands, _ in
      guard out.reduce(1, *) > 0 else { return }
      let offsetTables = tables.enumerated().map { d, t in
        cg.constantBytes("\(symbol).offsets\(d)", t.offsets.withUnsafeBytes { Array($0) }, as: i64Ptr)
      }
      let weightTables = tables.enumerated().map { d, t in cg.constantFloats("\(symbol).weights\(d)", t.weights) }
      let outsideTables = extrapolate ? axes.enumerated().map { d, axis in
        cg.constantFloats("\(symbol).outside\(d)", (0..<out[d]).map { axis.outside.contains($0) ? 1 : 0 })
      } : []
      cg.forEachIndex(out) { idx in
        // Nested loops over each axis's taps, carrying the sum.
        func nest(_ d: Int, _ acc: Value, _ offset: Value, _ weight: Value) -> Value {
          if d == out.count { return cg.fadd(acc, cg.fmul(weight, cg.load(cg.at(operands[0], offset)))) }
          let width = tables[d].width
          let rowStart = cg.mul(idx[d], width)
          func tap(_ t: Value, _ acc: Value) -> Value {
            let k = cg.add(rowStart, t)
            let o = LLVMBuildLoad2(cg.builder, cg.i64, cg.gep(cg.i64, offsetTables[d], k), "")!
            let w = cg.load(cg.at(weightTables[d], k))
            return nest(d + 1, acc, cg.add(offset, o), cg.fmul(weight, w))
          }
          if width == 1 { return tap(cg.int(0), acc) }
          return cg.forLoop(cg.int(0), cg.int(width), carrying: [acc]) { t, carried in [tap(t, carried[0])] }[0]
        }
        var value = nest(0, cg.float(0), cg.int(0), cg.float(1))
        if extrapolate {
          var outside = cg.float(0)
          for d in out.indices { outside = cg.fmax(outside, cg.load(cg.at(outsideTables[d], idx[d]))) }
          let isOutside = LLVMBuildFCmp(cg.builder, LLVMRealOGT, outside, cg.float(0), "")!
          value = cg.select(isOutside, cg.float(extrapolation), value)
        }
        cg.store(value, cg.at(results[0], cg.linearOffset(idx, contiguousStrides(out))))
      }
    }
    return OpKernel(function: f)
  }
}
