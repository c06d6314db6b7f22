import Foundation
import XCTest
import SparrowIR
import SparrowInterpreter
import SparrowTargetSupport
@testable import SparrowONNX

/// `sparrowc quantize`: the calibration arithmetic, the QDQ placement and the written file.
final class QuantizerTests: XCTestCase {
  // MARK: Calibration math

  func testMinMaxRangeGivesAsymmetricUInt8() {
    var o = RangeObserver(method: .minMax)
    o.observe([0.5, -1, 2])
    o.observe([3, -0.25])
    XCTAssertEqual(o.range, RealRange(-1, 3))
    let q = ActivationQuantization(range: o.range)
    XCTAssertEqual(q.scale, 4 / 255, accuracy: 1e-9)
    XCTAssertEqual(q.zeroPoint, 64)  // round(1 / (4 / 255)) = round(63.75)
    XCTAssertEqual(q.quantize(0), 64)  // real 0 is exact
    XCTAssertEqual(q.quantize(3), 255)
    XCTAssertEqual(q.quantize(-1), 0)
  }

  func testRangeIsWidenedToHoldZero() {
    let positive = ActivationQuantization(range: RealRange(2, 5))
    XCTAssertEqual(positive.zeroPoint, 0)
    XCTAssertEqual(positive.scale, 5 / 255, accuracy: 1e-9)
    let negative = ActivationQuantization(range: RealRange(-5, -2))
    XCTAssertEqual(negative.zeroPoint, 255)
    let empty = ActivationQuantization(range: RealRange(0, 0))
    XCTAssertEqual(empty.scale, 1)
    XCTAssertEqual(empty.zeroPoint, 0)
  }

  func testPercentileDropsOutliersMinMaxKeepsThem() {
    // 0 ... 9999 in two batches, the second reaching beyond the first's histogram range,
    // plus one outlier on each side.
    let first = (0..<5000).map(Float.init), second = (5000..<10000).map(Float.init) + [1e6, -5e5]
    var minMax = RangeObserver(method: .minMax), percentile = RangeObserver(method: .percentile(99.9))
    for batch in [first, second] {
      minMax.observe(batch)
      percentile.observe(batch)
    }
    XCTAssertEqual(minMax.range, RealRange(-5e5, 1e6))
    let r = percentile.range
    // The 0.1th and 99.9th percentiles of 0 ... 9999 are 10 and 9990; the histogram has
    // 2048 bins over a range grown to hold 1e6 and -5e5 (bins about 1,500 wide).
    XCTAssertEqual(r.upper, 9990, accuracy: 1600)
    XCTAssertEqual(r.lower, 10, accuracy: 1600)
    XCTAssertEqual(CalibrationMethod(parsing: "percentile"), .percentile(99.99))
    XCTAssertEqual(CalibrationMethod(parsing: "percentile:99.9"), .percentile(99.9))
    XCTAssertEqual(CalibrationMethod(parsing: "minmax"), .minMax)
    XCTAssertNil(CalibrationMethod(parsing: "percentile:20"))
    XCTAssertNil(CalibrationMethod(parsing: "entropy"))
  }

  func testPercentileOfOneBatchIsClose() {
    var o = RangeObserver(method: .percentile(99))
    o.observe((0...1000).map { Float($0) / 1000 })
    XCTAssertEqual(o.range.lower, 0.01, accuracy: 1e-3)
    XCTAssertEqual(o.range.upper, 0.99, accuracy: 1e-3)
  }

  func testSymmetricPerChannelScales() {
    // Conv weight [2, 1, 1, 2]: one scale per output channel (axis 0).
    let conv = WeightQuantization(weights: [0.5, -1.27, 0.02, 0.005], shape: [2, 1, 1, 2], axis: 0)
    XCTAssertEqual(conv.scales[0], 1.27 / 127, accuracy: 1e-9)
    XCTAssertEqual(conv.scales[1], 0.02 / 127, accuracy: 1e-9)
    XCTAssertEqual(conv.values, [50, -127, 127, 32])  // 0.005 / (0.02 / 127) = 31.75
    // MatMul weight [K = 2, N = 3]: one scale per column (axis 1).
    let matmul = WeightQuantization(weights: [1, -1, 0, 0.25, 4, 0], shape: [2, 3], axis: 1)
    XCTAssertEqual(matmul.scales[0], 1 / 127, accuracy: 1e-9)
    XCTAssertEqual(matmul.scales[1], 4 / 127, accuracy: 1e-9)
    XCTAssertEqual(matmul.scales[2], 1)  // an all-zero channel
    XCTAssertEqual(matmul.values, [127, -32, 0, 32, 127, 0])
  }

