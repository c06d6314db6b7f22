//===--- FuzzONNX.swift - libFuzzer: ONNX protobuf reader + frontend ------===//
//
// Any bytes: parse as a ModelProto, import. Throwing is fine; a trap or a sanitizer
// report is a bug. External data resolves against a folder that does not exist.

import SparrowIR
import SparrowONNX

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
  guard let model = try? Onnx_ModelProto(serializedBytes: bytes) else { return 0 }
  _ = try? importONNX(model: model, path: "/nonexistent-sparrow-fuzz/model.onnx")
  return 0
}
