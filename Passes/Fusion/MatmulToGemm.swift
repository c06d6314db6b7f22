//===--- MatmulToGemm.swift - matmul by a constant 2-D weight into gemm -----===//
//
//   %w = constant @fc.w : tensor<768x768xf32>      %wt = constant @fc.w : tensor<768x768xf32>
//   %m = matmul %x, %w : tensor<1x128x768xf32>     %x2 = reshape %x {shape = [128, 768]}
//   %y = add %m, %b : tensor<1x128x768xf32>   =>   %g = gemm %x2, %wt, %b {transB = true}
//                                                  %y = reshape %g {shape = [1, 128, 768]}
//
// Batched x [B..., M, K] becomes reshape -> gemm -> reshape (free views for the targets);
// a reshape of x to the same shape already present is reused, so projections of one
// input keep sharing it (fuse-horizontal relies on that). The weight is transposed to
// [N, K] with transB = true (K contiguous, the layout sparse formats use) unless another
// op shares the constant. An `add` of a constant broadcast along the last axis only
// (the bias), seen directly or through the reshape, becomes gemm's C.

import SparrowIR

public struct MatmulToGemm: Pass {
  public static let name = "matmul-to-gemm"
  public static let summary = "Turn matmul by a constant 2-D weight (+ bias add) into gemm."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// `x` reshaped to `shape`: an existing reshape of `x` with that result, or a new one.
  static func reshaped(_ x: ValueID, to shape: [Int], _ r: Rewriter) throws -> ValueID {
    if r.type(of: x).shape == shape { return x }
    for slot in r.users(of: x) {
      let user = r.op(at: slot)
      if user.kind == .reshape, user.operands == [x], r.type(of: user.result).shape == shape {
        return user.result
      }
    }
    return try r.insert(.reshape, [x], ["shape": .ints(shape)], name: r.name(of: x) + ".2d")[0]
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("matmul-to-gemm", roots: [.matmul]) { op, r in
      let (x, w) = (op.operands[0], op.operands[1])
      let xType = r.type(of: x), wType = r.type(of: w)
      guard xType.rank >= 2, wType.rank == 2, xType.element == .f32,
            let weights = r.constantFloats(of: w), let wSlot = r.definingSlot(of: w) else { return nil }
      let (k, n) = (wType.shape[0], wType.shape[1])
      let m = xType.shape.dropLast().reduce(1, *)
      let x2 = try reshaped(x, to: [m, k], r)
      var b = w
      var attributes: [String: AttributeValue] = [:]
      if r.hasOneUse(w) {  // [K, N] -> [N, K]
        let transposed = (0..<n * k).map { i in weights[(i % k) * n + i / k] }
        b = r.insertFloats(transposed, shape: [n, k], name: r.name(of: w), layout: wType.layout, before: wSlot)
        attributes["transB"] = .bool(true)
      }
      let name = r.name(of: op.result)
      if xType.rank == 2 { return try r.insert(.gemm, [x2, b], attributes, name: name) }
      let g = try r.insert(.gemm, [x2, b], attributes, name: name + ".2d")[0]
      return try r.insert(.reshape, [g], ["shape": .ints(r.type(of: op.result).shape)], name: name)
    },

    RewritePattern("bias-into-gemm", roots: [.add]) { op, r in
      for (xi, ci) in [(0, 1), (1, 0)] {
        let x = op.operands[xi], shape = r.type(of: x).shape
        guard r.hasOneUse(x), !shape.isEmpty, r.type(of: op.result).dense == r.type(of: x).dense,
              let c = r.constantTensor(of: op.operands[ci]),
              let bias = perChannelValues(c, output: shape, axis: shape.count - 1),
              let slot = r.producer(viewing: x), r.op(at: slot).kind == .gemm,
              r.type(of: r.op(at: slot).result).shape.last == shape.last,
              canFoldAffine(into: slot, r) else { continue }
        foldAffine(into: slot, scale: [Float](repeating: 1, count: bias.count), shift: bias, r)
        return [x]
      }
      return nil
    },
  ]
}
