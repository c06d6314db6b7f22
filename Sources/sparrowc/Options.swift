//===--- Options.swift - option groups shared by subcommands -------------===//

import ArgumentParser
import SparrowIR
import SparrowPasses

/// The model and how to bind its inputs.
struct ModelOptions: ParsableArguments {
  @Argument(help: "The model: an .onnx or .sir file.")
  var model: String

  @Option(name: .customLong("input-shape"),
          help: ArgumentHelp("Bind an input's shape, e.g. image=1x3x224x224 (repeatable).",
                             valueName: "NAME=DxD..."))
  var inputShapes: [String] = []

  @Option(name: .customLong("freeze"),
          help: ArgumentHelp("Make an input a constant with the value in an .npy file (repeatable); needed when an input feeds a shape-like operand (Reshape's shape, Slice's starts ...).",
                             valueName: "NAME=FILE.npy"))
  var freeze: [String] = []

  @Option(name: .customLong("max-memory"),
          help: ArgumentHelp("Refuse to run or compile a model whose weights + planned intermediates exceed this, e.g. 4G, 512M (default: half the physical memory).",
                             valueName: "SIZE"))
  var maxMemory: String?

  /// The `--max-memory` limit in bytes.
  func memoryLimit() throws -> Int {
    guard let text = maxMemory else { return defaultMemoryLimit() }
    guard let bytes = parseByteSize(text) else {
      throw ValidationError("--max-memory \(text): expected a size such as 4G, 512M or 1048576")
    }
    return bytes
  }

  /// Throws a diagnostic when `module` would need more than `--max-memory`.
  func checkMemory(_ module: Module) throws {
    try checkModelMemory(module, limit: memoryLimit(), file: model)
  }

  /// `NAME=1x3x224x224` pairs.
  func parsedInputShapes() throws -> [String: [Int]] {
    var shapes: [String: [Int]] = [:]
    for spec in inputShapes {
      let (name, dims) = try splitBinding(spec, flag: "--input-shape")
      let parsed = dims.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
      guard !dims.isEmpty, parsed.allSatisfy({ $0 != nil && $0! >= 0 }) else {
        throw ValidationError("--input-shape \(spec): dims must be non-negative integers joined by 'x'")
      }
      shapes[name] = parsed.map { $0! }
    }
    return shapes
  }
}

/// Splits `NAME=VALUE` at the last '=' (names may contain '=' only in odd models).
func splitBinding(_ spec: String, flag: String) throws -> (String, String) {
  guard let eq = spec.lastIndex(of: "="), eq != spec.startIndex else {
    throw ValidationError("\(flag) \(spec): expected NAME=VALUE")
  }
  return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
}

enum OptLevel: String, EnumerableFlag {
  case O0, O1, O2
  static func name(for value: OptLevel) -> NameSpecification {
    .customLong(value.rawValue, withSingleDash: true)
  }
  static func help(for value: OptLevel) -> ArgumentHelp? {
    switch value {
    case .O0: return "Only the lowering targets require."
    case .O1: return "Cleanup: constant folding, identity removal, dead code."
    case .O2: return "All optimizations (default)."
    }
  }
}

/// Which passes run and how they are observed.
struct PipelineOptions: ParsableArguments {
  @Flag(help: "Optimization level (default -O2).")
  var level: OptLevel = .O2

  @Option(name: .customLong("passes"),
          help: ArgumentHelp("An explicit pass pipeline, e.g. dce,constant-fold{max-elements=4096},cse (overrides -O).",
                             valueName: "PIPELINE"))
  var passes: String?

  @Option(help: ArgumentHelp("Sparse weight formats in -O2: auto (cost model), off, or force nm, bsr or csr where the data fits exactly.",
                             valueName: "auto|off|nm|bsr|csr"))
  var sparsity: SparsityMode = .auto

  @Option(help: ArgumentHelp("Winograd for 3x3 stride-1 convs in -O2: auto (measured rule), off (im2col), or force F(2x2,3x3) f2 or F(4x4,3x3) f4.",
                             valueName: "auto|off|f2|f4"))
  var winograd: WinogradMode = .auto

  @Option(name: .customLong("conv-layout"),
          help: ArgumentHelp("Conv activation layout in -O2: auto (measured rule), nchw, or nhwc wherever the targets run it.",
                             valueName: "auto|nchw|nhwc"))
  var convLayout: ConvLayoutMode = .auto

  @Option(help: ArgumentHelp("A target description from `sparrowc tune` for the cost models (default: the table entry of --target-cpu, else Zen 4's).",
                             valueName: "FILE"))
  var tuning: String?

  @Flag(name: .customLong("no-verify"), help: "Skip the verifier after each pass.")
  var noVerify = false

  @Flag(name: .customLong("print-ir-after-all"), help: "Print the IR after every pass (stderr).")
  var printAfterAll = false

  @Option(name: .customLong("print-ir-after"), help: ArgumentHelp("Print the IR after this pass (repeatable).", valueName: "PASS"))
  var printAfter: [String] = []

  @Option(name: .customLong("print-ir-before"), help: ArgumentHelp("Print the IR before this pass (repeatable).", valueName: "PASS"))
  var printBefore: [String] = []

  @Flag(help: "Print per-pass time and change counts (stderr).")
  var stats = false

  @Flag(name: .customLong("check-passes"),
        help: "Run the interpreter before and after every pass on seeded inputs; name the first pass that changes results.")
  var checkPasses = false
}

extension SparsityMode: ExpressibleByArgument {}
extension WinogradMode: ExpressibleByArgument {}
extension ConvLayoutMode: ExpressibleByArgument {}
