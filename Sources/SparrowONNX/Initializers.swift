//===--- Initializers.swift - ONNX TensorProto to Tensor ------------------===//
//
// Reads every storage form of a TensorProto: raw_data, the typed repeated fields
// (float_data, int32_data for narrow integers/bool/half bits, int64_data, double_data,
// uint64_data) and external data files. External data is read only from inside the
// model's folder: absolute paths, `..` components and symlinks leading out are rejected,
// and offset/length are checked against the file size. Sparse initializers:
// SparseInitializers.swift.

import Foundation
import SparrowIR

/// Where a tensor's external data may be read from.
struct ExternalDataRoot {
  /// The model's folder.
  let folder: String
  /// The model file, for messages.
  let modelFile: String
}

/// The IR element type of an ONNX data type code; throws for types Sparrow cannot hold.
func elementType(onnxCode code: Int32, what: String) throws -> ElementType {
  guard let t = ElementType(onnxCode: code) else {
    let names: [Int32: String] = [0: "undefined", 8: "string", 14: "complex64", 15: "complex128",
                                  17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
                                  20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1"]
    throw Diagnostic("\(what) has element type \(names[code] ?? "code \(code)"), which Sparrow does not support")
  }
  return t
}

/// Converts a TensorProto to a dense tensor.
func makeTensor(_ p: Onnx_TensorProto, root: ExternalDataRoot, what: String) throws -> Tensor {
  let element = try elementType(onnxCode: p.dataType, what: what)
  guard p.dims.allSatisfy({ $0 >= 0 && $0 < (1 << 40) }) else {
    throw Diagnostic("\(what) has invalid dims \(p.dims)")
  }
  let shape = p.dims.map { Int($0) }
  var count = 1
  for d in shape {
    let (c, overflow) = count.multipliedReportingOverflow(by: d)
    guard !overflow, c <= (1 << 34) else { throw Diagnostic("\(what) is too large (\(shape))") }
    count = c
  }
  let type = TensorType(element, shape)

  if p.dataLocation == .external {
    let bytes = try readExternalData(p, root: root, byteCount: type.byteCount, what: what)
    return Tensor(type: type, bytes: bytes)
  }
  if p.hasRawData {
    guard p.rawData.count == type.byteCount else {
      throw Diagnostic("\(what): raw_data has \(p.rawData.count) bytes, \(type) needs \(type.byteCount)")
    }
    return Tensor(type: type, bytes: [UInt8](p.rawData))
  }
  func check(_ n: Int, _ field: String) throws {
    guard n == count else { throw Diagnostic("\(what): \(field) has \(n) values, \(type) needs \(count)") }
  }
  switch element {
  case .f32 where !p.floatData.isEmpty:
    try check(p.floatData.count, "float_data")
    return Tensor(shape: shape, scalars: p.floatData)
  case .i64 where !p.int64Data.isEmpty:
    try check(p.int64Data.count, "int64_data")
    return Tensor(shape: shape, scalars: p.int64Data)
  case .f64 where !p.doubleData.isEmpty:
    try check(p.doubleData.count, "double_data")
    return Tensor(shape: shape, scalars: p.doubleData)
  case .u64 where !p.uint64Data.isEmpty:
    try check(p.uint64Data.count, "uint64_data")
    return Tensor(shape: shape, scalars: p.uint64Data)
  case .u32 where !p.uint64Data.isEmpty:
    try check(p.uint64Data.count, "uint64_data")
    return Tensor(shape: shape, scalars: p.uint64Data.map { UInt32(truncatingIfNeeded: $0) })
  case .i32, .i16, .i8, .u8, .u16, .bool, .f16, .bf16:
    if p.int32Data.isEmpty { break }
    try check(p.int32Data.count, "int32_data")
    return narrowTensor(type, p.int32Data)
  default: break
  }
  guard count == 0 else { throw Diagnostic("\(what) has no data for \(type)") }
  return Tensor(zeros: type)
}

/// Packs int32_data values into a tensor of a narrow element type (bit patterns for halves).
private func narrowTensor(_ type: TensorType, _ v: [Int32]) -> Tensor {
  switch type.element {
  case .i32: return Tensor(shape: type.shape, scalars: v)
  case .i16: return Tensor(shape: type.shape, scalars: v.map { Int16(truncatingIfNeeded: $0) })
  case .i8: return Tensor(shape: type.shape, scalars: v.map { Int8(truncatingIfNeeded: $0) })
  case .u8: return Tensor(shape: type.shape, scalars: v.map { UInt8(truncatingIfNeeded: $0) })
  case .bool: return Tensor(type: type, bytes: v.map { $0 != 0 ? 1 : 0 })
  case .u16, .f16, .bf16:
    let bits = v.map { UInt16(truncatingIfNeeded: $0) }
    return Tensor(type: type, bytes: bits.withUnsafeBytes { [UInt8]($0) })
  default: preconditionFailure("not a narrow type: \(type)")
  }
}

/// Reads `byteCount` bytes of external data, refusing any file outside the model's folder.
private func readExternalData(_ p: Onnx_TensorProto, root: ExternalDataRoot, byteCount: Int,
                              what: String) throws -> [UInt8] {
  var info: [String: String] = [:]
  for e in p.externalData { info[e.key] = e.value }
  guard let location = info["location"], !location.isEmpty else {
    throw Diagnostic("\(what): external data without a location")
  }
  let components = location.split(separator: "/", omittingEmptySubsequences: true)
  guard !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0"),
        !components.contains(where: { $0 == ".." }) else {
    throw Diagnostic("\(what): external data location '\(location)' must be a relative path inside the model's folder")
  }
  let folder = URL(fileURLWithPath: root.folder).resolvingSymlinksInPath().path
  let target = URL(fileURLWithPath: (root.folder as NSString).appendingPathComponent(location))
    .resolvingSymlinksInPath().path
  guard target.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else {
    throw Diagnostic("\(what): external data location '\(location)' leads outside the model's folder")
  }
  func number(_ key: String) throws -> Int? {
    guard let s = info[key] else { return nil }
    guard let n = Int(s), n >= 0 else { throw Diagnostic("\(what): external data \(key) '\(s)' is not a size") }
    return n
  }
  let offset = try number("offset") ?? 0
  let length = try number("length") ?? byteCount
  guard length == byteCount else {
    throw Diagnostic("\(what): external data length \(length) does not match \(byteCount) bytes of the tensor")
  }
  guard let attributes = try? FileManager.default.attributesOfItem(atPath: target),
        (attributes[.type] as? FileAttributeType) == .typeRegular,
        let size = (attributes[.size] as? NSNumber)?.intValue else {
    throw Diagnostic("\(what): external data file '\(location)' not found next to the model")
  }
  guard offset <= size, length <= size - offset else {
    throw Diagnostic("\(what): external data '\(location)' has \(size) bytes; offset \(offset) + length \(length) exceeds it")
  }
  guard let handle = FileHandle(forReadingAtPath: target) else {
    throw Diagnostic("\(what): cannot open external data file '\(location)'")
  }
  defer { try? handle.close() }
  do {
    try handle.seek(toOffset: UInt64(offset))
    let data = try handle.read(upToCount: length) ?? Data()
    guard data.count == length else { throw Diagnostic("\(what): external data '\(location)' is truncated") }
    return [UInt8](data)
  } catch let d as Diagnostic {
    throw d
  } catch {
    throw Diagnostic("\(what): cannot read external data '\(location)': \(error)")
  }
}
