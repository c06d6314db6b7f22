//===--- StaticQuantizer.swift - calibrate a float ONNX model, write it as QDQ ---===//
//
// Static post-training quantization (`sparrowc quantize`):
//   1. plan the QDQ placement on the ONNX graph (QDQPlan.swift);
//   2. calibrate: the model is imported once more with every planned activation added as
//      a graph output (the cleanest way to see intermediate values: the importer keeps
//      them alive and named, and the reference interpreter runs the graph unchanged),
//      then run on each calibration sample; each activation's observer records its
//      values (CalibrationMath.swift);
//   3. write: activations sharing parameters (movement groups) take the union of their
//      ranges; weights and biases are quantized from the initializers (QDQWriter.swift).
// Activations must be float32; the samples are the imported module's arguments (graph
// inputs not made constant by --freeze), one tensor each, of the argument's type.

import Foundation
import SparrowIR
import SparrowInterpreter
import SwiftProtobuf

public struct StaticQuantizer {
  public let file: String
  public let method: CalibrationMethod
  private let model: Onnx_ModelProto
  private let plan: QDQPlan
  private let calibrationModule: Module
  /// Result index of each planned activation in the calibration module.
  private let resultIndex: [String: Int]
  private var observers: [String: RangeObserver]
  public private(set) var sampleCount = 0

  /// Reads and plans `path`; imports the calibration module (diagnostics name the file).
  public init(path: String, importOptions: ONNXImportOptions = ONNXImportOptions(),
              method: CalibrationMethod = .minMax) throws {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw Diagnostic("cannot read the model file", at: path)
    }
    do {
      model = try Onnx_ModelProto(serializedBytes: data)
    } catch {
      throw Diagnostic("not a valid ONNX model (protobuf parse failed: \(error))", at: path)
    }
    file = path
    self.method = method
    plan = try QDQPlan(graph: model.graph, file: path)
    var probe = model
    var outputs = probe.graph.output.map(\.name)
    for t in plan.activations where !outputs.contains(t) {
      var v = Onnx_ValueInfoProto()
      v.name = t
      probe.graph.output.append(v)
      outputs.append(t)
    }
    calibrationModule = try importONNX(model: probe, path: path, options: importOptions)
    resultIndex = Dictionary(outputs.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    observers = Dictionary(plan.activations.map { ($0, RangeObserver(method: method)) }, uniquingKeysWith: { a, _ in a })
  }

  /// The inputs every calibration sample gives, in order: names and types.
  public var inputs: [(name: String, type: TensorType)] {
    let f = calibrationModule.main
    return f.arguments.map { (f.name(of: $0), f.type(of: $0).dense) }
  }

  /// The number of convs and GEMMs that will run on integers, and of quantized activations.
  public var plannedCounts: (integerNodes: Int, activations: Int) {
    (plan.integerNodes.count, plan.activations.count)
  }

  /// Runs one sample (one tensor per input, in `inputs` order) and records the ranges.
  public mutating func observe(_ sample: [Tensor]) throws {
    let results = try Interpreter.run(calibrationModule, inputs: sample)
    for t in plan.activations {
      let value = results[resultIndex[t]!]
      guard value.element == .f32 else {
        throw Diagnostic("activation '\(t)' is \(value.element); quantize handles float32 models only", at: file)
      }
      value.withUnsafeBuffer(of: Float.self) { observers[t]!.observe($0) }
    }
    sampleCount += 1
  }

  /// The calibrated parameters of each planned activation (shared within a movement group).
  public func activationParameters() -> [String: ActivationQuantization] {
    var groupRange: [String: RealRange] = [:]
    for t in plan.activations {
      let r = observers[t]!.range
      groupRange[plan.representative(t)] = groupRange[plan.representative(t)].map { $0.union(r) } ?? r
    }
    return Dictionary(plan.activations.map { ($0, ActivationQuantization(range: groupRange[plan.representative($0)]!)) },
                      uniquingKeysWith: { a, _ in a })
  }

  /// The QDQ model, serialized. Needs at least one observed sample.
  public func quantizedModel() throws -> [UInt8] {
    guard sampleCount > 0 else { throw Diagnostic("no calibration samples were run", at: file) }
    let folder = (file as NSString).deletingLastPathComponent
    var writer = QDQWriter(plan: plan, parameters: activationParameters(),
                           root: ExternalDataRoot(folder: folder.isEmpty ? "." : folder, modelFile: file), file: file)
    let quantized = try writer.write(model)
    do {
      return try quantized.serializedBytes()
    } catch {
      throw Diagnostic("cannot serialize the quantized model (\(error)); models over 2 GB need external data, which quantize does not write", at: file)
    }
  }
}
