//===--- TargetMachine.swift - the host (or named) CPU and the O3 pipeline ---===//
//
// LLVM 14 predates Zen 4 and Zen 5: `LLVMGetHostCPUName` answers "znver3" or "generic"
// there, and neither implies AVX-512. So the CPU defaults to "znver3" plus the host's
// feature string (which does list avx512f ...); `--target-cpu`/`--target-features`
// override both.

internal import CLLVM
import Foundation
import SparrowIR

/// Which machine code is generated for.
public struct TargetSpec: Sendable, Equatable {
  public var triple: String
  public var cpu: String
  public var features: String

  public init(triple: String, cpu: String, features: String) {
    self.triple = triple
    self.cpu = cpu
    self.features = features
  }

  /// The machine this process runs on.
  public static var host: TargetSpec {
    initializeLLVM()
    let triple = takeMessage(LLVMGetDefaultTargetTriple())
    var cpu = takeMessage(LLVMGetHostCPUName())
    if cpu.isEmpty || cpu == "generic" || cpu.hasPrefix("znver") { cpu = "znver3" }
    return TargetSpec(triple: triple, cpu: cpu, features: takeMessage(LLVMGetHostCPUFeatures()))
  }

  /// A host-independent AVX-512 target (`x86-64-v4`): the default for written
  /// artifacts, so the same model gives the same bytes on every build machine.
  public static var portable: TargetSpec {
    TargetSpec(triple: "x86_64-pc-linux-gnu", cpu: "x86-64-v4", features: "")
  }

  /// `--target-cpu`/`--target-features`: "native" (or no CPU with `defaultToHost`) is
  /// the host; another name is that CPU with the features it implies unless `features`
  /// is given.
  public static func resolve(cpu: String?, features: String?, defaultToHost: Bool) -> TargetSpec {
    var spec: TargetSpec
    switch cpu {
    case nil: spec = defaultToHost ? host : portable
    case "native"?: spec = host
    case let name?: spec = TargetSpec(triple: portable.triple, cpu: name, features: "")
    }
    if let features { spec.features = features }
    return spec
  }

  /// Whether the target has 512-bit vectors (else 256-bit AVX2 code is generated).
  public var hasAVX512: Bool {
    if features.contains("+avx512f") { return true }
    if features.contains("-avx512f") { return false }
    return ["x86-64-v4", "skylake-avx512", "cascadelake", "icelake-server", "icelake-client", "cooperlake",
            "tigerlake", "sapphirerapids", "znver4", "znver5"].contains(cpu)
  }

  /// Whether the target has AVX-512 VNNI (`vpdpbusd`: the int8 GEMM's dot product).
  public var hasVNNI: Bool {
    if features.contains("+avx512vnni") { return hasAVX512 }
    if features.contains("-avx512vnni") { return false }
    return ["cascadelake", "cooperlake", "icelake-server", "icelake-client", "tigerlake", "sapphirerapids",
            "znver4", "znver5"].contains(cpu) && hasAVX512
  }
}

/// Registers the X86 target once.
func initializeLLVM() {
  _ = llvmInitialized
}

private let llvmInitialized: Bool = {
  // Debugging aid: `SPARROW_LLVM_OPTIONS="-time-passes"` and the like reach LLVM's own
  // command-line options (never set by Sparrow itself).
  if let options = ProcessInfo.processInfo.environment["SPARROW_LLVM_OPTIONS"] {
    let arguments = ["sparrowc"] + options.split(separator: " ").map(String.init)
    var pointers = arguments.map { UnsafePointer(strdup($0)) }
    LLVMParseCommandLineOptions(Int32(pointers.count), &pointers, nil)
  }
  LLVMInitializeX86TargetInfo()
  LLVMInitializeX86Target()
  LLVMInitializeX86TargetMC()
  LLVMInitializeX86AsmPrinter()
  LLVMInitializeX86AsmParser()
  return true
}()

/// Copies and frees an LLVM-allocated message.
func takeMessage(_ p: UnsafeMutablePointer<CChar>?) -> String {
  guard let p else { return "" }
  defer { LLVMDisposeMessage(p) }
  return String(cString: p)
}

/// Turns an `LLVMErrorRef` into a thrown Diagnostic.
func check(_ error: LLVMErrorRef?, _ what: String) throws {
  guard let error else { return }
  let message = takeMessage(LLVMGetErrorMessage(error))
  throw Diagnostic("\(what): \(message)")
}

/// How generated code is relocated.
enum Relocation {
  /// Position independent (shared libraries).
  case pic
  /// The default (JIT).
  case `default`
}

/// An owned `LLVMTargetMachineRef`.
final class TargetMachine {
  let ref: LLVMTargetMachineRef
  let spec: TargetSpec

  init(_ spec: TargetSpec, relocation: Relocation = .default) throws {
    self.ref = try TargetMachine.create(spec, relocation: relocation)
    self.spec = spec
  }

  /// A new target machine the caller owns (the JIT builder consumes one). `largeCodeModel`:
  /// 64-bit absolute addresses for globals (the JIT maps code and data sections apart,
  /// possibly more than 2 GiB, out of reach of the small model's 32-bit RIP offsets).
  static func create(_ spec: TargetSpec, relocation: Relocation,
                     largeCodeModel: Bool = false) throws -> LLVMTargetMachineRef {
    initializeLLVM()
    var target: LLVMTargetRef?
    var error: UnsafeMutablePointer<CChar>?
    guard LLVMGetTargetFromTriple(spec.triple, &target, &error) == 0, let target else {
      throw Diagnostic("unknown target triple '\(spec.triple)': \(takeMessage(error))")
    }
    let reloc: LLVMRelocMode = relocation == .pic ? LLVMRelocPIC : LLVMRelocDefault
    guard let tm = LLVMCreateTargetMachine(target, spec.triple, spec.cpu, spec.features,
                                           LLVMCodeGenLevelAggressive, reloc,
                                           largeCodeModel ? LLVMCodeModelLarge : LLVMCodeModelDefault)
    else { throw Diagnostic("cannot create a target machine for CPU '\(spec.cpu)'") }
    return tm
  }

  deinit { LLVMDisposeTargetMachine(ref) }

  /// The data layout string modules must carry.
  var dataLayout: String {
    let layout = LLVMCreateTargetDataLayout(ref)
    defer { LLVMDisposeTargetData(layout) }
    return takeMessage(LLVMCopyStringRepOfTargetData(layout))
  }

  /// Sets the module's triple and data layout, verifies it and runs `default<O3>`.
  func optimize(_ module: LLVMModuleRef) throws {
    LLVMSetTarget(module, spec.triple)
    LLVMSetDataLayout(module, dataLayout)
    var error: UnsafeMutablePointer<CChar>?
    if LLVMVerifyModule(module, LLVMReturnStatusAction, &error) != 0 {
      let message = takeMessage(error)
      fatalError("generated LLVM IR does not verify: \(message)")  // printed in release builds too
    }
    LLVMDisposeMessage(error)
    let options = LLVMCreatePassBuilderOptions()
    defer { LLVMDisposePassBuilderOptions(options) }
    LLVMPassBuilderOptionsSetLoopVectorization(options, 1)
    LLVMPassBuilderOptionsSetSLPVectorization(options, 1)
    LLVMPassBuilderOptionsSetLoopUnrolling(options, 1)
    try check(LLVMRunPasses(module, "default<O3>", ref, options), "LLVM optimization failed")
  }
}
