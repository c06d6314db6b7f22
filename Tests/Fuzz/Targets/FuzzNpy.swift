//===--- FuzzNpy.swift - libFuzzer: .npy reader ---------------------------===//

import SparrowIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
  if let t = try? Npy.decode(bytes, file: "fuzz.npy") {
    _ = try? Npy.encode(t)  // whatever decodes must encode
  }
  return 0
}
