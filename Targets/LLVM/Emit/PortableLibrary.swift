//===--- PortableLibrary.swift - one artifact with AVX2 and AVX-512 kernels ---===//
//
// The default artifact runs on every x86-64-v3 CPU and runs AVX-512 code where the CPU
// has it (oneDNN and XNNPACK pick ISA variants at run time the same way):
//
//   model ── ModelCodegen (8 lanes) ── O3 for x86-64-v3 ──┐ exported functions renamed
//         └─ ModelCodegen (16 lanes) ─ O3 for x86-64-v4 ──┤ NAME_run.avx2 / .avx512,
//                                                          │ made internal, modules linked
//   NAME_run(...)  ──  isa() == avx512 ? NAME_run.avx512(...) : NAME_run.avx2(...)
//
// Every function of a variant carries its `target-cpu` attribute, so one object holds
// both instruction sets; the dispatchers themselves are baseline x86-64. `isa()` runs
// CPUID and XGETBV once (AVX-512 F, CD, BW, DQ, VL and the OS saving zmm state) and
// caches the answer; `SPARROW_ISA=avx2` (or `avx512`) in the environment overrides it,
// for tests and for comparing the variants on one machine. Each variant embeds its own
// packed weights (their panel layout follows the vector width), so the artifact is about
// twice the size of a pinned one. The bytes depend only on the model.

internal import CLLVM
import Foundation
import SparrowIO
import SparrowIR

/// The instruction-set variants of a portable artifact.
enum KernelVariant: String, CaseIterable {
  case avx2, avx512

  var target: TargetSpec {
    TargetSpec(triple: TargetSpec.portable.triple, cpu: self == .avx2 ? "x86-64-v3" : "x86-64-v4", features: "")
  }
}

/// Writes `module` as an artifact carrying every `KernelVariant`, chosen by CPUID on first
/// use (and, when `header` is given, its C header, the same as a pinned artifact's).
public func compilePortableModel(_ module: Module, to path: String, kind: ArtifactKind, name: String = "net",
                                 header: String? = nil) throws {
  guard isValidLibraryName(name) else { throw Diagnostic("--name '\(name)' is not a C identifier") }
  let phases = PhaseTimer()
  var linked: CodegenModule?
  var exported: [String] = []
  var renamedByVariant: [(KernelVariant, [String])] = []
  for variant in KernelVariant.allCases {
    let cg = CodegenModule(name: name, lanes: variant.target.hasAVX512 ? 16 : 8, context: linked?.context)
    var codegen = ModelCodegen(cg, module: module, name: name)
    try codegen.emit()
    let renamed = cg.renameExternals(variant: variant)
    exported = renamed.filter { $0.hasPrefix(name + "_") }
    try TargetMachine(variant.target, relocation: .pic).optimize(cg.ref)
    renamedByVariant.append((variant, renamed))
    if let destination = linked {
      guard LLVMLinkModules2(destination.ref, cg.releaseModule()) == 0 else {
        throw Diagnostic("linking the \(variant.rawValue) kernels failed")
      }
    } else {
      linked = cg
    }
  }
  guard let cg = linked else { preconditionFailure("no variants") }
  for (variant, renamed) in renamedByVariant { cg.internalize(renamed, variant: variant) }
  cg.emitDispatchers(exported, name: name)
  phases.mark("IR construction and optimization")
  let baseline = TargetSpec(triple: TargetSpec.portable.triple, cpu: "x86-64", features: "")
  try cg.write(kind, to: path, with: TargetMachine(baseline, relocation: .pic), optimized: true, phases: phases)
  if let header { try writeAtomically(Array(cHeader(name: name, function: module.main).utf8), to: header) }
}

extension CodegenModule {
  /// Gives every defined function the variant's `target-cpu` and suffixes every external
  /// definition's name (`NAME_run` -> `NAME_run.avx2`, kernels too, so the variants link
  /// side by side); returns the original names.
  fileprivate func renameExternals(variant: KernelVariant) -> [String] {
    var renamed: [String] = []
    func rename(_ v: Value) {
      guard LLVMIsDeclaration(v) == 0, LLVMGetLinkage(v) == LLVMExternalLinkage else { return }
      var length = 0
      let name = String(cString: LLVMGetValueName2(v, &length))
      renamed.append(name)
      let suffixed = "\(name).\(variant.rawValue)"
      LLVMSetValueName2(v, suffixed, suffixed.utf8.count)
    }
    var next = LLVMGetFirstFunction(ref)
    while let f = next {
      next = LLVMGetNextFunction(f)
      guard LLVMIsDeclaration(f) == 0 else { continue }
      let key = "target-cpu", value = variant.target.cpu
      LLVMAddAttributeAtIndex(f, functionIndex, LLVMCreateStringAttribute(
        context, key, UInt32(key.utf8.count), value, UInt32(value.utf8.count)))
      rename(f)
    }
    var global = LLVMGetFirstGlobal(ref)
    while let g = global {
      global = LLVMGetNextGlobal(g)
      rename(g)
    }
    return renamed
  }

