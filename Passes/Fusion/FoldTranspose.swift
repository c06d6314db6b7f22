//===--- FoldTranspose.swift - transposes into gemm flags and constants -----===//
//
//   %t = transpose %a {perm = [1, 0]} : tensor<64x8xf32>
//   %y = gemm %t, %w {transB = true}          =>   %y = gemm %a, %w {transA = true, transB = true}
//
//   %c = constant @w : tensor<4x8xf32>             %c = constant @w.t : tensor<8x4xf32>
//   %t = transpose %c {perm = [1, 0]}         =>   (uses of %t now use %c)
//
// A 2-D transpose feeding gemm's A or B flips transA or transB (the transpose stays while
// another op uses it). A transpose of a dense constant becomes a new constant holding the
// permuted data.

import SparrowIR

public struct FoldTranspose: Pass {
  public static let name = "fold-transpose"
  public static let summary = "Fold 2-D transposes into gemm's transA/transB and transposes of constants into constants."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// `t` with its axes permuted by `perm` (result axis i is input axis perm[i]).
  static func permuted(_ t: Tensor, _ perm: [Int]) -> Tensor {
    let inShape = t.shape, inStrides = contiguousStrides(inShape)
    let outShape = perm.map { inShape[$0] }
    let size = t.element.byteSize
    var out = [UInt8](repeating: 0, count: t.bytes.count)
    var index = [Int](repeating: 0, count: outShape.count)  // the output coordinate
    for o in 0..<t.count {
      var source = 0
      for (axis, i) in index.enumerated() { source += i * inStrides[perm[axis]] }
      out[o * size..<(o + 1) * size] = t.bytes[source * size..<(source + 1) * size]
      advance(&index, within: outShape)
    }
    return Tensor(type: TensorType(t.element, outShape), bytes: out)
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("transpose-into-gemm", roots: [.gemm]) { op, r in
      for (position, flag) in [(0, "transA"), (1, "transB")] {
        let v = op.operands[position]
        guard let slot = r.definingSlot(of: v), r.op(at: slot).kind == .transpose,
              r.op(at: slot).attributes.ints("perm") == [1, 0], r.type(of: v).layout == nil else { continue }
        let source = r.op(at: slot).operands[0]
        let transpose = r.op(at: slot)
        r.modifyOp(r.root) { gemm in
          gemm.operands[position] = source
          gemm.attributes.values[flag] = .bool(!op.attributes.bool(flag))
          gemm.origin.merge(transpose.origin)
        }
        if r.isUnused(v) { r.erase(slot) }
        return op.results
      }
      return nil
    },

    RewritePattern("transpose-of-constant", roots: [.transpose]) { op, r in
      let x = op.operands[0]
      guard r.type(of: x).layout == nil, let c = r.constantTensor(of: x) else { return nil }
      let t = permuted(c, op.attributes.ints("perm"))
      return [r.insertConstant(t, name: r.name(of: x) + ".t")]
    },
  ]
}
