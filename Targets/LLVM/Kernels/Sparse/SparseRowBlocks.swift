//===--- SparseRowBlocks.swift - a constant sparse weight, grouped into row blocks ---===//
//
// The weight W [M, K] (dense floats, known at compile time) split into blocks of R rows.
// Per block, the union of the columns k where any of its rows is non-zero, and per such
// k the R values (zero where a row does not use k). One X row load then serves R rows:
// for #bsr<R,C> this is exactly its blocks; for N:M and unstructured weights it shares
// X wherever rows of a block agree on k. Empty columns are skipped, so the work is
// (active columns) x R x N FMAs.

/// W [M, K] as per-block active columns and their R values, K split into blocks of
/// `kBlock` so the X rows one K block touches stay in L1 while every row block uses them.
public struct SparseRowBlocks: Sendable {
  public let rows: Int
  public let k: Int
  /// Rows per block (M is padded to a multiple with zero rows).
  public let blockRows: Int
  public let kBlock: Int
  /// For row block b and K block kb, entries blockStart[i]..<blockStart[i+1] with
  /// i = b * kBlocks + kb index `columns` and (times blockRows) `values`.
  public let blockStart: [Int64]
  public let columns: [Int32]
  public let values: [Float]

  public init(weight w: [Float], rows: Int, k: Int, blockRows: Int, kBlock: Int = 128) {
    precondition(w.count == rows * k && blockRows >= 1 && kBlock >= 1, "weight \(w.count) for \(rows)x\(k)")
    self.rows = rows
    self.k = k
    self.blockRows = blockRows
    self.kBlock = kBlock
    var start: [Int64] = [0], columns: [Int32] = [], values: [Float] = []
    for b0 in stride(from: 0, to: rows, by: blockRows) {
      for k0 in stride(from: 0, to: max(k, 1), by: kBlock) {
        for kk in k0..<min(k, k0 + kBlock) {
          let r = (b0..<min(rows, b0 + blockRows))
          guard r.contains(where: { w[$0 * k + kk] != 0 }) else { continue }
          columns.append(Int32(kk))
          for i in b0..<(b0 + blockRows) { values.append(i < rows ? w[i * k + kk] : 0) }
        }
        start.append(Int64(columns.count))
      }
    }
    self.blockStart = start
    self.columns = columns
    self.values = values
  }

  public var blocks: Int { (rows + blockRows - 1) / blockRows }
  public var kBlocks: Int { max(1, (k + kBlock - 1) / kBlock) }
  /// FMAs per output column, zeros inside blocks included.
  public var storedValues: Int { values.count }
}
