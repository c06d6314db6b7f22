//===--- ActivationMaskTests.swift - fold-activation-masks on the interpreter ---===//

import SparrowIR
import SparrowInterpreter
@testable import SparrowPasses
import XCTest
import SparrowTargetSupport
import SparrowTestSupport

final class ActivationMaskTests: XCTestCase {
  /// A seeded [1, 1, h, w] mask keeping about `keep` of the positions.
  private func mask(_ h: Int, _ w: Int, keep: Double, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<h * w).map { _ in g.unit() < keep ? 1 : 0 }
  }

  /// conv (stride, pad, optional bias) -> mask -> batch_norm -> relu, as mask_activations.py writes.
  private func maskedModel(kernel: Int, stride: Int, bias: Bool, maskFirst: Bool, keep: Double) -> Module {
    makeModule { b in
      let x = b.addArgument(name: "x", type: f32([2, 3, 9, 9]))
      let w = b.weight([4, 3, kernel, kernel], "w", seed: 1)
      var operands = [x, w]
      if bias { operands.append(b.weight([4], "b", seed: 2)) }
      let c = try! b.conv(operands, kernel: kernel, stride: stride, pad: kernel / 2, name: "c")
      let out = b.function.type(of: c).shape
      let m = b.constant(Tensor(shape: [1, 1, out[2], out[3]],
                                 scalars: mask(out[2], out[3], keep: keep, seed: 7)), name: "mask")
      let y = try! b.add1(.mul, maskFirst ? [m, c] : [c, m], name: "masked")
      let s = b.weight([4], "s", seed: 3), t = b.weight([4], "t", seed: 4)
      let mean = b.weight([4], "mean", seed: 5), v = b.weight([4], "v", seed: 6, in: 0.5...2)
      let n = try! b.add1(.batch_norm, [y, s, t, mean, v], name: "bn")
      return [try! b.add1(.relu, [n], name: "y")]
    }
  }

  func testMaskedConvsMatchTheUnmaskedGraphAtEveryRatio() throws {
    for keep in [0.0, 0.25, 0.5, 0.75, 1.0] {
      for (kernel, stride) in [(3, 1), (3, 2), (1, 1)] {
        for bias in [false, true] {
          let before = maskedModel(kernel: kernel, stride: stride, bias: bias, maskFirst: bias, keep: keep)
          let after = try optimized(before, "fold-activation-masks,fold-batch-norm,fuse-epilogue,fold-activation-masks,dce")
          let convs = ops(after, .conv)
          XCTAssertEqual(convs.count, 1)
          XCTAssertNotNil(convs.first?.attributes.optionalInts("kept_positions"), "keep \(keep) k\(kernel)")
          XCTAssertFalse(opKinds(after).contains("mul"))
          assertEquivalent(before, after)
        }
      }
    }
  }

  func testZeroBiasMaskFoldsBeforeBatchNormWithoutFill() throws {
    let before = maskedModel(kernel: 3, stride: 1, bias: false, maskFirst: false, keep: 0.5)
    let after = try optimized(before, "fold-activation-masks,fold-batch-norm,fuse-epilogue,dce")
    XCTAssertEqual(opKinds(after).filter { $0 != "constant" }, ["conv"])
    let conv = try XCTUnwrap(ops(after, .conv).first)
    XCTAssertNil(conv.attributes.values["masked_fill"])
    XCTAssertEqual(epilogue(conv), ["relu"])
    assertEquivalent(before, after)
  }

  func testO2FoldsTheMask() throws {
    let before = maskedModel(kernel: 3, stride: 1, bias: false, maskFirst: false, keep: 0.5)
    let after = try optimized(before, Pipelines.O2.joined(separator: ","))
    XCTAssertEqual(ops(after, .conv).count, 1)
    XCTAssertNotNil(ops(after, .conv)[0].attributes.optionalInts("kept_positions"))
    assertEquivalent(before, after)
  }

  /// A residual block as ResNet-18's: conv 3x3 -> mask -> BN -> relu -> conv 3x3 -> mask
  /// -> BN -> + x -> relu, `channels` wide at `size` x `size`.
  private func maskedBlock(channels: Int, size: Int, keep: Double) -> Module {
    makeModule { b in
      let x = b.addArgument(name: "x", type: f32([1, channels, size, size]))
      var h = x
      for i in 0..<2 {
        let c = try! b.conv([h, b.weight([channels, channels, 3, 3], "w\(i)", seed: UInt64(10 + i), in: -0.05...0.05)],
                            kernel: 3, pad: 1, name: "c\(i)")
        let m = b.constant(Tensor(shape: [1, 1, size, size], scalars: mask(size, size, keep: keep, seed: UInt64(20 + i))),
                           name: "mask\(i)")
        let y = try! b.add1(.mul, [c, m], name: "masked\(i)")
        let n = try! b.add1(.batch_norm, [y, b.weight([channels], "s\(i)", seed: 30), b.weight([channels], "t\(i)", seed: 31),
                                         b.weight([channels], "mean\(i)", seed: 32),
                                         b.weight([channels], "v\(i)", seed: 33, in: 0.5...2)], name: "bn\(i)")
        h = try! b.add1(.relu, [i == 1 ? try! b.add1(.add, [n, x], name: "sum") : n], name: "r\(i)")
      }
      return [h]
    }
  }

  /// choose-conv-layout takes masked convs channels-last with their neighbours: no
  /// transpose between the two masked convs of a block, and the same outputs.
  func testMaskedConvsGoChannelsLast() throws {
    let before = maskedBlock(channels: 32, size: 12, keep: 0.3)
    for layout in ["nhwc", "auto"] {
      let after = try optimized(before, Pipelines.O2.joined(separator: ",")
        .replacingOccurrences(of: "choose-conv-layout", with: "choose-conv-layout{layout=\(layout)}"))
      let convs = ops(after, .conv)
      XCTAssertEqual(convs.count, 2)
      XCTAssert(convs.allSatisfy { $0.attributes.optionalInts("kept_positions") != nil && $0.attributes.convLayout.rawValue == "nhwc" },
                "\(layout): \(convs.map(\.attributes))")
      XCTAssertEqual(ops(after, .transpose).count, 2, layout)  // the input's and the result's
      let report = activationMaskReport(after), nchw = activationMaskReport(try optimized(before, "fold-activation-masks"))
      XCTAssertEqual(report.map(\.flopsSaved), nchw.map(\.flopsSaved))
      XCTAssertEqual(report.map(\.maskedRatio), nchw.map(\.maskedRatio))
      assertEquivalent(before, after)
    }
  }

  /// A mask keeping more than the Winograd conv's share of the work stays a mul (and the
  /// dense conv goes Winograd); a sparser one folds; with `winograd=off` every mask folds.
  func testMaskFoldsOnlyWhereItBeatsWinograd() throws {
    func masked(keep: Double, winograd: String = "auto") throws -> [Bool] {
      let m = try optimized(maskedBlock(channels: 64, size: 56, keep: keep),
                            "fold-activation-masks{winograd=\(winograd)},fold-batch-norm,fuse-epilogue,fold-activation-masks{winograd=\(winograd)},lower-conv{winograd=\(winograd)}")
      return ops(m, .conv).map { $0.attributes.optionalInts("kept_positions") != nil }
    }
    XCTAssertEqual(try masked(keep: 0.7), [false, false])
    XCTAssertEqual(try masked(keep: 0.25), [true, true])
    XCTAssertEqual(try masked(keep: 0.7, winograd: "off"), [true, true])
  }

  func testVerifierRejectsUnsortedKeptPositions() throws {
    var m = maskedModel(kernel: 3, stride: 1, bias: false, maskFirst: false, keep: 0.5)
    m = try optimized(m, "fold-activation-masks")
    let i = try XCTUnwrap(m.main.ops.firstIndex { $0.kind == .conv })
    m.main.ops[i].attributes.values["kept_positions"] = .ints([3, 1])
    XCTAssertThrowsError(try verify(m))
  }

  func testReportCountsMaskedPositionsAndSavedFLOPs() throws {
    let m = try optimized(maskedModel(kernel: 3, stride: 1, bias: false, maskFirst: false, keep: 0.5),
                          "fold-activation-masks")
    let expectedMasked = mask(9, 9, keep: 0.5, seed: 7).filter { $0 == 0 }.count
    let report = activationMaskReport(m)
    XCTAssertEqual(report.count, 1)
    XCTAssertEqual(report.first?.maskedRatio ?? -1, Double(expectedMasked) / 81, accuracy: 1e-12)
    // 2 FLOPs x batch 2 x 4 filters x (3 x 3 x 3) taps per masked position.
    XCTAssertEqual(report.first?.flopsSaved, 2 * 2 * 4 * 27 * expectedMasked)
    XCTAssertEqual(activationMaskTable(m).count, 4)
  }
}
