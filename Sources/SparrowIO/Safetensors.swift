//===--- Safetensors.swift - the weights sidecar format -----------------===//
//
//   <u64 little-endian header length N> <N bytes of JSON> <data>
//   {"fc.weight":{"dtype":"F32","shape":[4,64],"data_offsets":[0,1024]}, ...}
//
// Offsets are relative to the data section. Written deterministically: tensors in the
// given order, packed back to back, no metadata, header padded with spaces to 8 bytes.

import SparrowIR

public enum Safetensors {
  static let dtypes: [(String, ElementType)] = [
    ("F32", .f32), ("F16", .f16), ("BF16", .bf16), ("F64", .f64), ("I64", .i64), ("I32", .i32),
    ("I16", .i16), ("I8", .i8), ("U64", .u64), ("U32", .u32), ("U16", .u16), ("U8", .u8),
    ("BOOL", .bool),
  ]

  /// All tensors of a safetensors file, by name.
  public static func read(path: String) throws -> [String: Tensor] {
    Dictionary(try decode(try readFileBytes(path), file: path), uniquingKeysWith: { a, _ in a })
  }

  /// Writes `tensors` in the given order.
  public static func write(_ tensors: [(name: String, tensor: Tensor)], path: String) throws {
    try writeAtomically(encode(tensors), to: path)
  }

  /// The tensors of a whole safetensors file, in data order; `file` names it in diagnostics.
  public static func decode(_ bytes: [UInt8], file: String = "<safetensors>") throws -> [(name: String, tensor: Tensor)] {
    func fail(_ message: String) -> Diagnostic { Diagnostic(message, at: file) }
    guard bytes.count >= 8 else { throw fail("not a safetensors file (too short)") }
    let headerLength = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
    guard headerLength <= UInt64(bytes.count - 8) else {
      throw fail("header length \(headerLength) exceeds the file size \(bytes.count)")
    }
    let dataStart = 8 + Int(headerLength)
    let dataSize = bytes.count - dataStart
    let header: JSONValue
    do {
      header = try JSONValue.parse(bytes[8..<dataStart])
    } catch let d as Diagnostic {
      throw fail("bad safetensors header: \(d.message)")
    }
    guard case let .object(entries) = header else { throw fail("bad safetensors header: not a JSON object") }
    var out: [(name: String, tensor: Tensor, begin: Int)] = []
    var seen: Set<String> = []
    for (name, entry) in entries where name != "__metadata__" {
      guard seen.insert(name).inserted else { throw fail("tensor '\(name)' appears twice") }
      guard case let .object(fields) = entry else { throw fail("tensor '\(name)': entry is not an object") }
      func field(_ key: String) -> JSONValue? { fields.first { $0.0 == key }?.1 }
      guard case let .string(dtype)? = field("dtype"),
            let element = dtypes.first(where: { $0.0 == dtype })?.1 else {
        throw fail("tensor '\(name)': missing or unsupported dtype (supported: \(dtypes.map(\.0).joined(separator: " ")))")
      }
      guard case let .array(dims)? = field("shape"),
            let shape = intArray(dims), let count = checkedElementCount(shape),
            case (let byteCount, false) = count.multipliedReportingOverflow(by: element.byteSize) else {
        throw fail("tensor '\(name)': bad shape")
      }
      guard case let .array(offsetValues)? = field("data_offsets"), let offsets = intArray(offsetValues),
            offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
        throw fail("tensor '\(name)': data_offsets missing or outside the \(dataSize)-byte data section")
      }
      guard offsets[1] - offsets[0] == byteCount else {
        throw fail("tensor '\(name)': \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtype) (needs \(byteCount))")
      }
      let data = Array(bytes[(dataStart + offsets[0])..<(dataStart + offsets[1])])
      out.append((name, Tensor(type: TensorType(element, shape), bytes: data), offsets[0]))
    }
    return out.sorted { $0.begin < $1.begin }.map { ($0.name, $0.tensor) }
  }

  /// The bytes of a safetensors file holding `tensors` in order.
  public static func encode(_ tensors: [(name: String, tensor: Tensor)]) -> [UInt8] {
    var items: [String] = []
    var offset = 0
    for (name, tensor) in tensors {
      let dtype = dtypes.first { $0.1 == tensor.element }!.0
      let end = offset + tensor.bytes.count
      items.append("\(jsonQuoted(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    var header = Array(("{" + items.joined(separator: ",") + "}").utf8)
    header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
    var out = (0..<8).map { UInt8((UInt64(header.count) >> (8 * UInt64($0))) & 0xff) }
    out += header
    out.reserveCapacity(out.count + offset)
    for (_, tensor) in tensors { out += tensor.bytes }
    return out
  }

  private static func intArray(_ values: [JSONValue]) -> [Int]? {
    var out: [Int] = []
    for v in values {
      guard case let .number(n?) = v else { return nil }
      out.append(n)
    }
    return out
  }
}
