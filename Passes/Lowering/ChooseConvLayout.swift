//===--- ChooseConvLayout.swift - NCHW or NHWC per conv, transposes cancelled ---===//
//
//   %a = conv %x, %w1, %b1 {epilogue = ["relu"]}        %t = transpose %x {perm = [0, 2, 3, 1]}
//   %r = relu %a                                   =>   %a = conv %t, %w1, %b1 {layout = "nhwc", ...}
//   %c = conv %r, %w2, %b2, %a {epilogue = ["add"]}      %r = relu %a
//   return %c                                            %c = conv %r, %w2, %b2, %a {layout = "nhwc", ...}
//                                                        %y = transpose %c {perm = [0, 3, 1, 2]}
//                                                        return %y
//
// This pass is the only place that decides a conv's activation layout; targets obey the
// `layout` attribute (OpKind.swift). Each chosen conv becomes transpose -> NHWC conv ->
// transpose (its residual operands transposed too), then transposes move down through
// the ops between convs and cancel in pairs (MLIR's linalg layout propagation, TVM's
// ConvertLayout), so a chain of NHWC convs has no transpose inside:
//   - transpose(transpose(x, p), q) with q . p = identity  ->  x
//   - an elementwise op whose operands are transposes by one perm p, constants (permuted
//     here, e.g. a per-channel [C, 1, 1] scale becomes [1, 1, 1, C]) or broadcast scalars
//     ->  the op on the untransposed operands, then one transpose by p
//   - concat of transposes by p along axis a  ->  concat along p[a], then the transpose;
//     split likewise (one transpose per part)
// A transpose moves only when each of its users can take it (another such op or a
// cancelling transpose), so moving never adds transposes. Pooling, grouped convs and
// everything else stay NCHW: the transposes stop in front of them.
//
// Which convs: option `layout` = nchw (none) | nhwc (every conv the targets run NHWC:
// 2-D, group 1 with algorithm gemm1x1, im2col or winograd2/4 (masked convs too: their
// channels-last kernel gathers whole channel vectors of the kept positions), or
// depthwise; dense f32 constant weight and bias) | auto: those of them with at least 16
// input channels (an RGB stem's NHWC im2col gathers 3-float runs: ResNet-50's 7x7 stem
// 2.61 ms NCHW, 3.53 NHWC) and without the convs sparsify would convert (below), when
// the time they save outweighs the transposes mixing leaves (around each conv that stays
// NCHW and each pool). Measured on ResNet-50 (bench/RESULTS.md, 2026-12-04 fourth
// session, 1 thread, Zen 4): NHWC 1x1/s1 convs 13 % faster than the NCHW ones, 1x1/s2
// 19 %, 3x3/s2 15 %; the transposes around its 13 Winograd convs (NCHW-only then) and the
// pool took 0.48 ms of ~72. So `auto` counts 15 % of a converted conv's FLOPs at
// ~100 GFLOP/s (a masked conv's FLOPs at its kept positions) against 8 bytes per
// transposed element at ~40 GB/s (~16 GB/s for a tensor beyond L2), on a converted copy
// of the function. ResNet-50, MobileNet and the YOLO-style
// detector now go NHWC but for their stems (their Winograd and depthwise convs too, with
// the channels-last kernels: Winograd 3x3s 22.1 -> 14.4 ms on ResNet-50, depthwise
// 1.23 -> 0.66 ms on MobileNet); a pool after every pointwise conv keeps NCHW. Convs
// whose weights the following `sparsify` would convert (option `sparsity`, its mode: the
// driver passes `--sparsity`) stay NCHW, their neighbours go NHWC where that pays
// (sparse convs have no NHWC kernel yet; sparsify skips NHWC convs, so `nhwc` keeps such
// a conv dense).
//
// Runs after lower-conv (the algorithm is known) and before sparsify.

import SparrowIR
import SparrowTargetSupport

public enum ConvLayoutMode: String, CaseIterable, Sendable {
  case auto, nchw, nhwc
}

