//===--- ModelCodegen.swift - a whole IR module as one LLVM module with a C ABI ---===//
//
// Lowers every op of the entry function to a kernel (OpLowering.swift), plans the
// workspace (MemoryPlan.swift) and emits the DESIGN.md C ABI around them:
//
//   int32_t <name>_num_inputs(void), <name>_num_outputs(void)
//   const sparrow_tensor_info *<name>_input_info(int32_t), <name>_output_info(int32_t)
//   size_t <name>_workspace_size(void)
//   int <name>_run(const void *const *inputs, void *const *outputs, void *ws, int32_t threads)
//   const char *<name>_strerror(int)
//   <name>_context *<name>_context_create(int32_t threads)     a thread pool (ThreadPool.swift)
//   int <name>_run_context(<name>_context *, inputs, outputs, ws)
//   void <name>_context_destroy(<name>_context *)
//
// Both entries call one internal `<name>.run(inputs, outputs, ws, pool)`; `<name>_run`
// passes no pool for one thread, else creates a context for the call and destroys it
// after (no state shared between calls; repeated multi-threaded calls should hold a
// context, which parks its threads between runs).
//
// Every unsupported op is reported at once (a DiagnosticList naming each op).

internal import CLLVM
import SparrowIR
import SparrowTargetSupport

/// Codes `<name>_run` returns.
enum RunStatus: Int32, CaseIterable {
  case ok = 0
  case nullPointer = 1
  case misalignedWorkspace = 2

  var message: String {
    switch self {
    case .ok: return "success"
    case .nullPointer: return "a NULL pointer was passed (context, inputs, outputs, an input or output buffer, or a needed workspace)"
    case .misalignedWorkspace: return "the workspace is not 64-byte aligned"
    }
  }
}

struct ModelCodegen {
  let cg: CodegenModule
  let module: Module
  let name: String

  /// Whether `<name>_run` records a timestamp after every kernel (ProfileCounters.swift).
  let profile: Bool

  /// Bytes of workspace the entry needs (valid after `emit`).
  private(set) var workspaceSize = 0
  /// With `profile`: the op index of each timed kernel, in call order (valid after `emit`).
  private(set) var profiledOps: [Int] = []

  init(_ cg: CodegenModule, module: Module, name: String, profile: Bool = false) {
    self.cg = cg
    self.module = module
    self.name = name
    self.profile = profile
  }

  /// Emits every function of the ABI.
  mutating func emit() throws {
    let f = module.main
    // Lower every op; collect every failure.
    var constantNames: [ValueID: String] = [:]
    for op in f.ops where op.kind == .constant { constantNames[op.result] = op.constantName! }
    var kernels: [Int: OpKernel] = [:]
    var errors: [Diagnostic] = []
    for (i, op) in f.ops.enumerated() where op.kind != .constant && !isView(op) {
      let ctx = OpContext(cg: cg, op: op, function: f, constants: module.constants,
                          constantNames: constantNames, symbol: "\(name).op\(i).\(op.kind.rawValue)")
      do {
        // f32 everywhere, except integer indices of gather, the ops that handle every
        // element type (OpLowering.swift) and halves widened around f32 kernels.
        for (k, v) in op.operands.enumerated() + op.results.map({ (-1, $0) })
        where f.type(of: v).element != .f32 && !(op.kind == .gather && k == 1)
          && !Self.anyElementType.contains(op.kind) && !ctx.widensHalves {
          throw ctx.unsupported("\(f.type(of: v)) values (f32 only)")
        }
        kernels[i] = try lowerOp(ctx)
      } catch let d as Diagnostic {
        errors.append(d.location == nil ? Diagnostic(d.message, at: op.diagnosticLocation) : d)
      } catch let list as DiagnosticList {
        errors += list.diagnostics
      }
    }
    if errors.count == 1 { throw errors[0] }
    if !errors.isEmpty { throw DiagnosticList(errors) }

    let plan = MemoryPlan(f, isView: isView, scratch: { kernels[$0]?.scratchBytes ?? 0 })
    workspaceSize = plan.workspaceSize
    if profile { profiledOps = f.ops.indices.filter { kernels[$0] != nil } }
    emitRun(f, plan: plan, kernels: kernels)
    emitInfo(f)
  }

  private func isView(_ op: Operation) -> Bool { op.kind == .reshape || op.kind == .identity }

  // MARK: The entry

