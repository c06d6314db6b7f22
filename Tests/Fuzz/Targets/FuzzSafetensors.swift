//===--- FuzzSafetensors.swift - libFuzzer: safetensors reader ------------===//

import SparrowIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
  if let tensors = try? Safetensors.decode(bytes, file: "fuzz.safetensors") {
    _ = Safetensors.encode(tensors)
  }
  return 0
}
