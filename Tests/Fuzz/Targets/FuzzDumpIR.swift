//===--- FuzzDumpIR.swift - libFuzzer: the whole dump-ir path -------------===//
//
// ONNX bytes -> import -> verify -> the -O2 pipeline -> verify -> print. What
// `sparrowc dump-ir model.onnx` does, minus the file system.

import SparrowIR
import SparrowONNX
import SparrowPasses

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDumpIR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
  guard let model = try? Onnx_ModelProto(serializedBytes: bytes),
        var module = try? importONNX(model: model, path: "/nonexistent-sparrow-fuzz/model.onnx"),
        (try? verify(module)) != nil else { return 0 }
  guard let passes = try? Pipelines.passes(for: .O2) else { return 0 }
  let manager = PassManager(passes: passes, options: PassManagerOptions())
  guard (try? manager.run(&module)) != nil else { return 0 }
  _ = printModule(module)
  return 0
}
