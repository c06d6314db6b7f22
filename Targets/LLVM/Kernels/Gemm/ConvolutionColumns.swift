//===--- ConvolutionColumns.swift - im2col gathered while packing B (implicit GEMM) ---===//
//
// A convolution's GEMM reads B = im2col(x), K = C*kh*kw rows by P = oh*ow columns. The
// explicit column matrix (Im2col.swift) is written once and read back by the packer: for
// YOLO's 32x40x40 3x3 conv that is 1.8 MB, out of L2, twice. Here the packer gathers each
// K x N block of B straight from the zero-bordered input planes (a few hundred KiB, in L2):
//
//   B[(c*kh + i)*kw + j][oy*ow + ox] = planes[c][oy*sy + i*dy][ox*sx + j*dx]
//
// A vector of `lanes` consecutive columns p ..< p+lanes crosses output rows: lane L is
// output (oy0 + s, ox0 + L - s*ow) for the s with s*ow <= ox0 + L < (s+1)*ow. Each such
// row segment is one masked load (stride 2: two, keeping the even lanes), merged through
// the loads' pass-through; lanes at or past P stay zero. The segment masks and bases
// depend on p only, so they are computed once per panel vector and reused for every row k.

internal import CLLVM

/// Where a convolution's column matrix is read from: zero-bordered input planes
/// [channels][planeHeight][planeWidth] (Im2col.padPlanes), strides 1 or 2.
public struct ConvolutionColumns: Sendable {
  public var channels: Int, kh: Int, kw: Int, oh: Int, ow: Int
  public var strides: [Int], dilations: [Int]
  public var planeHeight: Int, planeWidth: Int
}

extension GemmEmitter {
  /// Packs B[k0 ..< k0+kc, n0 ..< n0+columns] of the column matrix into panels
  /// [panel][kBlock][width], like `emitPackB` for a row-major B.
  func emitPackColumns(_ g: ConvolutionColumns, planes: Value, into scratch: Value, n0: Value, k0: Value,
                       kc: Value, columns: Int) {
    let width = t.vectors * cg.lanes
    func packPanel(_ panel: Value, cols: Int) {
      g.pack(cg, planes: planes, into: cg.at(scratch, cg.mul(panel, t.kBlock * width)),
             first: cg.add(n0, cg.mul(panel, width)), columns: cols, of: d.n, k0: k0, kc: kc, vectors: t.vectors)
    }
    let fullPanels = columns / width
    if fullPanels > 0 { cg.forLoop(0, fullPanels) { panel in packPanel(panel, cols: width) } }
    if columns % width > 0 { packPanel(cg.int(fullPanels), cols: columns % width) }
  }
}

extension ConvolutionColumns {
  /// Packs rows k0 ..< k0+kc of columns first ..< first+columns (of `n` in all; the lanes
  /// past n are zero) into `destination` rows of `vectors` x lanes floats:
  /// destination[kk][t] = B[k0 + kk][first + t]. The dense GEMM packs its panels with it,
  /// the sparse one (Kernels/Sparse/SparsePacking.swift) its single panel.
  func pack(_ cg: CodegenModule, planes: Value, into destination: Value, first: Value, columns: Int, of n: Int,
            k0: Value, kc: Value, vectors: Int) {
    let lanes = cg.lanes, width = vectors * lanes
    let (sy, sx, dy, dx) = (strides[0], strides[1], dilations[0], dilations[1])
    let plane = planeHeight * planeWidth
    // Output rows one vector can touch.
    let segments = 1 + (lanes - 1 + ow - 1) / ow
    let laneIndex = (0..<lanes).map { $0 }
    // Lane of the result each loaded element feeds (stride 2 loads 2 x lanes elements).
    let elementLanes: [[Int]] = sx == 1 ? [laneIndex] : [laneIndex.map { $0 / 2 }, laneIndex.map { $0 / 2 + lanes / 2 }]
    // Per vector: each segment's base offset (row k = 0) and element masks.
    var bases: [[Value]] = [], masks: [[[Value]]] = []
    for v in 0..<vectors where v * lanes < columns {
      let p = cg.add(first, v * lanes)
      let oy0 = cg.udiv(p, ow)
      let ox0 = cg.sub(p, cg.mul(oy0, ow))
      let valid = cg.sub(cg.int(n), p)  // lanes < valid are columns of B
      var vectorBases: [Value] = [], vectorMasks: [[Value]] = []
      for s in 0..<segments {
        let row = cg.add(oy0, s)
        // Lane 0's address in this row, as if the row extended to the left.
        vectorBases.append(cg.add(cg.mul(row, sy * planeWidth), cg.mul(cg.sub(ox0, cg.int(s * ow)), sx)))
        vectorMasks.append(elementLanes.map { lanesOfElements in
          let lane = cg.intVector(lanesOfElements)
          let q = cg.add(lane, cg.splat(i64: ox0))
          let inSegment = LLVMBuildAnd(cg.builder, cg.icmp(LLVMIntSGE, q, cg.splat(i64: cg.int(s * ow))),
                                       cg.icmp(LLVMIntSLT, q, cg.splat(i64: cg.int((s + 1) * ow))), "")!
          return LLVMBuildAnd(cg.builder, inSegment, cg.icmp(LLVMIntSLT, lane, cg.splat(i64: valid)), "")!
        })
      }
      bases.append(vectorBases)
      masks.append(vectorMasks)
    }
    cg.forLoop(cg.int(0), kc) { kk in
      let r = cg.add(k0, kk)
      let c = cg.udiv(r, kh * kw)
      let tap = cg.sub(r, cg.mul(c, kh * kw))
      let i = cg.udiv(tap, kw)
      let j = cg.sub(tap, cg.mul(i, kw))
      let rowBase = cg.at(planes, cg.add(cg.add(cg.mul(c, plane), cg.mul(i, dy * planeWidth)), cg.mul(j, dx)))
      let dst = cg.at(destination, cg.mul(kk, width))
      for v in 0..<vectors {
        guard v < bases.count else { cg.store(vector: cg.splat(0), at: cg.at(dst, v * lanes)); continue }
        var parts = elementLanes.map { _ in cg.splat(0) }
        for s in 0..<segments {
          // Segments past the last output row are masked off; their base may leave the planes.
          let base = cg.unboundedAt(rowBase, bases[v][s])
          for h in parts.indices {
            parts[h] = cg.load(vectorAt: cg.unboundedAt(base, cg.int(h * lanes)), mask: masks[v][s][h], passthrough: parts[h])
          }
        }
        cg.store(vector: sx == 1 ? parts[0] : cg.evenLanes(parts[0], parts[1]), at: cg.at(dst, v * lanes))
      }
    }
  }
}
