//===--- Sparsify.swift - give gemm/conv weights a sparse layout -------------===//
//
//   %w = constant @w : tensor<8x16xf32>                  %w2 = constant @w : tensor<8x16xf32, #nm<2,4>>
//   %y = gemm %x, %w {transB = true}          =>         %y = gemm %x, %w2 {transB = true}
//
// For each gemm (transA = false) and conv (group 1, not depthwise) whose weight is an f32
// constant, the cost model (SparseCostModel) picks the fastest of dense / N:M / BSR /
// CSR that the data satisfies exactly (`mode` = auto), or the forced family. A layout is
// attached only when `layoutViolation` finds nothing, so the conversion loses nothing: the
// pool keeps the dense data and targets read the layout from the type. A gemm without
// transB gets a transposed copy of its weight ([N, K], transB = true) so that N:M and
// block groups run along K. The weight constant gets its own op (it may be shared).
//
// A conv's dense alternative is the algorithm it runs (`denseAlgorithm`): a Winograd
// conv stays dense unless a format beats the measured Winograd speedup, and a converted
// conv goes back to the GEMM form (im2col): Winograd never runs a sparse weight.

import SparrowIR

public struct Sparsify: Pass {
  public static let name = "sparsify"
  public static let summary = "Attach #nm/#bsr/#csr layouts to gemm/conv weights the data fits exactly, chosen by a cost model."
  public static let options = [
    PassOptionSpec("mode", .string("auto"), help: "auto | off | nm | bsr | csr"),
  ]

  public let mode: SparsityMode

  public init(options: PassOptions) throws {
    let text = options.string("mode")
    guard let mode = SparsityMode(rawValue: text) else {
      throw Diagnostic("sparsify: mode must be one of \(SparsityMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
    }
    self.mode = mode
  }

  public init(mode: SparsityMode = .auto) { self.mode = mode }

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    guard mode != .off else { return false }
    let mode = self.mode
    return try applyPatternsGreedily([
      RewritePattern("sparsify-weight", roots: [.gemm, .conv]) { op, r in
        try Self.sparsify(op, r, mode: mode)
      },
    ], to: &function, context: context)
  }

  /// The weight of a gemm/conv that sparsify may convert, with its transB, or nil.
  public static func convertibleWeight(_ op: Operation, constant: (ValueID) -> Tensor?,
                                       type: (ValueID) -> TensorType) -> (Tensor, transposed: Bool)? {
    guard op.operands.count >= 2, type(op.operands[1]).layout == nil,
          let w = constant(op.operands[1]), w.element == .f32 else { return nil }
    switch op.kind {
    case .gemm:
      guard !op.attributes.bool("transA"), w.shape.count == 2 else { return nil }
      return (w, op.attributes.bool("transB"))
    case .conv:
      // NHWC convs (choose-conv-layout) keep dense weights: no sparse NHWC kernel yet.
      guard op.attributes.int("group") == 1, op.attributes.convAlgorithm != .depthwise,
            op.attributes.convLayout == .nchw, w.shape.count == 4 else { return nil }
      return (w, true)
    default:
      return nil
    }
  }

  private static func sparsify(_ op: Operation, _ r: Rewriter, mode: SparsityMode) throws -> [ValueID]? {
    guard let (w, transposed) = convertibleWeight(op, constant: r.constantTensor(of:), type: r.type(of:)),
          let analysis = analyzeWeight(w, transposed: transposed) else { return nil }
    let choice = SparseCostModel.choose(analysis, mode: mode,
                                        denseAlgorithm: denseAlgorithm(op, type: r.type(of:)),
                                        tokens: tokens(op, type: r.type(of:)), conv: op.kind == .conv,
                                        on: r.context.target)
    guard let layout = choice.layout else { return nil }
    let stored = transposed ? w : w.transposed2D()
    // The guarantee: the layout holds exactly, or nothing changes.
    guard layoutViolation(of: stored, layout: layout) == nil else { return nil }
    let v = r.insertConstant(stored, name: r.name(of: op.operands[1]) + "_sparse", layout: layout,
                             origin: r.origin(of: [op.operands[1]]))
    r.modifyOp(r.root) { o in
      o.operands[1] = v
      if !transposed { o.attributes["transB"] = .bool(true) }
      if o.kind == .conv, o.attributes.convAlgorithm?.isWinograd == true { o.attributes.convAlgorithm = .im2col }
    }
    return op.results
  }

  /// The sparse kernel's vector direction (SparseCostModel): a gemm's rows of X, a conv's
  /// output positions per image; nil when unknown.
  public static func tokens(_ op: Operation, type: (ValueID) -> TensorType) -> Int? {
    guard let x = op.operands.first else { return nil }
    if op.kind == .conv, let y = op.results.first, type(y).rank >= 3 { return type(y).shape.dropFirst(2).reduce(1, *) }
    guard op.kind == .gemm, type(x).rank == 2 else { return nil }
    return type(x).shape[0]
  }

  /// The conv algorithm `op` runs with a dense weight: its `algorithm` as lower-conv set it,
  /// or, when lower-conv has not run yet (no `algorithm`) or the weight is already sparse
  /// (the report after sparsify), what lower-conv's measured rule picks for the dense
  /// weight (with `--winograd` other than auto the report may name a Winograd that would
  /// not have run). nil for a gemm.
  public static func denseAlgorithm(_ op: Operation, type: (ValueID) -> TensorType) -> ConvAlgorithm? {
    guard op.kind == .conv, op.operands.count >= 2 else { return nil }
    let w = type(op.operands[1])
    if w.layout == nil, let chosen = op.attributes.convAlgorithm { return chosen }
    return LowerConv.algorithm(op.attributes, input: type(op.operands[0]), weight: w.dense)
  }
}