  /// After optimization and linking (both drop unused internal functions): the renamed
  /// definitions become internal, so only the dispatchers are visible.
  fileprivate func internalize(_ renamed: [String], variant: KernelVariant) {
    for name in renamed.map({ "\($0).\(variant.rawValue)" }) {
      if let v = LLVMGetNamedFunction(ref, name) ?? LLVMGetNamedGlobal(ref, name) { LLVMSetLinkage(v, LLVMInternalLinkage) }
    }
  }

  /// `NAME_x(args)` for every export: the AVX-512 variant's when `isa()` says so, else
  /// the AVX2 one's; `NAME_workspace_size` answers the larger of the two.
  fileprivate func emitDispatchers(_ exported: [String], name: String) {
    let useAVX512 = emitISACheck(name: name)
    for export in exported {
      let variants = KernelVariant.allCases.map { LLVMGetNamedFunction(ref, "\(export).\($0.rawValue)")! }
      let type = LLVMGlobalGetValueType(variants[0])!
      let f = LLVMAddFunction(ref, export, type)!
      startBlock("entry", in: f)
      let args = (0..<Int(LLVMCountParams(f))).map { param(f, $0) }
      func forward(to v: Value) -> Value {
        var a = args.map { Optional($0) }
        return LLVMBuildCall2(builder, type, v, &a, UInt32(a.count), "")!
      }
      let returnsVoid = LLVMGetTypeKind(LLVMGetReturnType(type)) == LLVMVoidTypeKind
      if export == "\(name)_workspace_size" {
        let (a, b) = (forward(to: variants[0]), forward(to: variants[1]))
        ret(LLVMBuildSelect(builder, icmp(LLVMIntUGT, a, b), a, b, "")!)
        continue
      }
      let (avx512, avx2) = (LLVMAppendBasicBlockInContext(context, f, "avx512")!,
                            LLVMAppendBasicBlockInContext(context, f, "avx2")!)
      LLVMBuildCondBr(builder, call(function: useAVX512, []), avx512, avx2)
      for (block, v) in [(avx512, variants[1]), (avx2, variants[0])] {
        LLVMPositionBuilderAtEnd(builder, block)
        let result = forward(to: v)
        if returnsVoid { LLVMBuildRetVoid(builder) } else { ret(result) }
      }
    }
  }

  /// `i1 NAME.isa_avx512()`: cached in a global (0 unknown, 1 AVX2, 2 AVX-512).
  private func emitISACheck(name: String) -> Value {
    let cache = LLVMAddGlobal(ref, i32, "\(name).isa")!
    LLVMSetInitializer(cache, int32(0))
    LLVMSetLinkage(cache, LLVMInternalLinkage)
    let f = addFunction("\(name).isa_avx512", params: [], returns: i1, local: true)
    startBlock("entry", in: f)
    let known = LLVMBuildLoad2(builder, i32, cache, "")!
    LLVMSetOrdering(known, LLVMAtomicOrderingMonotonic)
    LLVMSetAlignment(known, 4)
    let detect = LLVMAppendBasicBlockInContext(context, f, "detect")!
    let done = LLVMAppendBasicBlockInContext(context, f, "done")!
    LLVMBuildCondBr(builder, icmp(LLVMIntNE, known, int32(0)), done, detect)
    LLVMPositionBuilderAtEnd(builder, detect)
    let chosen = LLVMBuildSelect(builder, hasAVX512(), int32(2), int32(1), "")!
    let (getenv, getenvType) = externalFunction("getenv", params: [i8Ptr], returns: i8Ptr)
    let (strcmp, strcmpType) = externalFunction("strcmp", params: [i8Ptr, i8Ptr], returns: i32)
    var envArgs: [Value?] = [constantString("\(name).isa_env", "SPARROW_ISA")]
    let env = LLVMBuildCall2(builder, getenvType, getenv, &envArgs, 1, "")!
    let overrideBlock = LLVMAppendBasicBlockInContext(context, f, "override")!
    let store = LLVMAppendBasicBlockInContext(context, f, "store")!
    let detectEnd = LLVMGetInsertBlock(builder)!
    LLVMBuildCondBr(builder, LLVMBuildIsNull(builder, env, "")!, store, overrideBlock)
    LLVMPositionBuilderAtEnd(builder, overrideBlock)
    func equals(_ s: String) -> Value {
      var a: [Value?] = [env, constantString("\(name).isa_\(s)", s)]
      return icmp(LLVMIntEQ, LLVMBuildCall2(builder, strcmpType, strcmp, &a, 2, "")!, int32(0))
    }
    let forced = LLVMBuildSelect(builder, equals("avx2"), int32(1),
                                 LLVMBuildSelect(builder, equals("avx512"), int32(2), chosen, "")!, "")!
    LLVMBuildBr(builder, store)
    LLVMPositionBuilderAtEnd(builder, store)
    let value = LLVMBuildPhi(builder, i32, "")!
    var incoming: [Value?] = [chosen, forced]
    var blocks: [LLVMBasicBlockRef?] = [detectEnd, overrideBlock]
    LLVMAddIncoming(value, &incoming, &blocks, 2)
    let write = LLVMBuildStore(builder, value, cache)!
    LLVMSetOrdering(write, LLVMAtomicOrderingMonotonic)
    LLVMSetAlignment(write, 4)
    LLVMBuildBr(builder, done)
    LLVMPositionBuilderAtEnd(builder, done)
    let isa = LLVMBuildPhi(builder, i32, "")!
    var values: [Value?] = [known, value]
    var from: [LLVMBasicBlockRef?] = [LLVMGetEntryBasicBlock(f), store]
    LLVMAddIncoming(isa, &values, &from, 2)
    ret(icmp(LLVMIntEQ, isa, int32(2)))
    return f
  }

