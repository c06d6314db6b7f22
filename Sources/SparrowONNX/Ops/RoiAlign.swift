//===--- RoiAlign.swift - RoiAlign with regions known at compile time -----===//
//
// The sampling pattern of RoiAlign depends on the regions' coordinates (how many
// samples per bin, where). With `rois` and `batch_indices` known at compile time it is
// computed at import, as the ONNX reference does: per region, output bin and sample, four
// (pixel, weight) taps of a bilinear read. The IR then gathers the region's image
// (gather on the batch axis), reads every tap (one gather_elements over the flattened
// H*W) and reduces: `avg` sums tap * weight / count, `max` takes the max over a sample's
// weighted taps, then over the samples. Regions with fewer samples than the largest are
// padded by repeating their first sample (weight 0 for `avg`, a duplicate for `max`).
// Regions known only at run time are refused with a diagnostic naming inputs to freeze.

import SparrowIR

let roiAlignConverters: [String: Converter] = ["RoiAlign": convertRoiAlign]

private struct Tap { var position = 0; var weight = 0.0 }

private func convertRoiAlign(_ n: ONNXNode) throws -> [ValueID] {
  let x = try n.input(0)
  let xs = n.shape(x)
  guard xs.count == 4 else { throw n.error("RoiAlign needs X [N, C, H, W], got \(n.type(x))") }
  let why = "Sparrow computes the sampling pattern at compile time"
  let rois = try n.compileTimeInput(1, "regions", because: why)
  let batchIndices = try n.compileTimeInput(2, "batch indices", because: why).ints
  let regions = batchIndices.count
  guard rois.shape == [regions, 4], batchIndices.allSatisfy({ $0 >= 0 && $0 < xs[0] }) else {
    throw n.error("RoiAlign rois \(rois.type) and batch_indices do not fit X \(n.type(x))")
  }
  let (channels, height, width) = (xs[1], xs[2], xs[3])
  let (pooledH, pooledW) = (try n.int("output_height", 1), try n.int("output_width", 1))
  let samplingRatio = try n.int("sampling_ratio", 0)
  let spatialScale = Double(try n.float("spatial_scale", 1))
  let halfPixel = try n.string("coordinate_transformation_mode", n.opset >= 16 ? "half_pixel" : "output_half_pixel") == "half_pixel"
  let isMax: Bool
  switch try n.string("mode", "avg") {
  case "avg": isMax = false
  case "max": isMax = true
  case let other: throw n.error("RoiAlign mode '\(other)' is not avg or max")
  }
  guard pooledH > 0, pooledW > 0, pooledH <= 4096, pooledW <= 4096 else {
    throw n.error("RoiAlign output size \(pooledH) x \(pooledW) must be positive and at most 4096 x 4096")
  }
  let box = rois.doubles
  guard box.allSatisfy({ $0.isFinite && abs($0) < 1e9 }), spatialScale.isFinite else {
    throw n.error("RoiAlign regions and spatial_scale must be finite")
  }

  // taps[r][bin][sample] = four taps; counts[r] = samples per bin.
  var taps: [[[[Tap]]]] = []
  var counts: [Int] = []
  var sampled = 0
  for r in 0..<regions {
    let offset = halfPixel ? 0.5 : 0
    let startW = box[4 * r] * spatialScale - offset, startH = box[4 * r + 1] * spatialScale - offset
    var roiW = box[4 * r + 2] * spatialScale - offset - startW
    var roiH = box[4 * r + 3] * spatialScale - offset - startH
    if !halfPixel { roiW = max(roiW, 1); roiH = max(roiH, 1) }
    let binH = roiH / Double(pooledH), binW = roiW / Double(pooledW)
    let gridH = samplingRatio > 0 ? samplingRatio : Int((roiH / Double(pooledH)).rounded(.up))
    let gridW = samplingRatio > 0 ? samplingRatio : Int((roiW / Double(pooledW)).rounded(.up))
    guard gridH >= 0, gridW >= 0, gridH <= 4096, gridW <= 4096, gridH * gridW <= 4096 else {
      throw n.error("RoiAlign region \(r) needs \(gridH) x \(gridW) samples per bin (at most 4096)")
    }
    sampled += pooledH * pooledW * max(gridH * gridW, 1)
    guard sampled <= 1 << 24 else { throw n.error("RoiAlign needs more than 2^24 samples; Sparrow computes them at import") }
    counts.append(max(gridH * gridW, 1))
    var bins: [[[Tap]]] = []
    for ph in 0..<pooledH {
      for pw in 0..<pooledW {
        var samples: [[Tap]] = []
        for iy in 0..<gridH {
          let yy = startH + Double(ph) * binH + (Double(iy) + 0.5) * binH / Double(gridH)
          for ix in 0..<gridW {
            let xx = startW + Double(pw) * binW + (Double(ix) + 0.5) * binW / Double(gridW)
            samples.append(bilinearTaps(y: yy, x: xx, height: height, width: width))
          }
        }
        bins.append(samples)
      }
    }
    taps.append(bins)
  }
  let samples = max(counts.max() ?? 1, 1)
  let perRegion = pooledH * pooledW * samples * 4
  guard regions * perRegion <= 1 << 26 else { throw n.error("RoiAlign needs \(regions * perRegion) sampling taps (at most 2^26)") }
  var positions = [Int64](repeating: 0, count: regions * perRegion)
  var weights = [Double](repeating: 0, count: regions * perRegion)
  for r in 0..<regions {
    for bin in 0..<(pooledH * pooledW) {
      let list = taps[r][bin]
      for s in 0..<samples {
        let source = s < list.count ? list[s] : (list.first ?? [Tap](repeating: Tap(), count: 4))
        let padded = s >= list.count
        for t in 0..<4 {
          let i = ((r * pooledH * pooledW + bin) * samples + s) * 4 + t
          positions[i] = Int64(source[t].position)
          weights[i] = isMax ? source[t].weight : (padded ? 0 : source[t].weight / Double(counts[r]))
        }
      }
    }
  }
  let element = n.type(x).element
  let indices = n.constant(Tensor(shape: [regions], scalars: batchIndices.map { Int64($0) }), "batch_indices")
  let images = try n.reshape(try n.emit1(.gather, [x, indices], ["axis": .int(0)]), [regions, channels, height * width])
  let index = try n.emit1(.expand, [n.constant(Tensor(shape: [regions, 1, perRegion], scalars: positions), "positions")],
                          ["shape": .ints([regions, channels, perRegion])])
  let read = try n.emit1(.gather_elements, [images, index], ["axis": .int(2)])
  let weighted = try n.emit1(.mul, [read, n.constant(fromScalars(TensorType(element, [regions, 1, perRegion]), .floats(weights)), "weights")])
  let bins = [regions, channels, pooledH * pooledW, samples, 4]
  let reduce: OpKind = isMax ? .reduce_max : .reduce_sum
  let y = try n.emit1(reduce, [try n.reshape(weighted, bins)], ["axes": .ints([3, 4]), "keepdims": .bool(false)])
  return [try n.reshape(y, [regions, channels, pooledH, pooledW])]
}

/// The reference's four bilinear taps at (y, x); all weights 0 outside [-1, size].
private func bilinearTaps(y yIn: Double, x xIn: Double, height: Int, width: Int) -> [Tap] {
  if yIn < -1 || yIn > Double(height) || xIn < -1 || xIn > Double(width) {
    return [Tap](repeating: Tap(), count: 4)
  }
  var y = max(yIn, 0), x = max(xIn, 0)
  var yLow = Int(y), xLow = Int(x), yHigh: Int, xHigh: Int
  if yLow >= height - 1 { yLow = height - 1; yHigh = yLow; y = Double(yLow) } else { yHigh = yLow + 1 }
  if xLow >= width - 1 { xLow = width - 1; xHigh = xLow; x = Double(xLow) } else { xHigh = xLow + 1 }
  let ly = y - Double(yLow), lx = x - Double(xLow)
  let hy = 1 - ly, hx = 1 - lx
  return [Tap(position: yLow * width + xLow, weight: hy * hx), Tap(position: yLow * width + xHigh, weight: hy * lx),
          Tap(position: yHigh * width + xLow, weight: ly * hx), Tap(position: yHigh * width + xHigh, weight: ly * lx)]
}
