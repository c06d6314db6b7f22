//===--- TextSyntax.swift - spelling of names, strings and numbers in .sir ---===//
//
// Shared by the printer and the parser so both agree on one rule each:
//
//   %x  %fc.weight  %onnx::Conv_3 -> %"onnx::Conv_3"   (bare: [A-Za-z0-9_.$-]+)
//   "a\"b\n"                                         (strings: \" \\ \n \t \r \u{7f})
//   1.5  1e-05  inf  -inf  nan                       (floats: shortest exact repr)

/// Characters a `%value` or `@symbol` name may use without quotes.
func isBareNameByte(_ b: UInt8) -> Bool {
  switch b {
  case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
       UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
       UInt8(ascii: "$"), UInt8(ascii: "-"):
    return true
  default:
    return false
  }
}

/// A name as printed after its sigil: bare when every byte is a bare-name byte,
/// otherwise quoted with escapes (`"a b/c:0"`).
func spellName(_ name: String) -> String {
  if !name.isEmpty && name.utf8.allSatisfy(isBareNameByte) { return name }
  return quoteString(name)
}

/// A double-quoted string literal with `\"`, `\\`, `\n`, `\t`, `\r` and `\u{HEX}` escapes
/// for other control characters; everything else (including non-ASCII) is printed as is.
func quoteString(_ s: String) -> String {
  var out = "\""
  for scalar in s.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\t": out += "\\t"
    case "\r": out += "\\r"
    default:
      if scalar.value < 0x20 || scalar.value == 0x7f {
        out += "\\u{\(String(scalar.value, radix: 16))}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  return out + "\""
}

/// The shortest decimal that parses back to the same Float (`1.5`, `1e-05`, `inf`, `nan`).
/// NaN payloads are not kept; the sign of a NaN is.
func formatFloat(_ v: Float) -> String {
  if v.isNaN { return v.sign == .minus ? "-nan" : "nan" }
  return v.description
}

/// The shortest decimal that parses back to the same Double.
func formatDouble(_ v: Double) -> String {
  if v.isNaN { return v.sign == .minus ? "-nan" : "nan" }
  return v.description
}

/// Parses a float literal as the lexer produced it (`1.5`, `-2`, `1e-05`, `inf`, `-nan`).
func parseFloatLiteral(_ text: String) -> Float? {
  switch text {
  case "nan": return .nan
  case "-nan": return -Float.nan
  default: return Float(text)
  }
}

/// As `parseFloatLiteral`, for f64.
func parseDoubleLiteral(_ text: String) -> Double? {
  switch text {
  case "nan": return .nan
  case "-nan": return -Double.nan
  default: return Double(text)
  }
}

/// The element count of `shape`, or nil when a dimension is negative or the product
/// overflows (so untrusted shapes from files never trap).
public func checkedElementCount(_ shape: [Int]) -> Int? {
  var n = 1
  for d in shape {
    guard d >= 0 else { return nil }
    let (p, overflow) = n.multipliedReportingOverflow(by: d)
    if overflow { return nil }
    n = p
  }
  return n
}