public struct ChooseConvLayout: Pass {
  public static let name = "choose-conv-layout"
  public static let summary = "Choose each conv's activation layout (NCHW or NHWC) and cancel the transposes between NHWC convs."
  public static let options = [
    PassOptionSpec("layout", .string("auto"), help: "auto | nchw | nhwc"),
    PassOptionSpec("sparsity", .string("auto"), help: "the mode of the sparsify that follows (auto | off | nm | bsr | csr): convs it would make sparse stay NCHW"),
  ]

  public let mode: ConvLayoutMode
  public let sparsity: SparsityMode

  public init(options: PassOptions) throws {
    let text = options.string("layout"), sparsityText = options.string("sparsity")
    guard let mode = ConvLayoutMode(rawValue: text) else {
      throw Diagnostic("choose-conv-layout: layout must be one of \(ConvLayoutMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
    }
    guard let sparsity = SparsityMode(rawValue: sparsityText) else {
      throw Diagnostic("choose-conv-layout: sparsity must be one of \(SparsityMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(sparsityText)'")
    }
    self.mode = mode
    self.sparsity = sparsity
  }

  public init(layout: ConvLayoutMode = .auto, sparsity: SparsityMode = .auto) {
    mode = layout
    self.sparsity = sparsity
  }

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    switch mode {
    case .nchw: return false
    case .nhwc: return try applyPatternsGreedily(Self.patterns(converting: Self.canRunChannelsLast), to: &function, context: context)
    case .auto:
      let sparsity = self.sparsity
      let converts: @Sendable (Operation, Rewriter) -> Bool = { Self.autoConverts($0, $1, sparsity: sparsity) }
      guard try Self.prefersChannelsLast(function, converting: converts, context: context) else { return false }
      return try applyPatternsGreedily(Self.patterns(converting: converts), to: &function, context: context)
    }
  }

  /// Whether the targets can run `op` (a conv) with NHWC activations: the IR's rule
  /// (`ConvLayout.mayRunChannelsLast`) for an f32 conv with a constant weight and bias.
  public static func canRunChannelsLast(_ op: Operation, _ r: Rewriter) -> Bool {
    guard op.kind == .conv, op.attributes.convLayout == .nchw, op.operands.count >= 2 else { return false }
    let x = r.type(of: op.operands[0]), w = r.type(of: op.operands[1])
    guard x.element == .f32, r.constantTensor(of: op.operands[1]) != nil,
          op.operands.count < 3 || r.constantTensor(of: op.operands[2]) != nil else { return false }
    return ConvLayout.mayRunChannelsLast(op.attributes, input: x, weight: w)
  }

  /// The convs `auto` converts: those that can run NHWC, but for a few input channels (a
  /// stem conv over RGB: its NHWC im2col gathers 3-float runs, 2.61 -> 3.53 ms on
  /// ResNet-50's 7x7 stem) and those sparsify (in mode `sparsity`) would make sparse.
  static func autoConverts(_ op: Operation, _ r: Rewriter, sparsity: SparsityMode) -> Bool {
    canRunChannelsLast(op, r) && r.type(of: op.operands[0]).shape[1] >= 16 && !wouldSparsify(op, r, mode: sparsity)
  }

  /// The `auto` rule (see the header): NHWC when the time the converted convs save (15 %
  /// of their FLOPs at ~100 GFLOP/s) exceeds that of the transposes left between them and
  /// the convs that stay NCHW, found by converting a copy of the function.
  static func prefersChannelsLast(_ function: Function, converting converts: @escaping @Sendable (Operation, Rewriter) -> Bool,
                                  context: PassContext) throws -> Bool {
    let r = Rewriter(function, context: context)
    guard (0..<r.slotCount).map(r.op(at:)).contains(where: { $0.kind == .conv && converts($0, r) }) else { return false }
    var converted = function
    _ = try applyPatternsGreedily(patterns(converting: converts), to: &converted,
                                  context: PassContext(constants: context.constants, target: context.target))
    let k = context.target.kernels
    let saved = Double(nhwcFlops(converted)) * k.channelsLastConvGain / k.denseGemmGflops  // ns
    let spent = transposeNanoseconds(converted, on: context.target) - transposeNanoseconds(function, on: context.target)
    return saved > spent
  }