  func testPrunedZerosStayZeroAndTwoFourStaysTwoFour() {
    // A [16, 32] weight pruned 2:4 along K (the last axis), quantized per output channel.
    var g = SeededGenerator(seed: 7)
    var w = (0..<(16 * 32)).map { _ in Float.random(in: -1...1, using: &g) }
    for group in stride(from: 0, to: w.count, by: 4) {
      let kept = Set((0..<4).shuffled(using: &g).prefix(2))
      for i in 0..<4 where !kept.contains(i) { w[group + i] = 0 }
    }
    let q = WeightQuantization(weights: w, shape: [16, 32], axis: 0)
    for (real, integer) in zip(w, q.values) where real == 0 { XCTAssertEqual(integer, 0) }
    for group in stride(from: 0, to: w.count, by: 4) {
      XCTAssertLessThanOrEqual(q.values[group..<group + 4].filter { $0 != 0 }.count, 2)
    }
    // Every channel's largest magnitude maps to +-127; dequantized values are close.
    for c in 0..<16 {
      XCTAssertEqual(q.values[(c * 32)..<(c * 32 + 32)].map { abs(Int($0)) }.max(), 127)
      for k in 0..<32 {
        XCTAssertEqual(Float(q.values[c * 32 + k]) * q.scales[c], w[c * 32 + k], accuracy: q.scales[c] / 2 + 1e-7)
      }
    }
  }

  func testInt32BiasInAccumulatorUnits() {
    let (values, scales) = quantizeBias([0.5, -1.25, 0], inputScale: 0.02, weightScales: [0.01, 0.005, 0.5])
    XCTAssertEqual(scales[0], 0.02 * 0.01)
    XCTAssertEqual(scales[1], 0.02 * 0.005)
    XCTAssertEqual(values, [2500, -12500, 0])
    let (huge, _) = quantizeBias([1e9], inputScale: 1e-3, weightScales: [1e-3])
    XCTAssertEqual(huge, [Int32.max])  // saturates
  }

  // MARK: Placement and the written file