  private func emitRun(_ f: Function, plan: MemoryPlan, kernels: [Int: OpKernel]) {
    let i8PtrPtr = LLVMPointerType(cg.i8Ptr, 0)!
    let run = cg.addFunction("\(name).run", params: [i8PtrPtr, i8PtrPtr, cg.i8Ptr, cg.i8Ptr],
                             returns: cg.i32, local: true)
    cg.addEnumAttribute("nounwind", to: run)
    cg.startBlock("entry", in: run)
    let inputs = cg.param(run, 0), outputs = cg.param(run, 1), workspace = cg.param(run, 2)
    let threads = cg.param(run, 3)
    let fail = LLVMAppendBasicBlockInContext(cg.context, run, "null")!
    let misaligned = LLVMAppendBasicBlockInContext(cg.context, run, "misaligned")!
    func failIf(_ cond: Value, _ target: LLVMBasicBlockRef) {
      let next = LLVMAppendBasicBlockInContext(cg.context, run, "ok")!
      LLVMBuildCondBr(cg.builder, cond, target, next)
      LLVMPositionBuilderAtEnd(cg.builder, next)
    }
    func isNull(_ p: Value) -> Value { LLVMBuildIsNull(cg.builder, p, "") }
    failIf(isNull(inputs), fail)
    failIf(isNull(outputs), fail)
    if workspaceSize > 0 {
      failIf(isNull(workspace), fail)
      let address = LLVMBuildPtrToInt(cg.builder, workspace, cg.i64, "")!
      failIf(cg.icmp(LLVMIntNE, LLVMBuildAnd(cg.builder, address, cg.int(63), ""), cg.int(0)), misaligned)
    }
    func buffer(_ array: Value, _ i: Int) -> Value {
      let p = LLVMBuildLoad2(cg.builder, cg.i8Ptr, cg.gep(cg.i8Ptr, array, cg.int(i)), "")!
      failIf(isNull(p), fail)
      return LLVMBuildBitCast(cg.builder, p, cg.f32Ptr, "")
    }
    let inputPointers = f.arguments.indices.map { buffer(inputs, $0) }
    let outputPointers = f.results.indices.map { buffer(outputs, $0) }
    var constantGlobals: [String: Value] = [:]
    func pointer(_ v: ValueID) -> Value {
      switch plan.storage[v]! {
      case let .input(i): return inputPointers[i]
      case let .output(j): return outputPointers[j]
      case let .view(of: source): return pointer(source)
      case let .workspace(offset):
        return LLVMBuildBitCast(cg.builder, cg.gep(cg.i8, workspace, cg.int(offset)), cg.f32Ptr, "")
      case let .constant(poolName):
        if let g = constantGlobals[poolName] { return g }
        let g = cg.constantBytes("\(name).const.\(poolName)", module.constants[poolName]!.bytes, as: cg.f32Ptr)
        constantGlobals[poolName] = g
        return g
      }
    }
    let clock = profile ? ProfileClock(cg, symbol: profileSymbol(name), slots: profiledOps.count + 1) : nil
    clock?.record(slot: 0)
    var slot = 0
    for (i, op) in f.ops.enumerated() {
      guard let kernel = kernels[i] else { continue }
      var args = op.results.map(pointer)
      for (k, v) in op.operands.enumerated() {
        args.append(kernel.embeddedOperands.contains(k) ? cg.nullFloatPointer() : pointer(v))
      }
      if let offset = plan.scratchOffset[i] {
        args.append(LLVMBuildBitCast(cg.builder, cg.gep(cg.i8, workspace, cg.int(offset)), cg.f32Ptr, ""))
      } else {
        args.append(cg.nullFloatPointer())
      }
      cg.call(function: kernel.function, args + [threads])
      slot += 1
      clock?.record(slot: slot)
    }
    for (j, v) in plan.outputCopies {
      let e = f.type(of: v).element
      cg.copyElements(e, from: pointer(v), cg.int(0), to: outputPointers[j], cg.int(0), count: f.type(of: v).count)
    }
    cg.ret(cg.int32(Int(RunStatus.ok.rawValue)))
    LLVMPositionBuilderAtEnd(cg.builder, fail)
    cg.ret(cg.int32(Int(RunStatus.nullPointer.rawValue)))
    LLVMPositionBuilderAtEnd(cg.builder, misaligned)
    cg.ret(cg.int32(Int(RunStatus.misalignedWorkspace.rawValue)))
    emitEntries(run)
  }

  /// `<name>_run`, `<name>_run_context` and the context's create and destroy around `run`.
  private func emitEntries(_ run: Value) {
    cg.emitContextFunctions(prefix: name)
    let create = LLVMGetNamedFunction(cg.ref, "\(name)_context_create")!
    let destroy = LLVMGetNamedFunction(cg.ref, "\(name)_context_destroy")!
    let i8PtrPtr = LLVMPointerType(cg.i8Ptr, 0)!
    let entry = cg.addFunction("\(name)_run", params: [i8PtrPtr, i8PtrPtr, cg.i8Ptr, cg.i32], returns: cg.i32)
    cg.addEnumAttribute("nounwind", to: entry)
    cg.startBlock("entry", in: entry)
    let args = (0..<3).map { cg.param(entry, $0) }
    cg.ifThen(cg.icmp(LLVMIntEQ, cg.param(entry, 3), cg.int32(1))) {
      cg.ret(cg.call(function: run, args + [LLVMConstNull(cg.i8Ptr)]))
      cg.startBlock("dead", in: entry)
    }
    // Out of memory for a context: run on the caller's thread (fork without a pool).
    let pool = cg.call(function: create, [cg.param(entry, 3)])
    let status = cg.call(function: run, args + [pool])
    cg.call(function: destroy, [pool])
    cg.ret(status)

    let withContext = cg.addFunction("\(name)_run_context", params: [cg.i8Ptr, i8PtrPtr, i8PtrPtr, cg.i8Ptr],
                                     returns: cg.i32)
    cg.addEnumAttribute("nounwind", to: withContext)
    cg.startBlock("entry", in: withContext)
    cg.ifThen(LLVMBuildIsNull(cg.builder, cg.param(withContext, 0), "")) {
      cg.ret(cg.int32(Int(RunStatus.nullPointer.rawValue)))
      cg.startBlock("dead", in: withContext)
    }
    cg.ret(cg.call(function: run, (1..<4).map { cg.param(withContext, $0) } + [cg.param(withContext, 0)]))
  }

