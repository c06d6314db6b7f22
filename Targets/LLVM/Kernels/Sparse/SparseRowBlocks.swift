//===--- SparseRowBlocks.swift - a constant sparse weight, grouped into row blocks ---===//
//
// The weight W [M, K] (dense floats, known at compile time) split into blocks of R rows.
// Per block, the union of the columns k where any of its rows is non-zero, and per such
// k the R values (zero where a row does not use k). One X row load then serves R rows:
// for #bsr<R,C> this is exactly its blocks; for N:M and unstructured weights it shares
// X wherever rows of a block agree on k. Empty columns are skipped, so the work is
// (active columns) x R x N FMAs.

/// W [M, K] as per-block active columns and their R values.
public struct SparseRowBlocks: Sendable {
  public let rows: Int
  public let k: Int
  /// Rows per block (M is padded to a multiple with zero rows).
  public let blockRows: Int
  /// blockStart[b]..<blockStart[b+1] index `columns` and (times blockRows) `values`.
  public let blockStart: [Int64]
  public let columns: [Int32]
  public let values: [Float]

  public init(weight w: [Float], rows: Int, k: Int, blockRows: Int) {
    precondition(w.count == rows * k && blockRows >= 1, "weight \(w.count) for \(rows)x\(k)")
    self.rows = rows
    self.k = k
    self.blockRows = blockRows
    var start: [Int64] = [0], columns: [Int32] = [], values: [Float] = []
    for b0 in stride(from: 0, to: rows, by: blockRows) {
      for kk in 0..<k {
        let r = (b0..<min(rows, b0 + blockRows))
        guard r.contains(where: { w[$0 * k + kk] != 0 }) else { continue }
        columns.append(Int32(kk))
        for i in b0..<(b0 + blockRows) { values.append(i < rows ? w[i * k + kk] : 0) }
      }
      start.append(Int64(columns.count))
    }
    self.blockStart = start
    self.columns = columns
    self.values = values
  }

  public var blocks: Int { blockStart.count - 1 }
  /// FMAs per output column, zeros inside blocks included.
  public var storedValues: Int { values.count }
}
