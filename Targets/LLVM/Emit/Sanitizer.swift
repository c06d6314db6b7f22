//===--- Sanitizer.swift - sanitizer instrumentation of generated code ---===//
//
// `sparrowc compile --sanitize thread|address` (hidden; `make test-tsan`, `make test-asan`)
// instruments the generated functions themselves, so the sanitizers see what the
// generated code does, not only the libc calls around it. After the normal O3 pipeline
// every defined function gets the `sanitize_*` attribute, then:
//
//   thread:  function(scalarize-masked-mem-intrin, scalarizer)   masked and vector
//              loads/stores become scalar ones (LLVM 14's tsan pass ignores accesses
//              wider than 16 bytes and masked intrinsics), then tsan-module, function(tsan);
//   address: asan-module (in LLVM 14 it instruments the functions too: whole-vector
//              and masked accesses are checked; redzones around embedded constants).
//
// The library then needs the runtime of the executable that loads it (`cc
// -fsanitize=thread` or `-fsanitize=address`). The code is slow and only for testing.

internal import CLLVM
import Foundation

/// Sanitizers `compile` can instrument generated code for.
public enum Sanitizer: String, CaseIterable, Sendable {
  case thread, address
}

extension CodegenModule {
  /// Instruments the (already optimized) module for `sanitizer`.
  func instrument(for sanitizer: Sanitizer, with machine: TargetMachine) throws {
    let attribute: String, pipeline: String
    var passMachine = machine
    switch sanitizer {
    case .thread:
      enableScalarizedLoadsAndStores
      attribute = "sanitize_thread"
      pipeline = "function(scalarize-masked-mem-intrin,scalarizer),tsan-module,function(tsan)"
      // scalarize-masked-mem-intrin expands only what the target cannot do natively: ask
      // a baseline x86-64 (no AVX) so every masked access is expanded.
      passMachine = try TargetMachine(TargetSpec(triple: machine.spec.triple, cpu: "x86-64", features: ""),
                                      relocation: .pic)
    case .address:
      attribute = "sanitize_address"
      pipeline = "asan-module"
    }
    var f = LLVMGetFirstFunction(ref)
    while let function = f {
      if LLVMCountBasicBlocks(function) > 0 { addEnumAttribute(attribute, to: function) }
      f = LLVMGetNextFunction(function)
    }
    let options = LLVMCreatePassBuilderOptions()
    defer { LLVMDisposePassBuilderOptions(options) }
    try check(LLVMRunPasses(ref, pipeline, passMachine.ref, options), "\(sanitizer) sanitizer instrumentation failed")
  }
}

/// The scalarizer leaves loads and stores whole unless this (global) LLVM option is set;
/// set once per process, only when instrumenting.
private let enableScalarizedLoadsAndStores: Void = {
  let arguments = ["sparrowc", "-scalarize-load-store"]
  var pointers = arguments.map { strdup($0).map { UnsafePointer($0) } }
  LLVMParseCommandLineOptions(Int32(pointers.count), &pointers, nil)
}()
