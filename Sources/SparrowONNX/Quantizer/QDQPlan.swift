//===--- QDQPlan.swift - which tensors of an ONNX graph get QDQ pairs ---------===//
//
//   x -> Conv(W, B) -> c -> Relu -> r -> MaxPool -> m -> Conv ...
//   =>  x -> Q/DQ -> Conv(DQ(W int8), DQ(B int32)) -> r -> Q/DQ -> MaxPool -> m -> Q/DQ -> Conv ...
//
// The placement onnxruntime's `quantize_static` (QDQ format) writes, kept to what
// `fold-qdq` turns into integer ops (Passes/Quantization/FoldQDQ.swift):
// - integer nodes: Conv with a rank-4 constant weight, MatMul with a rank-2 constant
//   weight as B, Gemm with a constant B (alpha = beta = 1, no transA). Their activation
//   input and their output get a Q/DQ pair; the weight becomes int8 per output channel
//   (Conv: axis 0; MatMul: axis 1, N; Gemm: the N axis, 0 under transB); a constant 1-D
//   bias becomes int32. MatMuls of two activations (attention scores) stay float;
// - a Relu that is the only user of an integer node's (or a quantized Add's) output is
//   removed, the producer writing the Relu's output (onnxruntime does the same): the
//   output's range starts at 0, so its zero point is 0 and saturation is the ReLU;
// - residual Add: when one operand is an integer node's output and both are quantized,
//   the sum is quantized too (fold-qdq folds it into the integer node's epilogue);
// - movement (MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Concat) of
//   quantized values: the result is quantized with the same scale and zero point as its
//   operands (one group, calibrated over the union of their ranges), so fold-qdq moves
//   the integers.
// Everything else stays float. Tensors are named as in the graph; the plan refers to
// nodes by their index in `graph.node`.

import SparrowIR

struct QDQPlan {
  /// A Conv, MatMul or Gemm whose weight (and bias) become integer constants.
  struct IntegerNode {
    let node: Int
    let weight: String
    /// The weight's output-channel axis.
    let axis: Int
    /// A constant 1-D bias quantized to int32 (Conv's input 2, Gemm's C).
    let bias: String?
  }

  private(set) var integerNodes: [IntegerNode] = []
  /// Relu nodes removed; their producer writes their output instead.
  private(set) var removedNodes: Set<Int> = []
  /// Producer outputs renamed by a Relu removal: old name -> the Relu's output.
  private(set) var renamedOutputs: [String: String] = [:]
  /// Activations that get a Q/DQ pair, in the order the plan found them.
  private(set) var activations: [String] = []
  /// The node indices in a topological order.
  let order: [Int]
  private var activationSet: Set<String> = []
  private var parent: [String: String] = [:]

