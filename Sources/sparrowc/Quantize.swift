//===--- Quantize.swift - `sparrowc quantize`: static int8 PTQ to QDQ ONNX ---===//
//
// Calibration samples come from a folder of .npy files or from seeded random inputs:
//
//   DIR/                      one subfolder per sample (run in name order);
//     000/image.npy           in each, one .npy per model input, named after the input
//     001/image.npy           (characters outside A-Za-z0-9_.- become `_`, as in `run`'s
//     ...                     output names), of the input's exact dtype and shape
//
// A DIR holding .npy files and no subfolder is one sample. `--calibrate-random N` draws N
// samples like `bench` does (floats uniform in [-1, 1)), seeded by `--seed`.
// The quantization itself lives in Sources/SparrowONNX/Quantizer/.

import ArgumentParser
import Foundation
import SparrowIO
import SparrowIR
import SparrowONNX
import SparrowTargetSupport

extension CalibrationMethod: ExpressibleByArgument {
  public init?(argument: String) { self.init(parsing: argument) }
}

struct Quantize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Static post-training int8 quantization: calibrate, then write QDQ ONNX.",
    discussion: "Weights become int8, symmetric, one scale per output channel (zeros stay zero, so pruned weights keep their pattern); biases int32; activations uint8 with calibrated ranges. --calibrate DIR: one subfolder per sample, each with one <input>.npy per model input.")

  @OptionGroup var model: ModelOptions

  @Option(name: [.short, .customLong("output")], help: "The quantized .onnx file to write.")
  var output: String

  @Option(help: ArgumentHelp("A folder of calibration samples: one subfolder per sample with one <input>.npy per model input.",
                             valueName: "DIR"))
  var calibrate: String?

  @Option(name: .customLong("calibrate-random"), help: ArgumentHelp("Calibrate on N seeded random samples instead.", valueName: "N"))
  var calibrateRandom: Int?

  @Option(help: "The seed of --calibrate-random.")
  var seed: UInt64 = 0

  @Option(help: ArgumentHelp("Activation ranges: minmax, or percentile[:P] (from the (100-P)th to the Pth percentile; P defaults to 99.99).",
                             valueName: "minmax|percentile[:P]"))
  var calibration: CalibrationMethod = .minMax

  func validate() throws {
    guard (calibrate == nil) != (calibrateRandom == nil) else {
      throw ValidationError("give one of --calibrate DIR and --calibrate-random N")
    }
    if let n = calibrateRandom, n < 1 { throw ValidationError("--calibrate-random needs N >= 1") }
  }

  func run() throws {
    guard !model.model.hasSuffix(".sir") else { throw Diagnostic("quantize reads ONNX models only", at: model.model) }
    guard FileManager.default.fileExists(atPath: model.model) else { throw Diagnostic("no such file", at: model.model) }
    var options = ONNXImportOptions()
    options.inputShapes = try model.parsedInputShapes()
    for spec in model.freeze {
      let (name, file) = try splitBinding(spec, flag: "--freeze")
      options.frozenInputs[name] = try Npy.read(path: file)
    }
    var quantizer = try StaticQuantizer(path: model.model, importOptions: options, method: calibration)
    let inputs = quantizer.inputs
    if let dir = calibrate {
      for sample in try calibrationSamples(in: dir) {
        try quantizer.observe(try readSample(sample, inputs: inputs))
      }
    } else {
      var g = SeededGenerator(seed: seed)
      for _ in 0..<calibrateRandom! {
        try quantizer.observe(inputs.map { randomTensor($0.type, using: &g) })
      }
    }
    let bytes = try quantizer.quantizedModel()
    try writeAtomically(bytes, to: output)
    let counts = quantizer.plannedCounts
    print("\(output): \(counts.integerNodes) conv/matmul/gemm quantized (int8 weights), \(counts.activations) activations (uint8, \(calibration)), \(quantizer.sampleCount) calibration samples")
  }

  /// The sample folders of DIR in name order (DIR itself when it holds only .npy files).
  func calibrationSamples(in dir: String) throws -> [String] {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isFolder), isFolder.boolValue,
          let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
      throw Diagnostic("cannot read the calibration folder (--calibrate expects a folder with one subfolder per sample)", at: dir)
    }
    let folders = entries.sorted().map { (dir as NSString).appendingPathComponent($0) }.filter {
      var d: ObjCBool = false
      return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && d.boolValue
    }
    if !folders.isEmpty { return folders }
    guard entries.contains(where: { $0.hasSuffix(".npy") }) else {
      throw Diagnostic("no calibration samples: expected one subfolder per sample holding one <input>.npy per model input", at: dir)
    }
    return [dir]
  }

  /// One sample: `<input>.npy` for every input, checked against its type.
  func readSample(_ folder: String, inputs: [(name: String, type: TensorType)]) throws -> [Tensor] {
    let expected = Set(inputs.map { sanitizedFileName($0.name) + ".npy" })
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    if let stray = files.sorted().first(where: { $0.hasSuffix(".npy") && !expected.contains($0) }) {
      let names = inputs.map { "'\($0.name)'" }.joined(separator: ", ")
      throw Diagnostic("'\(stray)' names no model input; the model's inputs are \(names)", at: folder)
    }
    return try inputs.map { input in
      let path = (folder as NSString).appendingPathComponent(sanitizedFileName(input.name) + ".npy")
      guard FileManager.default.fileExists(atPath: path) else {
        throw Diagnostic("missing calibration input '\(input.name)' (\((path as NSString).lastPathComponent): \(input.type))", at: folder)
      }
      let t = try Npy.read(path: path)
      guard t.type == input.type else {
        throw Diagnostic("input '\(input.name)' has \(t.type), the model expects \(input.type)", at: path)
      }
      return t
    }
  }
}
