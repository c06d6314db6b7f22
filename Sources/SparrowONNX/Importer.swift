//===--- Importer.swift - walks an ONNX graph and builds the IR -----------===//
//
// Order of work: check the opsets and collect every unsupported node (one DiagnosticList);
// bind graph inputs (static dims, `--input-shape`, first symbolic dim = 1, frozen inputs
// and initializers become constants); convert nodes in dependency order through the
// converter table (`Ops/*.swift`), folding ops whose operands are all known; name values
// after their ONNX names; make graph outputs; drop dead ops and unused constants.

import Foundation
import SparrowIR

/// Converts one ONNX node to IR ops; returns the values of the node's outputs (fewer than
/// the node has when trailing outputs are not produced).
typealias Converter = @Sendable (ONNXNode) throws -> [ValueID]

/// Every supported default-domain op type and its converter.
let converterTable: [String: Converter] = {
  var table: [String: Converter] = [:]
  for family in [elementwiseConverters, reductionConverters, normalizationConverters,
                 gemmConverters, poolConverters, movementConverters, indexingConverters, resizeConverters,
                 recurrentConverters, quantizeConverters, generatorConverters, signalConverters,
                 gridConverters, lossConverters, transformerConverters, newerOpConverters,
                 controlFlowConverters, gridSampleConverters, roiAlignConverters,
                 deformConvConverters, dataDependentConverters, stftConverters] {
    table.merge(family) { a, _ in a }
  }
  return table
}()

/// The highest default-domain opset the converters know.
let maxOpset = 28

final class GraphImporter {
  let model: Onnx_ModelProto
  let file: String
  let root: ExternalDataRoot
  let options: ONNXImportOptions
  let opset: Int
  var builder: Builder
  /// ONNX value name to IR value.
  var values: [String: ValueID] = [:]
  /// Values whose contents are known at import (constants and folded results).
  var known: [ValueID: Tensor] = [:]
  /// Outputs a converter did not produce, with the reason (reported if something uses them).
  var unavailable: [String: String] = [:]
  /// Nodes converted from control-flow bodies so far (bounded: `Ops/ControlFlow.swift`).
  var inlinedNodes = 0

  init(model: Onnx_ModelProto, file: String, root: ExternalDataRoot, options: ONNXImportOptions) throws {
    self.model = model
    self.file = file
    self.root = root
    self.options = options
    var version: Int?
    for o in model.opsetImport where o.domain == "" || o.domain == "ai.onnx" {
      version = Int(clamping: o.version)
    }
    guard let v = version else {
      throw Diagnostic("the model imports no default-domain (ai.onnx) opset", at: file)
    }
    guard v >= 1 && v <= maxOpset else {
      throw Diagnostic("opset \(v) is not supported (Sparrow reads opsets 1 to \(maxOpset))", at: file)
    }
    opset = v
    let name = model.graph.name.isEmpty
      ? ((file as NSString).lastPathComponent as NSString).deletingPathExtension : model.graph.name
    builder = Builder(module: Module(name: sanitizedModuleName(name)), function: Function(name: "main"))
  }

  func run() throws -> Module {
    let graph = model.graph
    try checkSupported(graph.node)
    try bindInputs(graph)
    for node in try dependencyOrder(graph.node) {
      try convert(node)
    }
    var results: [ValueID] = []
    for out in graph.output {
      results.append(try graphOutput(out.name))
    }
    guard !results.isEmpty else { throw Diagnostic("the graph has no outputs", at: file) }
    removeDeadOps(keeping: results)
    var module = builder.finish(results: results)
    module.removeUnusedConstants()
    return module
  }

  /// Lists every node whose op Sparrow cannot convert.
  func checkSupported(_ nodes: [Onnx_NodeProto]) throws {
    var problems: [Diagnostic] = []
    for (i, n) in nodes.enumerated() {
      let domain = n.domain
      if domain != "" && domain != "ai.onnx" {
        let version = model.opsetImport.first { $0.domain == domain }.map { " opset \($0.version)" } ?? ""
        problems.append(Diagnostic("op '\(n.opType)' of domain '\(domain)'\(version) is not supported (only the default ONNX domain is)",
                                   at: "\(file): \(nodeLocation(n, index: i))"))
      } else if converterTable[n.opType] == nil {
        problems.append(Diagnostic("op '\(n.opType)' (opset \(opset)) is not supported",
                                   at: "\(file): \(nodeLocation(n, index: i))"))
      }
    }
    if !problems.isEmpty { throw DiagnosticList(problems) }
  }

  // MARK: - Inputs and initializers