  static let movementOps: Set<String> = ["MaxPool", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze"]

  init(graph: Onnx_GraphProto, file: String) throws {
    let initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let outputs = Set(graph.output.map(\.name))
    var consumers: [String: [Int]] = [:]
    for (i, n) in graph.node.enumerated() {
      for name in Set(n.input) where !name.isEmpty { consumers[name, default: []].append(i) }
    }
    order = try topologicalOrder(graph, file: file)

    /// A float initializer of `rank` (a constant even when also listed as a graph input, as
    /// the importer reads it).
    func constant(_ name: String, rank: Int) -> Onnx_TensorProto? {
      guard let t = initializers[name], t.dataType == 1, t.dims.count == rank else { return nil }
      return t
    }
    func isActivation(_ name: String) -> Bool { !name.isEmpty && initializers[name] == nil }

    /// The integer node `n` would become, if it fits fold-qdq.
    func integerNode(_ i: Int) -> IntegerNode? {
      let n = graph.node[i]
      guard n.domain.isEmpty || n.domain == "ai.onnx", n.input.count >= 2, n.output.count == 1,
            isActivation(n.input[0]) else { return nil }
      let bias = n.input.count > 2 && !n.input[2].isEmpty ? n.input[2] : nil
      switch n.opType {
      case "Conv":
        guard constant(n.input[1], rank: 4) != nil else { return nil }
        return IntegerNode(node: i, weight: n.input[1], axis: 0, bias: bias.flatMap { constant($0, rank: 1) != nil ? $0 : nil })
      case "MatMul":
        guard constant(n.input[1], rank: 2) != nil else { return nil }
        return IntegerNode(node: i, weight: n.input[1], axis: 1, bias: nil)
      case "Gemm":
        let a = Dictionary(n.attribute.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        guard a["alpha"].map({ $0.f == 1 }) ?? true, a["beta"].map({ $0.f == 1 }) ?? true,
              (a["transA"]?.i ?? 0) == 0, let w = constant(n.input[1], rank: 2) else { return nil }
        let axis = (a["transB"]?.i ?? 0) != 0 ? 0 : 1
        let channels = w.dims[axis]
        let b = bias.flatMap { constant($0, rank: 1) }.flatMap { $0.dims[0] == channels ? bias : nil }
        return IntegerNode(node: i, weight: n.input[1], axis: axis, bias: b)
      default:
        return nil
      }
    }

    /// `out`, or the output of the Relu that is its only user (that Relu then removed).
    func throughRelu(_ out: String) -> String {
      guard !outputs.contains(out), let users = consumers[out], users.count == 1 else { return out }
      let relu = graph.node[users[0]]
      guard relu.opType == "Relu", relu.domain.isEmpty, relu.output.count == 1, !relu.output[0].isEmpty,
            relu.input == [out] else { return out }
      removedNodes.insert(users[0])
      renamedOutputs[out] = relu.output[0]
      return relu.output[0]
    }

    var integerOutputs: Set<String> = []
    for i in order {
      guard let node = integerNode(i) else { continue }
      integerNodes.append(node)
      add(graph.node[i].input[0])
      let out = throughRelu(graph.node[i].output[0])
      add(out)
      integerOutputs.insert(out)
    }
    // Residual adds and movement, in dependency order (a quantized result can make a
    // later node's operands quantized).
    for i in order where !removedNodes.contains(i) {
      let n = graph.node[i]
      guard n.domain.isEmpty, let out = n.output.first, !out.isEmpty, !n.input.isEmpty else { continue }
      switch n.opType {
      case "Add":
        guard n.input.count == 2, n.output.count == 1, n.input.allSatisfy(activationSet.contains),
              n.input.contains(where: integerOutputs.contains) else { continue }
        add(throughRelu(out))
      case "Concat":
        guard n.input.allSatisfy(activationSet.contains) else { continue }
        add(out)
        for x in n.input { union(x, out) }
      case _ where Self.movementOps.contains(n.opType):
        guard activationSet.contains(n.input[0]), n.output.dropFirst().allSatisfy(\.isEmpty) else { continue }
        add(out)
        union(n.input[0], out)
      default:
        continue
      }
    }
  }

  func isQuantized(_ tensor: String) -> Bool { activationSet.contains(tensor) }

  /// The tensor whose parameters `tensor` shares (itself unless movement joined it to others).
  func representative(_ tensor: String) -> String {
    var t = tensor
    while let p = parent[t], p != t { t = p }
    return t
  }

  private mutating func add(_ tensor: String) {
    guard activationSet.insert(tensor).inserted else { return }
    activations.append(tensor)
    parent[tensor] = tensor
  }

  private mutating func union(_ a: String, _ b: String) {
    let ra = representative(a), rb = representative(b)
    if ra != rb { parent[rb] = ra }
  }
}

/// Node indices in dependency order (Kahn's algorithm).
private func topologicalOrder(_ graph: Onnx_GraphProto, file: String) throws -> [Int] {
  var producer: [String: Int] = [:]
  for (i, n) in graph.node.enumerated() {
    for o in n.output where !o.isEmpty { producer[o] = i }
  }
  var pending = [Int](repeating: 0, count: graph.node.count)
  var users = [[Int]](repeating: [], count: graph.node.count)
  for (i, n) in graph.node.enumerated() {
    for p in Set(n.input.compactMap { producer[$0] }) {
      pending[i] += 1
      users[p].append(i)
    }
  }
  var ready = pending.indices.filter { pending[$0] == 0 }.reversed().map { $0 }
  var order: [Int] = []
  while let i = ready.popLast() {
    order.append(i)
    for u in users[i].reversed() {
      pending[u] -= 1
      if pending[u] == 0 { ready.append(u) }
    }
  }
  guard order.count == graph.node.count else {
    throw Diagnostic("the graph has a cycle (quantize needs an acyclic graph)", at: file)
  }
  return order
}
