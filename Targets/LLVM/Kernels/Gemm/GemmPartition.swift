//===--- GemmPartition.swift - a GEMM's C split into a grid of thread tiles ---===//
//
// C is cut along M in row units (register row panels, the partial one last) and along N
// in N blocks (GemmTiling.nBlock columns, the partial one last). For n threads the grid
// is pm x pn tiles (pm * pn <= n; threads beyond it idle) minimizing the largest tile's
// work, counted in FMAs of one row of one column per K step, plus the B packing each
// tile repeats when B is packed at run time (every tile of a column range packs its
// columns again, so the grid prefers N when B is packed, M when it is not):
//
//   cost(pm, pn) = rows(pm) * columns(pn) * K + (B packed at run time ? 2 * columns(pn) * K : 0)
//
// where rows(p) / columns(p) is the largest share of p contiguous, balanced unit ranges.
// GEMMs too small to pay for a fork (ParallelCost) stay on one thread. The grids for 1 ...
// maximum threads are tables in the generated code, indexed by the thread count.

internal import CLLVM

struct GemmPartition {
  /// Row units (row panels) and N blocks.
  let rowUnits: Int, blocks: Int
  /// Threads the GEMM can use (1: serial).
  let maximum: Int
  /// For n in 0 ... maximum: (pm, pn), the grid for n threads (index 0 unused).
  let grids: [(rows: Int, columns: Int)]

  init(_ d: GemmDescriptor, _ t: GemmTiling, maximum cap: Int) {
    rowUnits = (d.m + t.rows - 1) / t.rows
    blocks = (d.n + t.nBlock - 1) / t.nBlock
    let rowSizes = (0..<rowUnits).map { min(t.rows, d.m - $0 * t.rows) }
    let blockSizes = (0..<blocks).map { min(t.nBlock, d.n - $0 * t.nBlock) }
    let packsB = !d.b.isPrepacked
    func cost(_ pm: Int, _ pn: Int) -> Int {
      let columns = largestShare(blockSizes, parts: pn)
      return largestShare(rowSizes, parts: pm) * columns * d.k + (packsB ? 2 * columns * d.k : 0)
    }
    let work = ParallelCost.nanoseconds(fmas: d.m * d.n * d.k)
    let usable = ParallelCost.parts(units: rowUnits * blocks, nanoseconds: work, maximum: cap)
    var grids = [(rows: 1, columns: 1)]
    for n in 1...max(usable, 1) {
      var best = (rows: 1, columns: 1), bestCost = cost(1, 1)
      for pm in 1...min(n, rowUnits) {
        for pn in 1...min(n / pm, blocks) where cost(pm, pn) < bestCost {
          (best, bestCost) = ((pm, pn), cost(pm, pn))
        }
      }
      grids.append(best)
    }
    self.grids = grids
    maximum = grids.map { $0.rows * $0.columns }.max()! > 1 ? grids.count - 1 : 1
  }

  /// The grid tables (`i64[maximum + 1]` each) as constants of the module.
  func tables(_ cg: CodegenModule, symbol: String) -> (rows: Value, columns: Value) {
    let i64Ptr = LLVMPointerType(cg.i64, 0)!
    func table(_ name: String, _ values: [Int]) -> Value {
      let bytes = values.map { Int64($0) }.withUnsafeBytes { Array($0) }
      return cg.constantBytes("\(symbol).\(name)", bytes, as: i64Ptr)
    }
    return (table("grid_rows", grids.map(\.rows)), table("grid_columns", grids.map(\.columns)))
  }
}

/// The largest sum of `sizes` over `parts` contiguous ranges [U*i/p, U*(i+1)/p).
func largestShare(_ sizes: [Int], parts: Int) -> Int {
  (0..<parts).map { i in sizes[sizes.count * i / parts ..< sizes.count * (i + 1) / parts].reduce(0, +) }.max()!
}
