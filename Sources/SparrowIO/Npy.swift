//===--- Npy.swift - numpy .npy files -----------------------------------===//
//
//   \x93NUMPY <major> <minor> <header length: u16 (v1) or u32 (v2, v3)>
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   (padded to 64 bytes)
//   <row-major little-endian data>
//
// Reads v1-v3 headers with `<f4 <f2 <f8 <i8 <i4 <i2 |i1 |u1 <u2 <u4 <u8 |b1` (byte-order
// prefixes `<`, `=`, `|`; `>` only for one-byte types), C order only. Writes v1 (v2 when
// the header does not fit). Bad files throw a Diagnostic naming the file; nothing traps.

import SparrowIR

public enum Npy {
  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  public static func read(path: String) throws -> Tensor {
    try decode(try readFileBytes(path), file: path)
  }

  public static func write(_ tensor: Tensor, path: String) throws {
    try writeAtomically(try encode(tensor, file: path), to: path)
  }

  /// The tensor in `bytes` (a whole .npy file); `file` names it in diagnostics.
  public static func decode(_ bytes: [UInt8], file: String = "<npy>") throws -> Tensor {
    func fail(_ message: String) -> Diagnostic { Diagnostic(message, at: file) }
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw fail("not a .npy file (bad magic)")
    }
    let major = bytes[6]
    let headerStart: Int, headerLength: Int
    switch major {
    case 1:
      headerStart = 10
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("truncated .npy header") }
      headerStart = 12
      headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
    default:
      throw fail("unsupported .npy version \(major).\(bytes[7])")
    }
    guard headerLength <= bytes.count - headerStart else { throw fail("truncated .npy header") }
    let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
    let header = String(decoding: headerBytes, as: UTF8.self)
    let fields: [String: NpyHeaderValue]
    do {
      fields = try parseHeaderDictionary(header)
    } catch let d as Diagnostic {
      throw fail("bad .npy header: \(d.message)")
    }
    guard case let .string(descr)? = fields["descr"] else { throw fail("bad .npy header: no 'descr'") }
    guard case let .bool(fortran)? = fields["fortran_order"] else {
      throw fail("bad .npy header: no 'fortran_order'")
    }
    guard case let .tuple(shape)? = fields["shape"] else { throw fail("bad .npy header: no 'shape'") }
    guard !fortran else {
      throw fail("Fortran-order arrays are not supported; save with np.ascontiguousarray(a)")
    }
    let element = try elementType(descr: descr, file: file)
    guard let count = checkedElementCount(shape),
          case (let byteCount, false) = count.multipliedReportingOverflow(by: element.byteSize) else {
      throw fail("bad .npy shape \(shape)")
    }
    let dataStart = headerStart + headerLength
    let available = bytes.count - dataStart
    guard available == byteCount else {
      throw fail("data size mismatch: shape \(shape) of \(descr) needs \(byteCount) bytes, the file has \(available)")
    }
    return Tensor(type: TensorType(element, shape), bytes: Array(bytes[dataStart...]))
  }

  /// The .npy bytes of `tensor` (bf16 has no numpy type and is refused).
  public static func encode(_ tensor: Tensor, file: String = "<npy>") throws -> [UInt8] {
    let descr: String
    switch tensor.element {
    case .f32: descr = "<f4"
    case .f16: descr = "<f2"
    case .f64: descr = "<f8"
    case .i64: descr = "<i8"
    case .i32: descr = "<i4"
    case .i16: descr = "<i2"
    case .i8: descr = "|i1"
    case .u64: descr = "<u8"
    case .u32: descr = "<u4"
    case .u16: descr = "<u2"
    case .u8: descr = "|u1"
    case .bool: descr = "|b1"
    case .bf16: throw Diagnostic("numpy has no bfloat16 type; cast to f32 first", at: file)
    }
    let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)"
      : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
    var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
    let v1 = (10 + header.count + 1 + 63) / 64 * 64 - 10 <= 0xffff
    let prefix = v1 ? 10 : 12
    let padded = (prefix + header.count + 1 + 63) / 64 * 64
    header += [UInt8](repeating: UInt8(ascii: " "), count: padded - prefix - header.count - 1)
    header.append(UInt8(ascii: "\n"))
    var out = magic + [v1 ? 1 : 2, 0]
    let length = header.count
    out += v1 ? [UInt8(length & 0xff), UInt8(length >> 8)]
              : (0..<4).map { UInt8((length >> (8 * $0)) & 0xff) }
    return out + header + tensor.bytes
  }

  static func elementType(descr: String, file: String) throws -> ElementType {
    guard let order = descr.first, "<=|>".contains(order) else {
      throw Diagnostic("unsupported .npy dtype '\(descr)'", at: file)
    }
    let code = String(descr.dropFirst())
    let types: [String: ElementType] = [
      "f4": .f32, "f2": .f16, "f8": .f64, "i8": .i64, "i4": .i32, "i2": .i16, "i1": .i8,
      "u1": .u8, "u2": .u16, "u4": .u32, "u8": .u64, "b1": .bool,
    ]
    guard let type = types[code] else {
      throw Diagnostic("unsupported .npy dtype '\(descr)' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)", at: file)
    }
    if order == ">" && type.byteSize > 1 {
      throw Diagnostic("big-endian .npy dtype '\(descr)' is not supported; save with a.astype(a.dtype.newbyteorder('<'))", at: file)
    }
    return type
  }
}
