//===--- SparseRowBlocks.swift - a constant sparse weight, grouped into row blocks ---===//
//
// The weight W [M, K] (dense floats, known at compile time) split into blocks of R rows
// and K blocks of `kBlock` columns (the X rows one K block touches stay in L1 while
// every row block uses them). Per (row block, K block) a list of entries, in one of
// these arrangements:
//
//   shared (union)  one column k per entry and the R rows' values at k (zero where a row
//                   does not use k): one X row load serves R rows. Exact for #bsr<R,C>;
//                   for N:M and unstructured weights it computes the union of the rows'
//                   columns (2:4 over 4 rows: ~94% of K, a dense GEMM).
//   lockstep        one column per row per entry: entry j holds row r's j-th non-zero
//                   (k_r, w_r) for every r. No zero is computed for N:M weights (every
//                   row has the same count per K block); a row with fewer non-zeros (CSR)
//                   is padded with zero weights. Each FMA loads its own X vector, but the
//                   R x vectors accumulators are independent chains and the loop, index
//                   and weight loads are amortized over R rows.
//   hybrid          shared entries for the columns at least `sharedRows` rows of the
//                   block use (one X load for several rows), lockstep entries for the
//                   rest: trades a few zero FMAs for fewer X loads.
//
// Each arrangement is one or two `Entries` parts; the kernel runs them one after another
// on the same accumulators.

/// W [M, K] as per-block entries (columns and values).
public struct SparseRowBlocks: Sendable {
  /// How the entries of a row block are arranged (see the file comment).
  public enum Arrangement: String, Sendable {
    case shared, lockstep, hybrid
  }

  /// One list of entries, all with `columnsPerEntry` columns (1: shared, R: lockstep).
  public struct Entries: Sendable {
    public let columnsPerEntry: Int
    /// For row block b and K block kb, entries blockStart[i]..<blockStart[i+1] with
    /// i = kb * blocks + b: the order the kernel reads them (every row block of one K
    /// block, then the next K block), so the tables stream sequentially from memory.
    /// Entry j has columns[j * columnsPerEntry...] and blockRows values at
    /// values[j * blockRows...].
    public var blockStart: [Int64] = [0]
    /// Absolute column indices k.
    public var columns: [Int32] = []
    public var values: [Float] = []
  }

  public let rows: Int
  public let k: Int
  /// Rows per block (M is padded to a multiple with zero rows).
  public let blockRows: Int
  public let kBlock: Int
  public let arrangement: Arrangement
  public let parts: [Entries]

  /// `sharedRows` (hybrid only): how many of a block's rows must use a column for it to
  /// become a shared entry (default: all of them).
  public init(weight w: [Float], rows: Int, k: Int, blockRows: Int, kBlock: Int = 128,
              arrangement: Arrangement = .shared, sharedRows: Int? = nil) {
    precondition(w.count == rows * k && blockRows >= 1 && kBlock >= 1, "weight \(w.count) for \(rows)x\(k)")
    self.rows = rows
    self.k = k
    self.blockRows = blockRows
    self.kBlock = kBlock
    self.arrangement = arrangement
    let threshold: Int
    switch arrangement {
    case .shared: threshold = 1
    case .lockstep: threshold = Int.max
    case .hybrid: threshold = max(1, sharedRows ?? blockRows)
    }
    var shared = Entries(columnsPerEntry: 1), lockstep = Entries(columnsPerEntry: blockRows)
    for k0 in stride(from: 0, to: max(k, 1), by: kBlock) {
      let kRange = k0..<min(k, k0 + kBlock)
      for b0 in stride(from: 0, to: rows, by: blockRows) {
        let blockRange = b0..<(b0 + blockRows)
        let users = kRange.map { kk in blockRange.filter { $0 < rows && w[$0 * k + kk] != 0 }.count }
        let isShared = { (kk: Int) in users[kk - k0] >= threshold }
        for kk in kRange where users[kk - k0] > 0 && isShared(kk) {
          shared.columns.append(Int32(kk))
          for i in blockRange { shared.values.append(i < rows ? w[i * k + kk] : 0) }
        }
        let perRow = blockRange.map { i in i < rows ? kRange.filter { w[i * k + $0] != 0 && !isShared($0) } : [] }
        let count = perRow.map(\.count).max() ?? 0
        for j in 0..<count {
          for (r, used) in perRow.enumerated() {
            // Padding: a zero weight at a column the row block reads anyway.
            let kk = j < used.count ? used[j] : (used.last ?? perRow.first { !$0.isEmpty }?.first ?? k0)
            lockstep.columns.append(Int32(kk))
            lockstep.values.append(j < used.count ? w[(b0 + r) * k + kk] : 0)
          }
        }
        shared.blockStart.append(Int64(shared.columns.count))
        lockstep.blockStart.append(Int64(lockstep.columns.count / blockRows))
      }
    }
    switch arrangement {
    case .shared: parts = [shared]
    case .lockstep: parts = [lockstep]
    case .hybrid: parts = [shared, lockstep]
    }
  }

  public var blocks: Int { (rows + blockRows - 1) / blockRows }
  public var kBlocks: Int { max(1, (k + kBlock - 1) / kBlock) }
  /// FMAs per output column, zeros computed included.
  public var storedValues: Int { parts.map(\.values.count).reduce(0, +) }
}
