//===--- Origin.swift - where an op came from in the user's model -------===//
//
// Every op carries the names a user can find in their model, through every pass (as MLIR
// carries fused locations): the ONNX nodes it computes and, for weights, the initializers
// its data was made from.
//
//   %c = conv %x, %w, %b {epilogue = ["relu"]} loc(nodes ["conv1", "bn1", "relu1"])
//   %w = constant @conv1.weight_bn loc(nodes ["bn1"], weights ["conv1.weight", "bn1.scale"])
//
// The importer gives each op its node and each initializer constant its name; the rewriter
// passes the origin of the op a pattern rewrites to the ops it inserts, and merges an op
// replaced by another op's results into that op (a fused epilogue lists the activation's
// node too). Passes that make a constant out of others say which (`Rewriter.origin(of:)`).

public struct Origin: Hashable, Sendable {
  /// ONNX node names (unnamed nodes: their first output's name), in order, without repeats.
  public private(set) var nodes: [String] = []
  /// Initializer names, in order, without repeats.
  public private(set) var weights: [String] = []

  public init(nodes: [String] = [], weights: [String] = []) {
    add(nodes: nodes, weights: weights)
  }

  public var isEmpty: Bool { nodes.isEmpty && weights.isEmpty }

  /// Appends the names not yet listed.
  public mutating func add(nodes: [String] = [], weights: [String] = []) {
    for n in nodes where !self.nodes.contains(n) { self.nodes.append(n) }
    for w in weights where !self.weights.contains(w) { self.weights.append(w) }
  }

  public mutating func merge(_ other: Origin) { add(nodes: other.nodes, weights: other.weights) }

  public func merged(with other: Origin) -> Origin {
    var o = self
    o.merge(other)
    return o
  }

  /// `node 'conv1'`, `nodes 'conv1', 'bn1'`, `weight 'fc.w'`, for diagnostics and reports.
  public var summary: String {
    func list(_ word: String, _ names: [String]) -> String? {
      names.isEmpty ? nil : "\(word)\(names.count == 1 ? "" : "s") " + names.map { "'\($0)'" }.joined(separator: ", ")
    }
    return [list("node", nodes), list("weight", weights)].compactMap { $0 }.joined(separator: "; ")
  }
}
