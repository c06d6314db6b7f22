//===--- LayerPrecision.swift - which layers of a quantized model run int8, and why ---===//
//
// `sparrowc inspect` on a QDQ model after the pipeline (fold-qdq first in -O2):
//   qconv / qmatmul                      -> int8, and which kernel runs it on the LLVM target
//   conv / gemm / matmul / conv_transpose -> f32, with the first reason fold-qdq's patterns
//                                           (Passes/Quantization/FoldQDQ.swift) did not fire
// Models without quantize/dequantize ops report nothing.

import SparrowIR

/// Whether a GEMM-like layer of a quantized model runs on integers, and why.
public struct LayerPrecision: Sendable, Equatable {
  public var integer: Bool
  public var reason: String

  public var label: String { integer ? "int8" : "f32" }
}

/// The precision of `op` (nil for non-GEMM ops and for models without quantization).
func layerPrecision(_ op: Operation, in f: Function, users: [ValueID: [Int]], defs: [ValueID: Int],
                    quantizedModel: Bool) -> LayerPrecision? {
  guard quantizedModel else { return nil }
  let kind = { (v: ValueID) in defs[v].map { f.ops[$0].kind } }
  switch op.kind {
  case .qconv, .qmatmul:
    let output = f.type(of: op.results[0]).quantization == nil ? ", f32 result" : ""
    if op.kind == .qconv && op.attributes.int("group") != 1 {
      return LayerPrecision(integer: true, reason: "grouped/depthwise: scalar integer kernel" + output)
    }
    return LayerPrecision(integer: true, reason: "int8 GEMM (vpmaddwd, or vpdpbusd with VNNI)" + output)
  case .conv_transpose:
    return LayerPrecision(integer: false, reason: "no integer conv_transpose kernel")
  case .conv, .gemm, .matmul:
    guard kind(op.operands[0]) == .dequantize_linear else {
      return LayerPrecision(integer: false, reason: "input is not dequantized (no QDQ pair before it)")
    }
    if op.operands.count > 1, let k = kind(op.operands[1]), k != .constant, k != .dequantize_linear {
      return LayerPrecision(integer: false, reason: "run-time weight (activation x activation, no integer kernel)")
    }
    if op.operands.count > 1, kind(op.operands[1]) == .dequantize_linear,
       let d = defs[op.operands[1]], kind(f.ops[d].operands[0]) != .constant {
      return LayerPrecision(integer: false, reason: "run-time weight (activation x activation, no integer kernel)")
    }
    let steps = op.kind.has(.hasEpilogue) ? op.attributes.epilogue : nil
    if let bad = steps?.first(where: { !Requantization.acceptsQuantized($0) }) {
      return LayerPrecision(integer: false, reason: "epilogue step '\(bad)' has no integer form")
    }
    let consumers = users[op.results[0]] ?? []
    if consumers.isEmpty || !consumers.allSatisfy({ f.ops[$0].kind == .quantize_linear }) {
      let names = Set(consumers.map { f.ops[$0].kind.rawValue }).sorted().joined(separator: ", ")
      return LayerPrecision(integer: false, reason: "result not requantized (used by \(names.isEmpty ? "the output" : names))")
    }
    if op.kind == .conv && op.attributes.convLayout != .nchw {
      return LayerPrecision(integer: false, reason: "conv layout \(op.attributes.convLayout.rawValue) (fold-qdq takes NCHW)")
    }
    return LayerPrecision(integer: false, reason: "QDQ pattern not matched (weight or bias quantization)")
  default:
    return nil
  }
}
