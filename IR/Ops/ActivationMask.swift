//===--- ActivationMask.swift - masked convs: kept output positions -------===//
//
//   %y = conv %x, %w {kept_positions = [0, 2, 5, ...], ...}
//   %y = conv %x, %w, %b {kept_positions = [...], masked_fill = 0.0, epilogue = ["relu"]}
//
// A conv with `kept_positions` (written by fold-activation-masks) computes its weights x
// inputs sum only at those flat positions of the output plane (oy * OW + ox), the same
// for every channel and image; elsewhere the sum is 0 and bias and epilogue apply as
// usual (so a later BatchNorm fold or activation fusion stays exact). With `masked_fill`
// the other positions store exactly that value instead (bias and epilogue skipped).
// Positions are the same in both layouts: with `layout = "nhwc"` position p is the row
// of C channels at [n, p / OW, p % OW, :].

/// The activation mask of a conv: which output positions it computes.
public struct ActivationMask: Hashable, Sendable {
  /// Flat output-plane positions that are computed, sorted and distinct.
  public var kept: [Int]
  /// Number of positions in one output plane.
  public var planeSize: Int
  /// The value stored at masked positions, or nil when they get bias and epilogue of 0.
  public var fill: Float?

  public init(kept: [Int], planeSize: Int, fill: Float?) {
    self.kept = kept
    self.planeSize = planeSize
    self.fill = fill
  }

  /// The mask of a conv with these attributes and output shape (in the conv's `layout`),
  /// nil when it computes every position.
  public init?(_ attributes: Attributes, output: [Int]) {
    guard attributes.kind == .conv, let kept = attributes.optionalInts("kept_positions") else { return nil }
    var fill: Float?
    if case let .float(v)? = attributes["masked_fill"] { fill = v }
    let spatial = attributes.convLayout == .nhwc ? output.dropFirst().dropLast() : output.dropFirst(2)
    self.init(kept: kept, planeSize: spatial.reduce(1, *), fill: fill)
  }

  /// The masked positions, ascending.
  public var masked: [Int] {
    var isKept = [Bool](repeating: false, count: planeSize)
    for p in kept { isKept[p] = true }
    return (0..<planeSize).filter { !isKept[$0] }
  }

  /// The share of output positions that are masked (0 to 1).
  public var maskedRatio: Double {
    planeSize == 0 ? 0 : Double(planeSize - kept.count) / Double(planeSize)
  }
}

/// `kept_positions` must be sorted, distinct positions of the output plane of a 2-D conv
/// with group 1; `masked_fill` needs `kept_positions`.
func checkKeptPositions(_ a: Attributes, outputPlane out: [Int]) throws {
  guard let kept = a.optionalInts("kept_positions") else {
    try expect(a.values["masked_fill"] == nil, "conv masked_fill needs kept_positions")
    return
  }
  try expect(out.count == 2 && a.int("group") == 1, "conv kept_positions needs a 2-D conv with group 1")
  let plane = out.reduce(1, *)
  try expect(kept.allSatisfy { $0 >= 0 && $0 < plane },
             "conv kept_positions must lie in the output plane [0, \(plane))")
  try expect(zip(kept, kept.dropFirst()).allSatisfy { $0 < $1 },
             "conv kept_positions must be sorted and distinct")
}
