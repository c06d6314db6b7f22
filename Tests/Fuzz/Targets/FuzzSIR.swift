//===--- FuzzSIR.swift - libFuzzer: .sir text parser + verifier -----------===//

import SparrowIR

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSIR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  guard let module = try? parseModule(text, file: "fuzz.sir") else { return 0 }
  if (try? verify(module)) != nil {
    // A verified module must print and parse back.
    _ = try? parseModule(printModule(module, options: .roundTrip), file: "printed.sir")
  }
  return 0
}