  private func bindInputs(_ graph: Onnx_GraphProto) throws {
    var seen: Set<String> = []
    for (i, t) in graph.initializer.enumerated() {
      let name = t.name.isEmpty ? "initializer\(i)" : t.name
      let what = "initializer '\(name)'"
      do {
        addKnown(name, try makeTensor(t, root: root, what: what))
      } catch let d as Diagnostic {
        throw d.located(file)
      }
      seen.insert(name)
    }
    for (i, s) in graph.sparseInitializer.enumerated() {
      let name = s.values.name
      guard !name.isEmpty else {
        throw Diagnostic("sparse initializer \(i) has no name (its values tensor must be named)", at: file)
      }
      guard !seen.contains(name) else {
        throw Diagnostic("sparse initializer '\(name)' has the name of another initializer", at: file)
      }
      do {
        addKnown(name, try makeTensor(s, root: root, what: "sparse initializer '\(name)'",
                                      maxBytes: options.maxSparseInitializerBytes))
      } catch let d as Diagnostic {
        throw d.located(file)
      }
      seen.insert(name)
    }
    for input in graph.input where !seen.contains(input.name) {
      guard !input.name.isEmpty else { throw Diagnostic("a graph input has no name", at: file) }
      guard values[input.name] == nil else {
        throw Diagnostic("graph input '\(input.name)' is declared twice", at: file)
      }
      if let frozen = options.frozenInputs[input.name] {
        addKnown(input.name, frozen)
        continue
      }
      let type = try inputType(input)
      values[input.name] = builder.addArgument(name: input.name, type: type)
    }
    for name in options.frozenInputs.keys.sorted() where values[name] == nil {
      throw Diagnostic("--freeze \(name): the model has no input named '\(name)'", at: file)
    }
    for name in options.inputShapes.keys.sorted() where !graph.input.contains(where: { $0.name == name }) {
      throw Diagnostic("--input-shape \(name): the model has no input named '\(name)'", at: file)
    }
  }

  /// Adds a constant named after an ONNX value.
  func addKnown(_ name: String, _ t: Tensor) {
    builder.origin = Origin(weights: [name])
    defer { builder.origin = Origin() }
    let v = builder.constant(t, name: name)
    values[name] = v
    known[v] = t
  }

  /// The static type of a graph input: declared dims, `--input-shape`, first unknown dim 1.
  private func inputType(_ input: Onnx_ValueInfoProto) throws -> TensorType {
    let name = input.name
    guard case .tensorType(let tt)? = input.type.value else {
      throw Diagnostic("input '\(name)' is not a tensor (sequence, map and optional inputs are not supported)", at: file)
    }
    let element: ElementType
    do { element = try elementType(onnxCode: tt.elemType, what: "input '\(name)'") } catch let d as Diagnostic {
      throw d.located(file)
    }
    let dims = tt.shape.dim
    if let bound = options.inputShapes[name] {
      if tt.hasShape && dims.count != bound.count {
        throw Diagnostic("--input-shape \(name): the model declares rank \(dims.count), got \(bound.count) dims", at: file)
      }
      for (i, d) in dims.enumerated() {
        if let v = declaredDim(d), v != bound[i] {
          throw Diagnostic("--input-shape \(name): dim \(i) is \(v) in the model, got \(bound[i])", at: file)
        }
      }
      return try checkedInputType(name, element, bound)
    }
    guard tt.hasShape else {
      throw Diagnostic("input '\(name)' has no declared shape; give one with --input-shape \(name)=DxD...", at: file)
    }
    var shape: [Int] = []
    for (i, d) in dims.enumerated() {
      if case .dimValue(let v)? = d.value, v >= 0 {
        shape.append(Int(v))  // a declared 0 is a real empty dim unless --input-shape binds it
      } else if i == 0 {
        shape.append(1)
      } else {
        let what = !d.dimParam.isEmpty ? "symbolic ('\(d.dimParam)')"
          : { if case .dimValue(let v)? = d.value { return "unknown (\(v) in the model)" } else { return "unknown" } }()
        throw Diagnostic("input '\(name)' dim \(i) is \(what); bind it with --input-shape \(name)=\(dims.indices.map { _ in "D" }.joined(separator: "x"))",
                         at: file)
      }
    }
    return try checkedInputType(name, element, shape)
  }

  /// A dim the model fixes, or nil for one `--input-shape` may bind: a `dim_param`, no
  /// value, or a `dim_value` <= 0 (exporters such as paddle2onnx write -1 for "unknown", and
  /// some write 0; onnxruntime accepts any size there too).
  private func declaredDim(_ d: Onnx_TensorShapeProto.Dimension) -> Int? {
    guard case .dimValue(let v)? = d.value, v > 0 else { return nil }
    return Int(v)
  }

  private func checkedInputType(_ name: String, _ element: ElementType, _ shape: [Int]) throws -> TensorType {
    guard let n = checkedProduct(shape), n >= 0, n <= 1 << 32 else {
      throw Diagnostic("input '\(name)' shape \(shape) is too large", at: file)
    }
    return TensorType(element, shape)
  }

  // MARK: - Nodes