  // MARK: Tensor info, workspace size, strerror

  private func emitInfo(_ f: Function) {
    let shapePtr = LLVMPointerType(cg.i64, 0)!
    var fields: [LType?] = [cg.i8Ptr, cg.i32, cg.i32, shapePtr]
    let infoType = LLVMStructCreateNamed(cg.context, "sparrow_tensor_info")!
    LLVMStructSetBody(infoType, &fields, 4, 0)
    func infoTable(_ values: [ValueID], _ kind: String) -> Value {
      var items: [Value?] = values.enumerated().map { i, v in
        let type = f.type(of: v)
        let dims = type.shape.map { Int64($0) }
        let shape = dims.isEmpty ? LLVMConstNull(shapePtr)!
          : cg.constantBytes("\(name).\(kind)\(i).shape", dims.withUnsafeBytes { Array($0) }, as: shapePtr)
        var members: [Value?] = [cg.constantString("\(name).\(kind)\(i).name", f.name(of: v)),
                                 cg.int32(Int(type.element.onnxCode)), cg.int32(type.rank), shape]
        return LLVMConstNamedStruct(infoType, &members, 4)
      }
      let array = LLVMConstArray(infoType, &items, UInt32(items.count))!
      let g = LLVMAddGlobal(cg.ref, LLVMTypeOf(array), "\(name).\(kind)_info")!
      LLVMSetInitializer(g, array)
      LLVMSetGlobalConstant(g, 1)
      LLVMSetLinkage(g, LLVMPrivateLinkage)
      return g
    }
    for (kind, values) in [("input", f.arguments), ("output", f.results)] {
      let count = cg.addFunction("\(name)_num_\(kind)s", params: [], returns: cg.i32)
      cg.startBlock("entry", in: count)
      cg.ret(cg.int32(values.count))
      let table = infoTable(values, kind)
      let info = cg.addFunction("\(name)_\(kind)_info", params: [cg.i32],
                                returns: LLVMPointerType(infoType, 0))
      cg.startBlock("entry", in: info)
      let i = LLVMBuildSExt(cg.builder, cg.param(info, 0), cg.i64, "")!
      let inRange = LLVMBuildAnd(cg.builder, cg.icmp(LLVMIntSGE, i, cg.int(0)),
                                 cg.icmp(LLVMIntSLT, i, cg.int(values.count)), "")!
      var idx: [Value?] = [cg.int(0), i]
      let element = LLVMBuildInBoundsGEP2(cg.builder, LLVMGlobalGetValueType(table), table, &idx, 2, "")!
      cg.ret(cg.select(inRange, element, LLVMConstNull(LLVMPointerType(infoType, 0))))
    }
    let size = cg.addFunction("\(name)_workspace_size", params: [], returns: cg.i64)
    cg.startBlock("entry", in: size)
    cg.ret(cg.int(workspaceSize))

    let strerror = cg.addFunction("\(name)_strerror", params: [cg.i32], returns: cg.i8Ptr)
    cg.startBlock("entry", in: strerror)
    var result = cg.constantString("\(name).err.unknown", "unknown error code")
    for status in RunStatus.allCases.reversed() {
      let text = cg.constantString("\(name).err.\(status.rawValue)", status.message)
      result = cg.select(cg.icmp(LLVMIntEQ, cg.param(strerror, 0), cg.int32(Int(status.rawValue))), text, result)
    }
    cg.ret(result)
  }
}

extension CodegenModule {
  /// `memcpy` of `count` floats.
  func copyFloats(from source: Value, to destination: Value, count: Int) {
    let (f, t) = intrinsic("llvm.memcpy", [i8Ptr, i8Ptr, i64])
    var args: [Value?] = [LLVMBuildBitCast(builder, destination, i8Ptr, ""),
                          LLVMBuildBitCast(builder, source, i8Ptr, ""), int(count * 4),
                          LLVMConstInt(i1, 0, 0)]
    LLVMBuildCall2(builder, t, f, &args, 4, "")
  }
}
