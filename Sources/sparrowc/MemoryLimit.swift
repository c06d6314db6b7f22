//===--- MemoryLimit.swift - refuse models that would not fit (--max-memory) ---===//
//
// Before a model is run or compiled, its footprint is estimated: the weights (the bytes
// of every constant the main function uses) plus an arena (the peak, in op order, of the
// bytes of all live non-constant values: a value lives from the op that defines it, or
// from the start for an argument, to its last use, or to the end for a result). This is
// what a planner that reuses dead values' space needs at least; backends that plan less
// tightly may use more. Sizes saturate instead of overflowing, so absurd declared shapes
// (2^40 elements) give an absurd estimate, not a trap.

import Foundation
import SparrowIR
import SparrowPasses

/// A model's estimated memory footprint, in bytes.
struct MemoryEstimate: CustomStringConvertible {
  var weights = 0
  var arena = 0
  var total: Int { weights.saturatingAdd(arena) }

  init(_ module: Module) {
    let f = module.main
    var used: Set<String> = []
    for op in f.ops { if let n = op.constantName { used.insert(n) } }
    for name in used {
      if let t = module.constants[name] { weights = weights.saturatingAdd(t.bytes.count) }
    }
    arena = MemoryEstimate.peakLiveBytes(f)
  }

  /// The peak over ops of the bytes of the values live while the op runs.
  static func peakLiveBytes(_ f: Function) -> Int {
    let end = f.ops.count
    var lastUse: [ValueID: Int] = [:]
    for (i, op) in f.ops.enumerated() { for v in op.operands { lastUse[v] = i } }
    for r in f.results { lastUse[r] = end }
    // Bytes that become live at op i and stop being live after op i.
    var born = [Int](repeating: 0, count: end + 1)
    var dies = [Int](repeating: 0, count: end + 1)
    func track(_ v: ValueID, from start: Int) {
      let bytes = saturatingByteCount(f.type(of: v))
      born[start] = born[start].saturatingAdd(bytes)
      let last = max(lastUse[v] ?? start, start)
      dies[last] = dies[last].saturatingAdd(bytes)
    }
    for a in f.arguments { track(a, from: 0) }
    for (i, op) in f.ops.enumerated() where op.kind != .constant {
      for r in op.results { track(r, from: i) }
    }
    var live = 0, peak = 0
    for i in 0...end {
      live = live.saturatingAdd(born[i])
      peak = max(peak, live)
      live -= min(dies[i], live)
    }
    return peak
  }

  var description: String {
    "\(formatBytes(total)) (weights \(formatBytes(weights)) + arena \(formatBytes(arena)))"
  }
}

/// The dense byte count of `type`, saturating at `Int.max` (negative dims count as 0).
func saturatingByteCount(_ type: TensorType) -> Int {
  var n = type.element.byteSize
  for d in type.shape {
    let (p, overflow) = n.multipliedReportingOverflow(by: max(d, 0))
    if overflow { return .max }
    n = p
  }
  return n
}

extension Int {
  func saturatingAdd(_ other: Int) -> Int {
    let (s, overflow) = addingReportingOverflow(other)
    return overflow ? .max : s
  }
}

/// Parses `4G`, `512M`, `100K`, `123` (bytes), `1.5G`; suffixes are powers of 1024, an
/// optional trailing `B`/`iB` is accepted. Nil for anything else.
func parseByteSize(_ text: String) -> Int? {
  var s = text.trimmingCharacters(in: .whitespaces).uppercased()
  if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
  let scale: Double
  switch s.last {
  case "K": scale = 1024
  case "M": scale = 1024 * 1024
  case "G": scale = 1024 * 1024 * 1024
  case "T": scale = 1024 * 1024 * 1024 * 1024
  default: scale = 1
  }
  if scale != 1 { s.removeLast() }
  guard let value = Double(s), value.isFinite, value > 0 else { return nil }
  let bytes = value * scale
  guard bytes < Double(Int.max) else { return nil }
  return Int(bytes)
}

/// Half the physical memory: the default `--max-memory`.
func defaultMemoryLimit() -> Int {
  Int(ProcessInfo.processInfo.physicalMemory / 2)
}

/// Throws a diagnostic naming `file` when `module`'s estimate exceeds `limit` bytes.
func checkModelMemory(_ module: Module, limit: Int, file: String) throws {
  let estimate = MemoryEstimate(module)
  guard estimate.total > limit else { return }
  throw Diagnostic("the model needs about \(estimate), more than --max-memory \(formatBytes(limit)); raise --max-memory to run it anyway",
                   at: file)
}
