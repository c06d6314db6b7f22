//===--- CodegenModule.swift - an LLVM module under construction ----------===//
//
// Owns (or borrows, for the JIT's thread-safe context) an LLVMContext, and holds the
// module, one IR builder and the types every kernel uses. Kernel emitters add functions
// and read-only globals to it; `Emit/` and `Runtime/` turn it into bytes or code.

internal import CLLVM

typealias Value = LLVMValueRef
typealias LType = LLVMTypeRef

final class CodegenModule {
  let context: LLVMContextRef
  private let ownsContext: Bool
  /// nil once handed to the JIT.
  private(set) var module: LLVMModuleRef?
  let builder: LLVMBuilderRef
  /// Lanes of a float vector: 16 (AVX-512) or 8 (AVX2).
  let lanes: Int
  /// Whether kernels may use AVX-512 VNNI (the int8 GEMM's `vpdpbusd`; 16 lanes only).
  var hasVNNI = false

  let void: LType, i1: LType, i8: LType, i32: LType, i64: LType, f32: LType
  let f32Ptr: LType, i8Ptr: LType, vec: LType, vecPtr: LType, mask: LType

  /// A module in a fresh context (`context == nil`) or in a borrowed one.
  init(name: String, lanes: Int, context borrowed: LLVMContextRef? = nil) {
    initializeLLVM()
    if let borrowed {
      context = borrowed
      ownsContext = false
    } else {
      context = LLVMContextCreate()
      ownsContext = true
    }
    module = LLVMModuleCreateWithNameInContext(name, context)
    builder = LLVMCreateBuilderInContext(context)
    self.lanes = lanes
    void = LLVMVoidTypeInContext(context)
    i1 = LLVMInt1TypeInContext(context)
    i8 = LLVMInt8TypeInContext(context)
    i32 = LLVMInt32TypeInContext(context)
    i64 = LLVMInt64TypeInContext(context)
    f32 = LLVMFloatTypeInContext(context)
    f32Ptr = LLVMPointerType(f32, 0)
    i8Ptr = LLVMPointerType(i8, 0)
    vec = LLVMVectorType(f32, UInt32(lanes))
    vecPtr = LLVMPointerType(vec, 0)
    mask = LLVMVectorType(i1, UInt32(lanes))
  }

  deinit {
    LLVMDisposeBuilder(builder)
    if let module { LLVMDisposeModule(module) }
    if ownsContext { LLVMContextDispose(context) }
  }

  var ref: LLVMModuleRef {
    guard let module else { preconditionFailure("module already handed to the JIT") }
    return module
  }

  /// Gives up ownership of the module (to the JIT).
  func releaseModule() -> LLVMModuleRef {
    let m = ref
    module = nil
    return m
  }

  /// The textual IR.
  func printed() -> String { takeMessage(LLVMPrintModuleToString(ref)) }

  // MARK: Functions

  /// Declares a function; `internal` ones get internal linkage. Every generated function
  /// gets the fast-math string attributes (no NaNs/signed zeros, so max/min are vmaxps).
  func addFunction(_ name: String, params: [LType], returns: LType? = nil,
                   local: Bool = false) -> Value {
    var p = params.map { Optional($0) }
    let type = LLVMFunctionType(returns ?? void, &p, UInt32(p.count), 0)
    let f = LLVMAddFunction(ref, name, type)!
    if local { LLVMSetLinkage(f, LLVMInternalLinkage) }
    for (k, v) in [("no-nans-fp-math", "true"), ("no-signed-zeros-fp-math", "true"),
                   ("no-infs-fp-math", "false"), ("unsafe-fp-math", "false")] {
      let a = LLVMCreateStringAttribute(context, k, UInt32(k.utf8.count), v, UInt32(v.utf8.count))
      LLVMAddAttributeAtIndex(f, functionIndex, a)
    }
    for (i, t) in params.enumerated() where LLVMGetTypeKind(t) == LLVMPointerTypeKind {
      addEnumAttribute("noalias", to: f, at: UInt32(i + 1))
    }
    return f
  }

  /// `nounwind`, `noinline` ... on a function.
  func addEnumAttribute(_ name: String, to f: Value, at index: UInt32? = nil) {
    let kind = LLVMGetEnumAttributeKindForName(name, name.utf8.count)
    LLVMAddAttributeAtIndex(f, index ?? functionIndex, LLVMCreateEnumAttribute(context, kind, 0))
  }

  var functionIndex: UInt32 { UInt32(bitPattern: Int32(LLVMAttributeFunctionIndex)) }

  /// Appends a basic block to `f` and positions the builder at its end.
  @discardableResult
  func startBlock(_ name: String, in f: Value) -> LLVMBasicBlockRef {
    let bb = LLVMAppendBasicBlockInContext(context, f, name)!
    LLVMPositionBuilderAtEnd(builder, bb)
    return bb
  }

  func param(_ f: Value, _ i: Int) -> Value { LLVMGetParam(f, UInt32(i)) }

  // MARK: Globals

  /// A read-only, 64-byte aligned global holding `floats` (internal linkage); returns a
  /// `float*` to its start. Bytes are stored as an i8 array (fast for big weights).
  func constantFloats(_ name: String, _ floats: [Float]) -> Value {
    let bytes = floats.withUnsafeBytes { Array($0) }
    return constantBytes(name, bytes, as: f32Ptr)
  }

  /// A read-only global holding raw bytes, returned cast to `pointerType`.
  func constantBytes(_ name: String, _ bytes: [UInt8], as pointerType: LType,
                     local: Bool = true) -> Value {
    let data = bytes.withUnsafeBufferPointer { buf in
      buf.withMemoryRebound(to: CChar.self) {
        LLVMConstStringInContext(context, $0.baseAddress, UInt32(bytes.count), 1)!
      }
    }
    let g = LLVMAddGlobal(ref, LLVMTypeOf(data), name)!
    LLVMSetInitializer(g, data)
    LLVMSetGlobalConstant(g, 1)
    if local { LLVMSetLinkage(g, LLVMPrivateLinkage) }
    LLVMSetUnnamedAddr(g, 1)
    LLVMSetAlignment(g, 64)
    return LLVMConstBitCast(g, pointerType)
  }

  /// A NUL-terminated string constant as `i8*`.
  func constantString(_ name: String, _ s: String) -> Value {
    constantBytes(name, Array(s.utf8) + [0], as: i8Ptr)
  }

  // MARK: Intrinsics

  /// The declaration of an (overloaded) intrinsic such as `llvm.fma`.
  func intrinsic(_ name: String, _ overloads: [LType]) -> (Value, LType) {
    let id = LLVMLookupIntrinsicID(name, name.utf8.count)
    precondition(id != 0, "unknown intrinsic \(name)")
    var types = overloads.map { Optional($0) }
    let f = LLVMGetIntrinsicDeclaration(ref, id, &types, types.count)!
    let type = LLVMIntrinsicGetType(context, id, &types, types.count)!
    return (f, type)
  }

  /// Declares (once) an external C function such as `expf`.
  func externalFunction(_ name: String, params: [LType], returns: LType) -> (Value, LType) {
    var p = params.map { Optional($0) }
    let type = LLVMFunctionType(returns, &p, UInt32(p.count), 0)!
    if let f = LLVMGetNamedFunction(ref, name) { return (f, type) }
    return (LLVMAddFunction(ref, name, type)!, type)
  }
}