  /// x -> conv1 (2:4 pruned) -> relu -> conv2 -> add(conv2, relu) -> max_pool -> m.
  private func residualModel(opset: Int = 13) -> Onnx_ModelProto {
    var rng = LCG(seed: 7)
    var w1 = (0..<(8 * 4 * 9)).map { _ in rng.uniform() * 0.5 }
    // 2:4 along the input channels at each kernel position: channels 1 and 3 of each group pruned.
    for o in 0..<8 { for c in [1, 3] { for p in 0..<9 { w1[(o * 4 + c) * 9 + p] = 0 } } }
    let w2 = (0..<64).map { _ in rng.uniform() * 0.3 }
    let b1 = (0..<8).map { _ in rng.uniform() * 0.1 }
    return Proto.model([
      Proto.node("Conv", ["x", "W1", "B1"], ["c1"], name: "conv1", ["pads": .ints([1, 1, 1, 1])]),
      Proto.node("Relu", ["c1"], ["r1"], name: "relu1"),
      Proto.node("Conv", ["r1", "W2"], ["c2"], name: "conv2"),
      Proto.node("Add", ["c2", "r1"], ["s"], name: "add"),
      Proto.node("MaxPool", ["s"], ["m"], name: "pool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
    ], inputs: [Proto.input("x", [1, 4, 6, 6])], outputs: ["m"],
       initializers: [Proto.floats("W1", [8, 4, 3, 3], w1), Proto.floats("B1", [8], b1),
                      Proto.floats("W2", [8, 8, 1, 1], w2)], opset: opset)
  }

  private func temporaryFile(_ m: Onnx_ModelProto) throws -> String {
    let path = NSTemporaryDirectory() + "/sparrow-quantize-\(UUID().uuidString).onnx"
    let bytes: [UInt8] = try m.serializedBytes()
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  private func samples(_ count: Int) -> [[Tensor]] {
    var rng = LCG(seed: 11)
    return (0..<count).map { _ in [Tensor(shape: [1, 4, 6, 6], scalars: (0..<144).map { _ in rng.uniform() })] }
  }

  func testQDQPlacementWeightsAndBias() throws {
    let path = try temporaryFile(residualModel())
    defer { try? FileManager.default.removeItem(atPath: path) }
    var quantizer = try StaticQuantizer(path: path)
    XCTAssertEqual(quantizer.inputs.map(\.name), ["x"])
    for s in samples(4) { try quantizer.observe(s) }
    let q = try Onnx_ModelProto(serializedBytes: try quantizer.quantizedModel())
    let ops = q.graph.node.map(\.opType)
    XCTAssertFalse(ops.contains("Relu"))  // folded into conv1's uint8 output (zero point 0)
    XCTAssertEqual(q.graph.node.filter { $0.opType == "Conv" }.map(\.name), ["conv1", "conv2"])
    // Q/DQ pairs on x, r1, c2, s and m (m and s share one scale: max_pool moves integers).
    XCTAssertEqual(ops.filter { $0 == "QuantizeLinear" }.count, 5)
    let params = quantizer.activationParameters()
    XCTAssertEqual(params["r1"]?.zeroPoint, 0)
    XCTAssertEqual(params["s"], params["m"])
    let producer = Dictionary(q.graph.node.flatMap { n in n.output.map { ($0, n) } }, uniquingKeysWith: { a, _ in a })
    XCTAssertEqual(producer["m"]?.opType, "DequantizeLinear")  // the graph output keeps its name
    XCTAssertEqual(producer["r1"]?.name, "conv1")
    let inits = Dictionary(q.graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    XCTAssertNil(inits["W1"])
    let w1 = try XCTUnwrap(inits["W1_quantized"])
    XCTAssertEqual(w1.dataType, 3)
    let w1Values = [Int8](unsafeUninitializedCapacity: w1.rawData.count) { buffer, n in
      n = w1.rawData.copyBytes(to: buffer)
    }
    for o in 0..<8 { for c in 0..<4 { for p in 0..<9 {
      let v = w1Values[(o * 4 + c) * 9 + p]
      if c == 1 || c == 3 { XCTAssertEqual(v, 0) }  // still 2:4
    } } }
    let w1Scales = floats(try XCTUnwrap(inits["W1_scale"]))
    XCTAssertEqual(w1Scales.count, 8)
    let weightDQ = try XCTUnwrap(producer[q.graph.node.first { $0.name == "conv1" }!.input[1]])
    XCTAssertEqual(weightDQ.attribute.first { $0.name == "axis" }?.i, 0)
    // The int32 bias: round(b / (sx * sw[c])).
    let b1 = try XCTUnwrap(inits["B1_quantized"])
    XCTAssertEqual(b1.dataType, 6)
    let bias = [Int32](unsafeUninitializedCapacity: 8) { buffer, n in n = b1.rawData.copyBytes(to: buffer) / 4 }
    let realBias = floats(residualModel().graph.initializer.first { $0.name == "B1" }!)
    let sx = try XCTUnwrap(params["x"]).scale
    for c in 0..<8 {
      XCTAssertEqual(bias[c], Int32((Double(realBias[c]) / Double(sx * w1Scales[c])).rounded(.toNearestOrEven)))
    }
  }

  func testQuantizedModelRunsCloseToTheFloatOne() throws {
    let float = residualModel()
    let path = try temporaryFile(float)
    defer { try? FileManager.default.removeItem(atPath: path) }
    var quantizer = try StaticQuantizer(path: path, method: .percentile(99.99))
    let inputs = samples(6)
    for s in inputs { try quantizer.observe(s) }
    let quantized = try Onnx_ModelProto(serializedBytes: try quantizer.quantizedModel())
    let step = quantizer.activationParameters()["m"]!.scale
    let want = try Interpreter.run(try importModel(float), inputs: inputs[0])[0].array(of: Float.self)
    let got = try Interpreter.run(try importModel(quantized), inputs: inputs[0])[0].array(of: Float.self)
    let worst = zip(want, got).map { abs($0 - $1) }.max()!
    XCTAssertLessThan(worst, 4 * step, "max error \(worst), output step \(step)")
  }

  func testOldOpsetAndMissingFileAreLocated() throws {
    let path = try temporaryFile(residualModel(opset: 11))
    defer { try? FileManager.default.removeItem(atPath: path) }
    var quantizer = try StaticQuantizer(path: path)
    try quantizer.observe(samples(1)[0])
    XCTAssertThrowsError(try quantizer.quantizedModel()) { error in
      XCTAssertTrue("\(error)".contains("opset 13"), "\(error)")
      XCTAssertTrue("\(error)".contains(path), "\(error)")
    }
    XCTAssertThrowsError(try StaticQuantizer(path: "/nonexistent/model.onnx")) { error in
      XCTAssertTrue("\(error)".contains("/nonexistent/model.onnx"))
    }
  }

  private func floats(_ t: Onnx_TensorProto) -> [Float] {
    if !t.floatData.isEmpty { return t.floatData }
    return [Float](unsafeUninitializedCapacity: t.rawData.count / 4) { buffer, n in n = t.rawData.copyBytes(to: buffer) / 4 }
  }
}

/// A tiny deterministic generator for test data.
private struct LCG {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  /// Uniform in [-1, 1).
  mutating func uniform() -> Float {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return Float(state >> 40) / Float(1 << 23) - 1
  }
}
