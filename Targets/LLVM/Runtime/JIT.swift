//===--- JIT.swift - ORC LLJIT: compile modules in-process, look up symbols ---===//
//
// Modules meant for the JIT are built in the session's thread-safe context
// (`makeModule`), optimized, then handed over (`add`): LLJIT owns them from then on.
// The session must outlive every function pointer looked up from it.

internal import CLLVM
import SparrowIR

final class JITSession {
  private let threadSafeContext: LLVMOrcThreadSafeContextRef
  private let jit: LLVMOrcLLJITRef
  let target: TargetSpec
  /// Optimizes modules before they are added.
  let machine: TargetMachine

  init(target: TargetSpec = .host) throws {
    self.target = target
    machine = try TargetMachine(target, relocation: .pic)
    let builder = LLVMOrcCreateLLJITBuilder()
    // The JIT target machine builder consumes its own target machine. The JIT maps each
    // section on its own and may place constants more than 2 GiB from code (it does
    // under ASan): neither 32-bit absolute nor RIP-relative offsets reach, so the large
    // code model (64-bit addresses of globals).
    let tm = try TargetMachine.create(target, relocation: .pic, largeCodeModel: true)
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
      builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm))
    var jit: LLVMOrcLLJITRef?
    try check(LLVMOrcCreateLLJIT(&jit, builder), "cannot create the JIT")
    self.jit = jit!
    threadSafeContext = LLVMOrcCreateNewThreadSafeContext()
    // Resolve libm/libc symbols (expf, memcpy ...) from the running process.
    var generator: LLVMOrcDefinitionGeneratorRef?
    try check(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
      &generator, LLVMOrcLLJITGetGlobalPrefix(self.jit), nil, nil), "JIT symbol search")
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(self.jit), generator)
  }

  deinit {
    LLVMOrcDisposeLLJIT(jit)
    LLVMOrcDisposeThreadSafeContext(threadSafeContext)
  }

  /// A module in this session's context.
  func makeModule(name: String) -> CodegenModule {
    let cg = CodegenModule(name: name, lanes: target.hasAVX512 ? 16 : 8,
                           context: LLVMOrcThreadSafeContextGetContext(threadSafeContext))
    cg.hasVNNI = target.hasVNNI
    return cg
  }

  /// Optimizes `module` and hands it to the JIT.
  func add(_ module: CodegenModule) throws {
    try machine.optimize(module.ref)
    let tsm = LLVMOrcCreateNewThreadSafeModule(module.releaseModule(), threadSafeContext)
    try check(LLVMOrcLLJITAddLLVMIRModule(jit, LLVMOrcLLJITGetMainJITDylib(jit), tsm),
              "JIT compilation failed")
  }

  /// The address of a function added earlier (compiles it on first lookup).
  func address(of symbol: String) throws -> UInt64 {
    var address: LLVMOrcExecutorAddress = 0
    try check(LLVMOrcLLJITLookup(jit, &address, symbol), "JIT lookup of '\(symbol)'")
    return address
  }
}
