//===--- Sanitizer.swift - ThreadSanitizer instrumentation of generated code ---===//
//
// `sparrowc compile --sanitize thread` (hidden; `make test-tsan`) instruments the
// generated functions themselves, so races between the threads of the generated
// thread pool are seen, not only the pthread calls. After the normal O3 pipeline:
//
//   every defined function gets `sanitize_thread`;
//   function(scalarize-masked-mem-intrin, scalarizer)   masked and vector loads/stores
//       become scalar ones: LLVM 14's tsan pass ignores accesses wider than 16 bytes;
//   tsan-module, function(tsan)                          __tsan_read4/__tsan_write4 ...
//
// The library then needs the TSan runtime of the executable that loads it
// (`cc -fsanitize=thread`). The code is slow and only for testing.

internal import CLLVM
import Foundation

/// Sanitizers `compile` can instrument generated code for.
public enum Sanitizer: String, CaseIterable, Sendable {
  case thread
}

extension CodegenModule {
  /// Instruments the (already optimized) module for `sanitizer`.
  func instrument(for sanitizer: Sanitizer, with machine: TargetMachine) throws {
    switch sanitizer {
    case .thread:
      enableScalarizedLoadsAndStores
      var f = LLVMGetFirstFunction(ref)
      while let function = f {
        if LLVMCountBasicBlocks(function) > 0 { addEnumAttribute("sanitize_thread", to: function) }
        f = LLVMGetNextFunction(function)
      }
      let options = LLVMCreatePassBuilderOptions()
      defer { LLVMDisposePassBuilderOptions(options) }
      let pipeline = "function(scalarize-masked-mem-intrin,scalarizer),tsan-module,function(tsan)"
      try check(LLVMRunPasses(ref, pipeline, machine.ref, options), "ThreadSanitizer instrumentation failed")
    }
  }
}

/// The scalarizer leaves loads and stores whole unless this (global) LLVM option is set;
/// set once per process, only when instrumenting.
private let enableScalarizedLoadsAndStores: Void = {
  let arguments = ["sparrowc", "-scalarize-load-store"]
  var pointers = arguments.map { strdup($0).map { UnsafePointer($0) } }
  LLVMParseCommandLineOptions(Int32(pointers.count), &pointers, nil)
}()
