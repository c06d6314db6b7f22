//===--- PaddedPlane.swift - one input plane with a constant border, read a vector at a time ---===//
//
//   scratch:  [paddedHeight][paddedWidth], the input at (top, left), `border` elsewhere
//   tap(row, ox0, i, j) = lanes ox0 ..< ox0+L of   plane[oy*sy + i*dy][ox*sx + j*dx]
//
// Window kernels (depthwise conv, max pool) copy each input plane into the interior and
// then read every tap without bounds checks. The border is written once per call
// (`fill`) and never touched by `copy`, so it holds for every plane. The plane is wide
// and tall enough that the reads of the last, partial output vector stay inside it.
// Stride 1 reads one unaligned vector per tap; stride 2 two, keeping the even lanes.

internal import CLLVM

struct PaddedPlane {
  let cg: CodegenModule
  let height: Int, width: Int, oh: Int, ow: Int
  let kernel: [Int], strides: [Int], pads: [Int], dilations: [Int]

  /// Whether the horizontal stride has a vector form (1 or 2).
  var isSupported: Bool { strides[1] <= 2 }

  var paddedWidth: Int {
    let rounded = (ow + cg.lanes - 1) / cg.lanes * cg.lanes
    return max(pads[1] + width + pads[3], rounded * strides[1] + (kernel[1] - 1) * dilations[1])
  }
  var paddedHeight: Int { max(pads[0] + height + pads[2], (oh - 1) * strides[0] + (kernel[0] - 1) * dilations[0] + 1) }
  var floats: Int { paddedWidth * paddedHeight }
  /// Scratch bytes for one plane, 64-byte aligned.
  var scratchBytes: Int { (floats + 15) / 16 * 64 }

  /// Writes `value` over the whole plane.
  func fill(_ plane: Value, with value: Float) {
    if value == 0 { return cg.zeroFloats(plane, count: floats) }
    let v = cg.splat(value)
    cg.forEachVector(count: floats) { i, valid in cg.store(vector: v, at: cg.at(plane, i), lanes: valid) }
  }

  /// Copies the `height x width` input at `source` into the interior.
  func copy(from source: Value, into plane: Value) {
    cg.forLoop(0, height) { iy in
      cg.copyFloats(from: cg.at(source, cg.mul(iy, width)),
                    to: cg.at(plane, cg.add(cg.mul(iy, paddedWidth), pads[0] * paddedWidth + pads[1])), count: width)
    }
  }

  /// The first element read by output row `oy`.
  func row(_ plane: Value, oy: Value) -> Value { cg.at(plane, cg.mul(oy, strides[0] * paddedWidth)) }

  /// Tap (i, j) for output lanes ox0 ..< ox0 + L of the row starting at `row`.
  func tap(_ row: Value, ox0: Value, i: Int, j: Int) -> Value {
    let p = cg.at(row, cg.add(cg.mul(ox0, strides[1]), i * dilations[0] * paddedWidth + j * dilations[1]))
    if strides[1] == 1 { return cg.load(vectorAt: p) }
    return cg.evenLanes(cg.load(vectorAt: p), cg.load(vectorAt: cg.at(p, cg.lanes)))
  }
}
