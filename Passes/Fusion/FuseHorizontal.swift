//===--- FuseHorizontal.swift - one gemm/conv for siblings sharing an input ---===//
//
//   %q = gemm %x, %wq, %bq {transB = true}        %w = constant @wq.concat : tensor<192x64xf32>
//   %k = gemm %x, %wk, %bk {transB = true}   =>   %b = constant @wq.concat.bias : tensor<192xf32>
//   %v = gemm %x, %wv, %bv {transB = true}        %g = gemm %x, %w, %b {transB = true}
//                                                 %q, %k, %v = split %g {axis = 1, sizes = [64, 64, 64]}
//
// Gemms (the Q/K/V projections) and convs (Inception/YOLO-style 1x1 branches) that read
// the same input with constant f32 weights of one layout (dense or N:M), the same
// attributes (transA, transB, alpha, beta; strides, pads, dilations, group 1, kernel
// size) and the same epilogue, without residual operands, become one op over
// concatenated weights and biases (a missing bias is zeros; a gemm C must be per-column)
// followed by a split along the output channels.

import SparrowIR

public struct FuseHorizontal: Pass {
  public static let name = "fuse-horizontal"
  public static let summary = "Merge gemms/convs that share an input into one op plus split."

  public init(options: PassOptions) {}
  public init() {}

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    try applyPatternsGreedily(Self.patterns, to: &function, context: context)
  }

  /// Per-output-channel bias of the op in `slot` (zeros when absent); nil when gemm's C
  /// is not per-column or not constant.
  static func channelBias(_ slot: Int, _ r: Rewriter) -> [Float]? {
    let op = r.op(at: slot)
    let channels = r.type(of: op.result).shape[1]
    guard op.operands.count == 3 else { return [Float](repeating: 0, count: channels) }
    guard let c = r.constantTensor(of: op.operands[2]) else { return nil }
    if op.kind == .conv { return c.element == .f32 ? c.array(of: Float.self) : nil }
    return perChannelValues(c, output: r.type(of: op.result).shape, axis: 1)
  }

  /// Whether the op in `slot` can join a horizontal group led by `leader`.
  static func fits(_ slot: Int, with leader: Operation, _ r: Rewriter) -> Bool {
    let op = r.op(at: slot)
    guard op.kind == leader.kind, op.operands[0] == leader.operands[0], op.operands.count <= 3,
          op.results.count == 1,
          leader.kind.spec.attributes.allSatisfy({ op.attributes[$0.name] == leader.attributes[$0.name] }),
          r.constantFloats(of: op.operands[1]) != nil, channelBias(slot, r) != nil else { return false }
    let (w, lw) = (r.type(of: op.operands[1]), r.type(of: leader.operands[1]))
    // N:M groups run along K and survive concatenation along N; blocks might straddle.
    guard w.layout == lw.layout else { return false }
    if case .bsr? = w.layout { return false }
    if case .csr? = w.layout { return false }
    // NCHW convs only: the fused result splits along axis 1 (choose-conv-layout runs later).
    if op.kind == .conv {
      return op.attributes.int("group") == 1 && op.attributes.convLayout == .nchw
        && w.shape.dropFirst() == lw.shape.dropFirst()
    }
    return true
  }

  static let patterns: [RewritePattern] = [
    RewritePattern("share-input", roots: [.gemm, .conv]) { op, r in
      guard fits(r.root, with: op, r) else { return nil }
      let group = r.users(of: op.operands[0]).filter { $0 >= r.root && fits($0, with: op, r) }.sorted()
      guard group.count >= 2, group.first == r.root else { return nil }
      let transB = op.kind == .gemm && op.attributes.bool("transB")
      // Output channels run along axis 0 of the weight, except gemm without transB (axis 1).
      let alongRows = op.kind == .conv || transB
      let sizes = group.map { r.type(of: r.op(at: $0).result).shape[1] }
      var weights: [Float] = [], bias: [Float] = []
      let wShape = r.type(of: op.operands[1]).shape
      if alongRows {
        for slot in group { weights += r.constantFloats(of: r.op(at: slot).operands[1])! }
      } else {  // [K, N_i] side by side
        let k = wShape[0]
        let parts = group.map { r.constantFloats(of: r.op(at: $0).operands[1])! }
        for row in 0..<k {
          for (part, n) in zip(parts, sizes) { weights += part[row * n..<(row + 1) * n] }
        }
      }
      let beta = op.kind == .gemm ? op.attributes.float("beta") : 1  // C is scaled once, here
      for slot in group { bias += channelBias(slot, r)!.map { $0 * beta } }
      let total = sizes.reduce(0, +)
      var shape = wShape
      shape[alongRows ? 0 : 1] = total
      let wName = r.name(of: op.operands[1]) + ".concat"
      let members = group.map { r.op(at: $0) }
      let w = r.insertFloats(weights, shape: shape, name: wName, layout: r.type(of: op.operands[1]).layout,
                             before: r.root, from: members.map { $0.operands[1] })
      let b = r.insertFloats(bias, shape: [total], name: wName + ".bias", before: r.root,
                             from: members.flatMap { $0.operands.dropFirst(2).prefix(1) })
      var attributes = op.attributes.values
      attributes["beta"] = nil
      let name = r.name(of: op.result)
      let fused = try r.insert(op.kind, [op.operands[0], w, b], attributes, name: name + ".horizontal")[0]
      r.modifyOp(r.definingSlot(of: fused)!) { f in for m in members { f.origin.merge(m.origin) } }
      let parts = try r.insert(.split, [fused], ["axis": .int(1), "sizes": .ints(sizes)], name: name + ".part")
      for (slot, part) in zip(group.dropFirst(), parts.dropFirst()) {
        r.replaceOp(slot, with: [part])
      }
      return [parts[0]]
    },
  ]
}