  /// The nodes in an order where every input is defined first; names a node caught in a
  /// cycle or reading a value nothing defines.
  func dependencyOrder(_ nodes: [Onnx_NodeProto]) throws -> [Onnx_NodeProto] {
    var producer: [String: Int] = [:]
    for (i, n) in nodes.enumerated() {
      for o in n.output where !o.isEmpty {
        if producer[o] != nil || values[o] != nil {
          throw Diagnostic("value '\(o)' is defined more than once", at: "\(file): \(nodeLocation(n, index: i))")
        }
        producer[o] = i
      }
    }
    var order: [Int] = []
    var state = [UInt8](repeating: 0, count: nodes.count)  // 0 new, 1 visiting, 2 done
    for start in nodes.indices where state[start] == 0 {
      // Iterative depth-first search (models can be deep).
      var stack: [(Int, Int)] = [(start, 0)]
      state[start] = 1
      while let (n, next) = stack.last {
        let inputs = nodes[n].input
        if next < inputs.count {
          stack[stack.count - 1].1 += 1
          let name = inputs[next]
          if name.isEmpty || values[name] != nil { continue }
          guard let p = producer[name] else {
            throw Diagnostic("input '\(name)' is not defined by any node, initializer or graph input",
                             at: "\(file): \(nodeLocation(nodes[n], index: n))")
          }
          if state[p] == 1 {
            throw Diagnostic("the graph has a cycle through value '\(name)'",
                             at: "\(file): \(nodeLocation(nodes[n], index: n))")
          }
          if state[p] == 0 { state[p] = 1; stack.append((p, 0)) }
        } else {
          state[n] = 2
          order.append(n)
          stack.removeLast()
        }
      }
    }
    return order.map { nodes[$0] }
  }

  func convert(_ proto: Onnx_NodeProto) throws {
    let location = "\(file): \(nodeLocation(proto, index: nil))"
    for name in proto.input where !name.isEmpty && values[name] == nil {
      let why = unavailable[name].map { ": \($0)" } ?? ""
      throw Diagnostic("input '\(name)' is not available\(why)", at: location)
    }
    let node = ONNXNode(importer: self, proto: proto, opset: opset, location: location)
    builder.origin = Origin(nodes: [originName(proto)])
    defer { builder.origin = Origin() }
    let firstNew = builder.function.values.count
    let outs: [ValueID]
    do {
      outs = try converterTable[proto.opType]!(node)
    } catch let d as Diagnostic {
      throw d.location == nil ? Diagnostic(d.message, at: location) : d
    }
    for (i, name) in proto.output.enumerated() where !name.isEmpty {
      guard i < outs.count else {
        unavailable[name] = "output \(i) of \(proto.opType) node '\(proto.name)' is not supported (inference only)"
        continue
      }
      let v = outs[i]
      if v.index >= firstNew && !outs[..<i].contains(v) { builder.function.rename(v, to: name) }
      values[name] = v
    }
  }

  /// The IR value for a graph output, with an `identity` where the output would otherwise
  /// be an argument, a constant or a value named differently.
  private func graphOutput(_ name: String) throws -> ValueID {
    guard let v = values[name] else {
      let why = unavailable[name].map { ": \($0)" } ?? ""
      throw Diagnostic("graph output '\(name)' is not produced by the graph\(why)", at: file)
    }
    let f = builder.function
    let isArgument = f.arguments.contains(v)
    let isConstant = known[v] != nil
    if !isArgument && !isConstant && f.name(of: v) == name { return v }
    if !isArgument && f.name(of: v) == name { builder.function.rename(v, to: name + "_value") }
    return try builder.add1(.identity, [v], name: name, location: "\(file): graph output '\(name)'")
  }

  /// Removes ops none of whose results reach `results`.
  private func removeDeadOps(keeping results: [ValueID]) {
    var live = Set(results)
    var keep = [Bool](repeating: false, count: builder.function.ops.count)
    for (i, op) in builder.function.ops.enumerated().reversed() where op.results.contains(where: live.contains) {
      keep[i] = true
      live.formUnion(op.operands)
    }
    builder.function.ops = builder.function.ops.enumerated().filter { keep[$0.offset] }.map(\.element)
  }
}

/// The name an op's origin lists for a node: its name, else its first output's.
func originName(_ n: Onnx_NodeProto) -> String {
  if !n.name.isEmpty { return n.name }
  return n.output.first { !$0.isEmpty } ?? n.opType
}

/// `node 'conv1' (Conv)`, or the node's index when it has no name.
func nodeLocation(_ n: Onnx_NodeProto, index: Int?) -> String {
  if !n.name.isEmpty { return "node '\(n.name)' (\(n.opType))" }
  if let o = n.output.first, !o.isEmpty { return "node producing '\(o)' (\(n.opType))" }
  return index.map { "node #\($0) (\(n.opType))" } ?? "node (\(n.opType))"
}

/// Module names are identifiers in the text IR.
private func sanitizedModuleName(_ s: String) -> String {
  let ok = s.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }
  return ok.isEmpty ? "model" : String(ok)
}
