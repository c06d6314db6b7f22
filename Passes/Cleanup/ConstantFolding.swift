//===--- ConstantFolding.swift - evaluate ops over constants at compile time ---===//
//
//   %a = constant @a : tensor<2xi64>
//   %b = constant @b : tensor<2xi64>              %c = constant @c : tensor<2xi64>
//   %c = mul %a, %b : tensor<2xi64>          =>   return %c
//   return %c
//
// An op whose operands are all dense constants is run on the interpreter
// (`Interpreter.evaluate`) and replaced by a new pool entry, when its results have at most
// `max-elements` elements in all (dequantize_linear always: it sizes like the weight it
// replaces). A quantized result stays quantized. Ops the interpreter cannot evaluate are
// left alone.

import SparrowIR
import SparrowInterpreter

public struct ConstantFolding: Pass {
  public static let name = "constant-fold"
  public static let summary = "Evaluate ops whose operands are all constants; replace them by constants."
  public static let options = [
    PassOptionSpec("max-elements", .int(1 << 16),
                   help: "Fold only when the results hold at most this many elements in all."),
  ]

  public var maxElements: Int

  public init(options: PassOptions) throws {
    maxElements = options.int("max-elements")
    guard maxElements >= 0 else { throw Diagnostic("max-elements must be non-negative") }
  }

  public init(maxElements: Int = 1 << 16) { self.maxElements = maxElements }

  public func run(on function: inout Function, context: PassContext) throws -> Bool {
    let limit = maxElements
    let fold = RewritePattern("fold-constant-operands") { op, r in
      guard op.kind != .constant, !op.operands.isEmpty else { return nil }
      let types = op.results.map(r.type(of:))
      // A dequantized weight is no larger than the f32 weight it stands for: always fold
      // (the importer keeps dequantize_linear of constants for fold-qdq to see).
      guard types.allSatisfy({ $0.layout == nil }),
            op.kind == .dequantize_linear || types.map(\.count).reduce(0, +) <= limit else { return nil }
      var inputs: [Tensor] = []
      for v in op.operands {
        guard r.type(of: v).layout == nil, let t = r.constantTensor(of: v) else { return nil }
        inputs.append(t)
      }
      guard let outputs = try? Interpreter.evaluate(op, inputs, in: r.function,
                                                    constants: r.context.constants) else { return nil }
      return zip(op.results, outputs).map { v, t in
        let c = r.insertConstant(t, name: r.name(of: v))
        if let q = r.type(of: v).quantization { r.retype(c, as: t.type.with(quantization: q)) }
        return c
      }
    }
    return try applyPatternsGreedily([fold], to: &function, context: context)
  }
}
