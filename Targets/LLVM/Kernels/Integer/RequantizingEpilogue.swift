//===--- RequantizingEpilogue.swift - acc (i32) to the stored result, scalar or vector ===//
//
//   t = Float(acc) * m[c]                       (acc already holds the folded bias)
//   relu:        t = t < 0 ? 0 : t
//   clip:a:b     t = clamp(t, a / sy, b / sy)   (a, b for f32 results)
//   add:         t = t + Float(r - zr) * (sr / sy)   (t + r for an f32 residual)
//   u8/i8 store: saturate(roundeven(t) + zy)    (clamped in f32 before the conversion)
//
// `Requantization` (IR/Types/Quantization.swift) and the interpreter's IntegerGemm.swift
// define the arithmetic; this is the same sequence of f32 operations in the same order,
// so scalar and vector code (one lane or `cg.lanes`) give the interpreter's bits. No
// fused multiply-add: kernels carry "unsafe-fp-math"="false", so LLVM does not contract
// `t + Float(r - zr) * f` into an FMA.

internal import CLLVM
import SparrowIR

/// The epilogue of one qconv/qmatmul: its steps, output quantization and residuals.
struct RequantizingEpilogue {
  let steps: [EpilogueStep]
  /// nil: an f32 result.
  let output: Quantization?
  let resultElement: ElementType
  /// The `add` steps' operands, in order.
  let residuals: [(element: ElementType, quantization: Quantization?)]

  /// Applies the steps to `t` (f32, a scalar or a vector of `cg.lanes`) and returns the
  /// value to store: i8/<lanes x i8> for a quantized result, `t` for f32. `residual(i)`
  /// loads the raw elements of the i-th `add` operand at the same place.
  func apply(_ cg: CodegenModule, _ t: Value, vector: Bool, residual: (Int) -> Value) -> Value {
    let float = { (x: Float) in vector ? cg.splat(x) : cg.float(x) }
    let int32 = { (x: Int) in vector ? cg.splat(int32: x) : cg.int32(x) }
    let i32Type = vector ? LLVMVectorType(cg.i32, UInt32(cg.lanes))! : cg.i32
    let f32Type = vector ? cg.vec : cg.f32
    func below(_ a: Value, _ b: Value) -> Value { LLVMBuildFCmp(cg.builder, LLVMRealOLT, a, b, "")! }
    func above(_ a: Value, _ b: Value) -> Value { LLVMBuildFCmp(cg.builder, LLVMRealOGT, a, b, "")! }
    var t = t
    var next = 0
    for step in steps {
      switch step {
      case .relu:
        t = cg.select(below(t, float(0)), float(0), t)
      case let .clip(lo, hi):
        let (a, b) = output.map { (lo / $0.scales[0], hi / $0.scales[0]) } ?? (lo, hi)
        t = cg.select(below(t, float(a)), float(a), t)
        t = cg.select(above(t, float(b)), float(b), t)
      case .add:
        let (element, quantization) = residuals[next]
        let r = residual(next)
        if let quantization {
          let wide = element == .u8 ? LLVMBuildZExt(cg.builder, r, i32Type, "")! : LLVMBuildSExt(cg.builder, r, i32Type, "")!
          let centered = cg.sub(wide, int32(quantization.zeroPoints[0]))
          let factor = Requantization.residualFactor(quantization, output: output)
          t = cg.fadd(t, cg.fmul(LLVMBuildSIToFP(cg.builder, centered, f32Type, "")!, float(factor)))
        } else {
          t = cg.fadd(t, r)
        }
        next += 1
      default:
        preconditionFailure("integer ops take relu, clip and add steps (checked by the lowering)")
      }
    }
    guard let output else { return t }
    // saturate(roundHalfEven(t) + zy), clamped before the conversion.
    let range = resultElement.quantizedStorageRange!, zy = output.zeroPoints[0]
    var r = cg.call("llvm.roundeven", [t])
    let lo = float(Float(range.lowerBound - zy)), hi = float(Float(range.upperBound - zy))
    r = cg.select(below(r, lo), lo, r)
    r = cg.select(above(r, hi), hi, r)
    let q = cg.add(LLVMBuildFPToSI(cg.builder, r, i32Type, "")!, int32(zy))
    let i8Type = vector ? LLVMVectorType(cg.i8, UInt32(cg.lanes))! : cg.i8
    return LLVMBuildTrunc(cg.builder, q, i8Type, "")!
  }

  /// Element type of the stored result (u8/i8 or f32).
  var storedElement: ElementType { output == nil ? .f32 : resultElement }
}

extension OpContext {
  /// The epilogue of this qconv/qmatmul; throws for steps an integer op cannot take.
  func requantizingEpilogue() throws -> RequantizingEpilogue {
    let steps = attributes.epilogue
    guard steps.allSatisfy(Requantization.acceptsQuantized) else {
      throw unsupported("epilogue steps other than relu, clip and add")
    }
    let result = type(op.result)
    return RequantizingEpilogue(steps: steps, output: result.quantization, resultElement: result.element,
                                residuals: op.operands.dropFirst(3).map { (type($0).element, type($0).quantization) })
  }

  /// The weight with its zero points subtracted, W'[c][k] (k in OIHW order for convs;
  /// matmul weights [K, N] transposed), the input's zero point folded into the bias
  /// (bias'[c] = bias[c] - zx * sum_k W'[c][k]) and the per-channel multipliers.
  func integerOperands(inputZeroPoint zx: Int) throws -> IntegerOperands {
    guard let xq = type(op.operands[0]).quantization, let wq = type(op.operands[1]).quantization,
          let wName = constantNames[op.operands[1]], let w = constants[wName],
          let bName = constantNames[op.operands[2]], let biasTensor = constants[bName] else {
      throw unsupported("a non-constant weight or bias")
    }
    let isConv = op.kind == .qconv
    let channels = isConv ? w.shape[0] : w.shape[1]
    let taps = w.count / channels
    // Read once (Tensor.integerValue copies the tensor on every call).
    let raw: [Int32] = w.element == .u8 ? w.array(of: UInt8.self).map(Int32.init) : w.array(of: Int8.self).map(Int32.init)
    let biasValues = biasTensor.array(of: Int32.self)
    var centered = [Int32](repeating: 0, count: w.count)
    for i in 0..<w.count {
      let (c, k) = isConv ? (i / taps, i % taps) : (i % channels, i / channels)
      centered[c * taps + k] = raw[i] - Int32(wq.zeroPoint(c))
    }
    let bias = (0..<channels).map { c -> Int32 in
      var sum: Int32 = 0
      for k in 0..<taps { sum = sum &+ centered[c * taps + k] }
      return biasValues[c] &- Int32(zx) &* sum
    }
    let multipliers = Requantization.multipliers(input: xq, weight: wq, output: type(op.result).quantization,
                                                 channels: channels)
    return IntegerOperands(channels: channels, taps: taps, centered: centered, bias: bias, multipliers: multipliers)
  }
}

/// A qconv/qmatmul's compile-time operands in the form the kernels use.
struct IntegerOperands {
  let channels: Int, taps: Int
  /// W'[c * taps + k] = w - zw[c].
  let centered: [Int32]
  /// bias[c] - zx * sum_k W'[c][k].
  let bias: [Int32]
  let multipliers: [Float]
}
