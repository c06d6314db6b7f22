//===--- Generators.swift - ops lowered to constants or aliases -----------===//
//
// With static shapes these have no run-time work: Shape/Size are constants; Constant,
// ConstantOfShape, Range and EyeLike make constants (Range/EyeLike need known inputs);
// Identity and inference-mode Dropout alias their input.

import Foundation
import SparrowIR

let generatorConverters: [String: Converter] = {
  var t: [String: Converter] = [:]
  t["Identity"] = { n in [try n.input(0)] }
  t["Dropout"] = { n in
    // Inference mode (or a zero ratio) keeps every element; training mode is random.
    if n.opset >= 12, let training = try n.optionalConstantInput(2, "training mode"), training.ints.contains(where: { $0 != 0 }) {
      let ratio = try n.optionalConstantInput(1, "ratio")?.doubles.first ?? 0.5
      guard ratio == 0 else {
        throw n.error("Dropout in training mode (ratio \(ratio)) is random and not supported; Sparrow compiles for inference")
      }
    }
    let x = try n.input(0)
    guard n.hasOutput(1) else { return [x] }
    let mask = n.constant(Tensor(type: TensorType(.bool, n.shape(x)),
                                 bytes: [UInt8](repeating: 1, count: n.type(x).count)), "mask")
    return [x, mask]
  }
  t["Shape"] = { n in
    let s = n.shape(try n.input(0))
    let rank = s.count
    func bound(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
    let start = bound(try n.int("start", 0)), end = bound(try n.int("end", rank))
    let dims = start < end ? s[start..<end].map { Int64($0) } : []
    return [n.constant(Tensor(shape: [dims.count], scalars: dims), "shape")]
  }
  t["Size"] = { n in [n.constant(Tensor(scalar: Int64(n.type(try n.input(0)).count)), "size")] }
  t["Constant"] = { n in
    if let v = try n.tensor("value") { return [n.constant(v, "value")] }
    if let f = n.attribute("value_float") { return [n.constant(Tensor(scalar: f.f), "value")] }
    if let i = n.attribute("value_int") { return [n.constant(Tensor(scalar: i.i), "value")] }
    if let fs = try n.floats("value_floats") { return [n.constant(Tensor(shape: [fs.count], scalars: fs), "value")] }
    if let a = n.attribute("value_ints") { return [n.constant(Tensor(shape: [a.ints.count], scalars: a.ints), "value")] }
    if n.has("sparse_value") {
      let a = n.attribute("sparse_value")!
      do {
        return [n.constant(try makeTensor(a.sparseTensor, root: n.importer.root, what: "sparse_value"), "value")]
      } catch let d as Diagnostic {
        throw n.error(d.message)
      }
    }
    throw n.error("Constant has no supported value attribute (string values are not supported)")
  }
  t["ConstantOfShape"] = { n in
    let shape = try n.constantInput(0, "shape").ints
    let value = try n.tensor("value") ?? Tensor(shape: [1], scalars: [Float(0)])
    guard value.count == 1 else { throw n.error("ConstantOfShape value must have one element") }
    let count = shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? .max : $0 * $1 })
    guard shape.allSatisfy({ $0 >= 0 }), count <= maxGeneratedBytes / value.element.byteSize else {
      throw n.error("ConstantOfShape shape \(shape) is invalid or makes a constant over \(maxGeneratedBytes >> 20) MiB")
    }
    return [n.constant(filled(TensorType(value.element, shape), with: value), "value")]
  }
  t["Range"] = { n in
    let start = try n.constantInput(0, "start"), limit = try n.constantInput(1, "limit")
    let delta = try n.constantInput(2, "delta")
    guard start.count == 1, limit.count == 1, delta.count == 1 else { throw n.error("Range inputs must be scalars") }
    let type = start.type
    if type.element.isFloat {
      let s = start.double(at: 0), l = limit.double(at: 0), d = delta.double(at: 0)
      let steps = ((l - s) / d).rounded(.up)
      guard d != 0, steps.isFinite, steps <= Double(maxGeneratedElements) else {
        throw n.error("Range needs a non-zero delta and at most \(maxGeneratedElements) elements")
      }
      let count = max(0, Int(steps))
      return [n.constant(fromScalars(TensorType(type.element, [count]), .floats((0..<count).map { s + Double($0) * d })), "range")]
    }
    let s = start.int64(at: 0), l = limit.int64(at: 0), d = delta.int64(at: 0)
    guard d != 0 else { throw n.error("Range delta must be non-zero") }
    let steps = ((Double(l) - Double(s)) / Double(d)).rounded(.up)
    guard steps <= Double(maxGeneratedElements) else { throw n.error("Range of \(steps) elements is too large") }
    let count = max(0, Int(steps))
    return [n.constant(fromScalars(TensorType(type.element, [count]), .ints((0..<count).map { s &+ Int64($0) &* d })), "range")]
  }
  t["EyeLike"] = { n in
    let x = try n.input(0)
    let s = n.shape(x)
    guard s.count == 2, s[0] * s[1] <= maxGeneratedElements else {
      throw n.error("EyeLike needs a rank-2 input of at most \(maxGeneratedElements) elements, got \(s)")
    }
    let element = try n.optionalInt("dtype").map { try elementType(onnxCode: Int32(clamping: $0), what: "EyeLike dtype") }
      ?? n.type(x).element
    let k = try n.int("k", 0)
    var v = [Int64](repeating: 0, count: s[0] * s[1])
    for i in 0..<s[0] where i + k >= 0 && i + k < s[1] { v[i * s[1] + i + k] = 1 }
    return [n.constant(fromScalars(TensorType(element, s), .ints(v)), "eye")]
  }
  let windows: [(String, [Double])] = [("HannWindow", [0.5, 0.5]), ("HammingWindow", [25.0 / 46, 21.0 / 46]),
                                        ("BlackmanWindow", [0.42, 0.5, 0.08])]
  for (name, a) in windows {
    t[name] = { n in
      let size = try n.constantInput(0, "size")
      guard size.count == 1, size.ints[0] >= 0, size.ints[0] <= (1 << 24) else { throw n.error("\(n.opType) size must be a small scalar") }
      let count = size.ints[0]
      let element = try elementType(onnxCode: Int32(clamping: try n.int("output_datatype", 1)), what: "\(n.opType) output_datatype")
      let periodic = try n.int("periodic", 1) != 0
      let denominator = Double(periodic ? count : count - 1)
      let w = (0..<count).map { i -> Double in
        let x = 2 * Double.pi * Double(i) / denominator
        return a[0] - a[1] * cos(x) + (a.count > 2 ? a[2] * cos(2 * x) : 0)
      }
      return [n.constant(fromScalars(TensorType(element, [count]), .floats(w)), "window")]
    }
  }
  return t
}()

/// The largest constant a generator op may make (a few bytes of a hostile file can ask
/// for any size, and the memory estimate of --max-memory only runs after the import).
let maxGeneratedBytes = 1 << 30
/// Elements of Range and EyeLike, which build 8-byte scalars first.
let maxGeneratedElements = maxGeneratedBytes / 8

/// A tensor of `type` with every element equal to the one element of `value`.
func filled(_ type: TensorType, with value: Tensor) -> Tensor {
  if value.bytes.allSatisfy({ $0 == 0 }) { return Tensor(zeros: type) }
  switch value.bytes.count {
  case 1: return Tensor(type: type, bytes: [UInt8](repeating: value.bytes[0], count: type.count))
  case 4:
    let v = value.bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    let words = [UInt32](repeating: v, count: type.count)
    return Tensor(type: type, bytes: words.withUnsafeBytes { [UInt8]($0) })
  default:
    var bytes: [UInt8] = []
    bytes.reserveCapacity(type.byteCount)
    for _ in 0..<type.count { bytes.append(contentsOf: value.bytes) }
    return Tensor(type: type, bytes: bytes)
  }
}