  /// FLOPs of the function's NHWC convs (a masked conv's at its kept positions).
  static func nhwcFlops(_ function: Function) -> Int {
    function.ops.filter { $0.kind == .conv && $0.attributes.convLayout == .nhwc }.reduce(0) { sum, op in
      let w = function.type(of: op.operands[1]).shape, y = function.type(of: op.result).shape
      let kept = ActivationMask(op.attributes, output: y).map { 1 - $0.maskedRatio } ?? 1
      return sum + Int(Double(2 * y.reduce(1, *) * w.dropFirst().reduce(1, *)) * kept)
    }
  }

  /// Estimated time of the function's used 4-D layout transposes: 8 bytes moved per
  /// element at the target's transpose rate for a tensor within L2 (Zen 4: 1 MiB, ~40
  /// GB/s), or beyond it (~16 GB/s).
  static func transposeNanoseconds(_ function: Function, on target: TargetDescription) -> Double {
    let k = target.kernels
    let users = function.users()
    return function.ops.filter { op in
      op.kind == .transpose && [ConvLayout.toChannelsLast, ConvLayout.toChannelsFirst].contains(op.attributes.ints("perm"))
        && (users[op.result]?.isEmpty == false || function.results.contains(op.result))
    }.reduce(0) { sum, op in
      let elements = function.type(of: op.result).count
      return sum + Double(elements) * 8 / (elements * 4 <= target.caches.l2 ? k.transposeGBsInL2 : k.transposeGBsBeyondL2)
    }
  }

  /// Whether sparsify (in `mode`) would give the conv's weight a sparse layout, against the
  /// dense conv it would otherwise be: NHWC (a Winograd one far faster than NCHW).
  static func wouldSparsify(_ op: Operation, _ r: Rewriter, mode: SparsityMode = .auto) -> Bool {
    guard mode != .off, let (w, transposed) = Sparsify.convertibleWeight(op, constant: r.constantTensor(of:), type: r.type(of:)),
          let analysis = analyzeWeight(w, transposed: transposed) else { return false }
    let dense = Sparsify.denseAlgorithm(op, type: r.type(of:))
    return SparseCostModel.choose(analysis, mode: mode, denseAlgorithm: dense,
                                  tokens: Sparsify.tokens(op, type: r.type(of:)), conv: true,
                                  channelsLast: true, on: r.context.target).layout != nil
  }

