//===--- ProfileCounters.swift - per-kernel timestamps for `bench --profile` ---===//
//
// A profiling build (`ModelCodegen(profile: true)`, JIT only) adds a global
//
//   int64_t <name>_profile[kernels + 1];   // CLOCK_MONOTONIC nanoseconds
//
// and `<name>_run` stores a timestamp before the first kernel and after each one, so
// kernel k took profile[k + 1] - profile[k] ns. Ordinary builds emit none of this: no
// global, no clock calls, nothing to pay.

internal import CLLVM

/// The symbol of a model's timestamp array.
func profileSymbol(_ name: String) -> String { "\(name)_profile" }

/// Emits the timestamp array and the stores into it.
struct ProfileClock {
  private let cg: CodegenModule
  private let array: Value
  private let arrayType: LType
  private let timespec: Value
  private let timespecType: LType

  init(_ cg: CodegenModule, symbol: String, slots: Int) {
    self.cg = cg
    arrayType = LLVMArrayType(cg.i64, UInt32(slots))
    array = LLVMAddGlobal(cg.ref, arrayType, symbol)
    LLVMSetInitializer(array, LLVMConstNull(arrayType))
    var fields: [LType?] = [cg.i64, cg.i64]
    timespecType = LLVMStructTypeInContext(cg.context, &fields, 2, 0)
    timespec = cg.entryAlloca(timespecType)
  }

  /// profile[slot] = clock_gettime(CLOCK_MONOTONIC) in ns.
  func record(slot: Int) {
    let pointer = LLVMPointerType(timespecType, 0)!
    let (clock, clockType) = cg.externalFunction("clock_gettime", params: [cg.i32, pointer], returns: cg.i32)
    var args: [Value?] = [cg.int32(1), timespec]  // CLOCK_MONOTONIC
    LLVMBuildCall2(cg.builder, clockType, clock, &args, 2, "")
    func field(_ i: UInt32) -> Value {
      LLVMBuildLoad2(cg.builder, cg.i64, LLVMBuildStructGEP2(cg.builder, timespecType, timespec, i, ""), "")
    }
    let ns = cg.add(cg.mul(field(0), 1_000_000_000), field(1))
    var idx: [Value?] = [cg.int(0), cg.int(slot)]
    let at = LLVMBuildInBoundsGEP2(cg.builder, arrayType, array, &idx, 2, "")
    LLVMBuildStore(cg.builder, ns, at)
  }
}