  /// CPUID leaf 7 reports AVX-512 F, DQ, CD, BW and VL, and XCR0 says the OS saves the
  /// opmask and zmm registers (bits 1, 2, 5, 6, 7).
  private func hasAVX512() -> Value {
    let four = [i32, i32, i32, i32].map { Optional($0) }
    var fields = four
    let quad = LLVMStructTypeInContext(context, &fields, 4, 0)!
    func cpuid(_ leaf: Int) -> Value {
      var params: [LType?] = [i32, i32]
      let type = LLVMFunctionType(quad, &params, 2, 0)!
      var text = Array("cpuid".utf8CString), constraints = Array("={ax},={bx},={cx},={dx},{ax},{cx}".utf8CString)
      let asm = LLVMGetInlineAsm(type, &text, text.count - 1, &constraints, constraints.count - 1, 1, 0,
                                 LLVMInlineAsmDialectATT, 0)!
      var args: [Value?] = [int32(leaf), int32(0)]
      return LLVMBuildCall2(builder, type, asm, &args, 2, "")!
    }
    func field(_ v: Value, _ i: UInt32) -> Value { LLVMBuildExtractValue(builder, v, i, "")! }
    func allSet(_ v: Value, _ bits: Int) -> Value {
      icmp(LLVMIntEQ, LLVMBuildAnd(builder, v, int32(bits), "")!, int32(bits))
    }
    let result = entryAlloca(i1)
    LLVMBuildStore(builder, LLVMConstInt(i1, 0, 0), result)
    let maxLeaf = field(cpuid(0), 0)
    let osxsave = allSet(field(cpuid(1), 2), 1 << 27)
    ifThen(LLVMBuildAnd(builder, icmp(LLVMIntUGE, maxLeaf, int32(7)), osxsave, "")!) {
      var noParams: [LType?] = [i32]
      var pair: [LType?] = [i32, i32]
      let xgetbvType = LLVMFunctionType(LLVMStructTypeInContext(context, &pair, 2, 0), &noParams, 1, 0)!
      var text = Array("xgetbv".utf8CString), constraints = Array("={ax},={dx},{cx}".utf8CString)
      let asm = LLVMGetInlineAsm(xgetbvType, &text, text.count - 1, &constraints, constraints.count - 1, 1, 0,
                                 LLVMInlineAsmDialectATT, 0)!
      var args: [Value?] = [int32(0)]
      let xcr0 = field(LLVMBuildCall2(builder, xgetbvType, asm, &args, 1, "")!, 0)
      let features = (1 << 16) | (1 << 17) | (1 << 28) | (1 << 30) | Int(UInt32(1) << 31)
      let ok = LLVMBuildAnd(builder, allSet(xcr0, 0xE6), allSet(field(cpuid(7), 1), features), "")!
      LLVMBuildStore(builder, ok, result)
    }
    return LLVMBuildLoad2(builder, i1, result, "")!
  }
}