  /// The rewrites: `converts` says which convs go NHWC.
  static func patterns(converting converts: @escaping @Sendable (Operation, Rewriter) -> Bool) -> [RewritePattern] { [
    RewritePattern("conv-to-nhwc", roots: [.conv]) { op, r in
      guard converts(op, r) else { return nil }
      let residuals = residualCount(op.attributes)
      let core = op.operands.count - residuals
      var operands = Array(op.operands.prefix(core))
      operands[0] = try transposed(operands[0], ConvLayout.toChannelsLast, r)
      for v in op.operands.suffix(residuals) { operands.append(try transposed(v, ConvLayout.toChannelsLast, r)) }
      var attributes = op.attributes
      attributes.convLayout = .nhwc
      let conv = try r.insert(.conv, operands, attributes.values, name: r.name(of: op.result) + ".nhwc")[0]
      return [try r.insert(.transpose, [conv], ["perm": .ints(ConvLayout.toChannelsFirst)], name: r.name(of: op.result))[0]]
    },

    RemoveIdentity.cancelTransposes,

    RewritePattern("transpose-below-elementwise") { op, r in
      guard op.kind.has(.elementwise), op.results.count == 1, op.operands.count >= 1,
            let perm = commonPerm(op.operands, r) else { return nil }
      let rank = perm.count
      let inverse = inverted(perm)
      var operands: [ValueID] = []
      for v in op.operands {
        if let d = r.definingOp(of: v), d.kind == .transpose, d.attributes.ints("perm") == perm {
          operands.append(d.operands[0])
          continue
        }
        let t = r.type(of: v)
        guard t.rank <= rank, t.layout == nil else { return nil }
        if t.shape.allSatisfy({ $0 == 1 }) { operands.append(v); continue }  // broadcasts alike
        guard let c = r.constantTensor(of: v) else { return nil }
        let full = Tensor(type: TensorType(c.element, Array(repeating: 1, count: rank - t.rank) + t.shape), bytes: c.bytes)
        operands.append(r.insertConstant(FoldTranspose.permuted(full, inverse), name: r.name(of: v) + ".nhwc"))
      }
      let y = try r.insert(op.kind, operands, op.attributes.values, name: r.name(of: op.result) + ".t")[0]
      return [try r.insert(.transpose, [y], ["perm": .ints(perm)], name: r.name(of: op.result))[0]]
    },

    RewritePattern("transpose-below-concat", roots: [.concat]) { op, r in
      guard let perm = commonPerm(op.operands, r),
            op.operands.allSatisfy({ r.definingOp(of: $0)?.kind == .transpose }) else { return nil }
      let inputs = op.operands.map { r.definingOp(of: $0)!.operands[0] }
      let axis = perm[op.attributes.int("axis")]
      let y = try r.insert(.concat, inputs, ["axis": .int(axis)], name: r.name(of: op.result) + ".t")[0]
      return [try r.insert(.transpose, [y], ["perm": .ints(perm)], name: r.name(of: op.result))[0]]
    },

    RewritePattern("transpose-below-split", roots: [.split]) { op, r in
      guard let perm = commonPerm(op.operands, r), let source = r.definingOp(of: op.operands[0]) else { return nil }
      var attributes = op.attributes.values
      attributes["axis"] = .int(perm[op.attributes.int("axis")])
      let parts = try r.insert(.split, [source.operands[0]], attributes, name: r.name(of: op.results[0]) + ".t")
      return try zip(parts, op.results).map { part, old in
        try r.insert(.transpose, [part], ["perm": .ints(perm)], name: r.name(of: old))[0]
      }
    },
  ] }

  /// A transpose of `v` by `perm`: one that exists already (two convs reading one input
  /// share it), else a new op before the root.
  static func transposed(_ v: ValueID, _ perm: [Int], _ r: Rewriter) throws -> ValueID {
    for slot in r.users(of: v) where r.op(at: slot).kind == .transpose && r.op(at: slot).attributes.ints("perm") == perm {
      return r.op(at: slot).result
    }
    return try r.insert(.transpose, [v], ["perm": .ints(perm)], name: r.name(of: v) + ".nhwc")[0]
  }

  /// The perm shared by every transposed operand (at least one; NHWC -> NCHW) when each
  /// of those transposes can move: all its users are elementwise ops, concats or transposes.
  static func commonPerm(_ operands: [ValueID], _ r: Rewriter) -> [Int]? {
    var perm: [Int]?
    for v in operands {
      guard let d = r.definingOp(of: v), d.kind == .transpose else { continue }
      let p = d.attributes.ints("perm")
      // Only the transposes this pass makes (back to NCHW) move.
      guard p == ConvLayout.toChannelsFirst, perm == nil || perm == p, !r.isFunctionResult(v) else { return nil }
      let movable = r.users(of: v).allSatisfy { slot in
        let user = r.op(at: slot)
        return user.kind.has(.elementwise) || [.concat, .split, .transpose].contains(user.kind)
      }
      guard movable else { return nil }
      perm = p
    }
    return perm
  }

  /// The permutation that undoes `perm`.
  static func inverted(_ perm: [Int]) -> [Int] {
    var inverse = perm
    for (i, p) in perm.enumerated() { inverse[p] = i }
    return inverse
  }
}
