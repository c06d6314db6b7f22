//===--- IntegerActivations.swift - the int8 GEMM's run-time operand, packed ---===//
//
//   padded input (only with pads): zero-point bordered copy, NCHW [C][Hp][Wp] or
//                                  NHWC [Hp][Wp][C] (memset + row memcpys)
//   columns (qconv NCHW, B):       words [kq][paddedN], word (q, p) = the K group q of
//                                  im2col column p: planes[c][oy*sy + i*dy][ox*sx + j*dx]
//   rows (qmatmul, qconv NHWC, A): elements [P][kq * depth], row p = im2col row p in
//                                  (i, j, c) order; a word is `depth` consecutive elements
//
// Elements are s16 (.pairs: u8 zero-extended, i8 sign-extended) or u8 (.quads: i8 x
// flipped by x ^ 0x80, its zero point then + 128, IntegerGemmLowering). The padding reads
// the (stored) zero point, which contributes nothing: bias' already subtracts zx * sum W'.
// K past the last group is zero (the weights there are zero too). With the border in
// the copy the gathers need no bounds checks: the inner loops run over consecutive
// output columns (NCHW) or channels (NHWC) and LLVM vectorizes them.

internal import CLLVM
import SparrowIR

/// A convolution's (or a matmul's, as a 1x1 conv over a [1, M] image of K channels)
/// geometry for one image.
struct IntegerConvGeometry {
  let channels: Int, height: Int, width: Int
  let kh: Int, kw: Int, oh: Int, ow: Int
  let strides: [Int], dilations: [Int]
  /// top, left, bottom, right
  let pads: [Int]
  let channelsLast: Bool

  var padded: Bool { pads.contains { $0 != 0 } }
  var paddedHeight: Int { height + pads[0] + pads[2] }
  var paddedWidth: Int { width + pads[1] + pads[3] }
  var paddedBytes: Int { channels * paddedHeight * paddedWidth }
  var k: Int { channels * kh * kw }
  var positions: Int { oh * ow }

  /// A qmatmul's rows as a 1x1 conv.
  static func matmul(rows: Int, k: Int) -> IntegerConvGeometry {
    IntegerConvGeometry(channels: k, height: 1, width: rows, kh: 1, kw: 1, oh: 1, ow: rows,
                        strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], channelsLast: true)
  }
}

/// How input elements become packed elements.
struct IntegerElementPacking {
  let input: ElementType
  let dot: IntegerDotProduct
  /// The raw zero point of the input (stored in the padding).
  let zeroPoint: Int

  /// Bits per packed element.
  var bits: Int { 32 / dot.depth }
  /// x ^ 0x80 for i8 into .quads.
  var flips: Bool { dot == .quads && input == .i8 }

  /// The packed element as an i32 bit pattern in its low `bits` (zero above).
  func pattern(_ cg: CodegenModule, _ x: Value) -> Value {
    if dot == .quads {
      let byte = flips ? LLVMBuildXor(cg.builder, x, LLVMConstInt(cg.i8, 0x80, 0), "")! : x
      return LLVMBuildZExt(cg.builder, byte, cg.i32, "")!
    }
    if input == .u8 { return LLVMBuildZExt(cg.builder, x, cg.i32, "")! }
    let half = LLVMBuildSExt(cg.builder, x, LLVMInt16TypeInContext(cg.context), "")!
    return LLVMBuildZExt(cg.builder, half, cg.i32, "")!
  }

  /// The packed element type (i16 or i8) of a row buffer.
  func storage(_ cg: CodegenModule) -> LType { dot == .pairs ? LLVMInt16TypeInContext(cg.context) : cg.i8 }
}

extension CodegenModule {
  /// Copies one image `x` into `buffer` with a border of the zero point.
  func emitPaddedInput(_ g: IntegerConvGeometry, _ x: Value, into buffer: Value, zeroPoint: Int) {
    let fill = LLVMConstInt(i8, UInt64(UInt8(truncatingIfNeeded: zeroPoint)), 0)
    LLVMBuildMemSet(builder, bytes(buffer), fill, int(g.paddedBytes), 1)
    let (hp, wp, c) = (g.paddedHeight, g.paddedWidth, g.channels)
    if g.channelsLast {
      forLoop(0, g.height) { y in
        let to = add(mul(add(y, g.pads[0]), wp * c), g.pads[1] * c)
        LLVMBuildMemCpy(builder, byteAt(buffer, to), 1, byteAt(x, mul(y, g.width * c)), 1, int(g.width * c))
      }
    } else {
      forLoop(0, c * g.height) { row in
        let plane = udiv(row, g.height), y = urem(row, g.height)
        let to = add(add(mul(plane, hp * wp), mul(add(y, g.pads[0]), wp)), int(g.pads[1]))
        LLVMBuildMemCpy(builder, byteAt(buffer, to), 1, byteAt(x, mul(row, g.width)), 1, int(g.width))
      }
    }
  }

  /// Writes words [q][paddedN] for q in [firstGroup, endGroup) of the column matrix of
  /// `source` (NCHW planes, bordered when the conv pads).
  func emitPackColumns(_ g: IntegerConvGeometry, _ e: IntegerElementPacking, source: Value, into words: Value,
                       paddedN: Int, groups: (Value, Value)) {
    let (hp, wp) = g.padded ? (g.paddedHeight, g.paddedWidth) : (g.height, g.width)
    let depth = e.dot.depth, fullGroups = g.k / depth, taps = g.kh * g.kw
    let out = LLVMBuildBitCast(builder, words, LLVMPointerType(i32, 0), "")!
    // Group q with `count` valid rows (the last group may hold fewer).
    func packGroup(_ q: Value, count: Int) {
      let bases = (0..<count).map { d -> Value in
        let r = add(mul(q, depth), d)
        let c = udiv(r, taps), tap = urem(r, taps)
        let i = udiv(tap, g.kw), j = urem(tap, g.kw)
        return add(add(mul(c, hp * wp), mul(i, g.dilations[0] * wp)), mul(j, g.dilations[1]))
      }
      forLoop(0, g.oh) { oy in
        let row = gep(i32, out, add(mul(q, paddedN), mul(oy, g.ow)))
        let rowBases = bases.map { add($0, mul(oy, g.strides[0] * wp)) }
        forLoop(0, g.ow) { ox in
          var word = int32(0)
          for (d, base) in rowBases.enumerated() {
            let x = LLVMBuildLoad2(builder, i8, byteAt(source, add(base, mul(ox, g.strides[1]))), "")!
            let bits = e.pattern(self, x)
            word = LLVMBuildOr(builder, word, d == 0 ? bits : LLVMBuildShl(builder, bits, int32(d * e.bits), "")!, "")!
          }
          LLVMSetAlignment(LLVMBuildStore(builder, word, gep(i32, row, ox)), 4)
        }
      }
    }
    let end = smin(groups.1, int(fullGroups))
    forLoop(groups.0, end) { q in packGroup(q, count: depth) }
    if g.k % depth != 0 {
      ifThen(icmp(LLVMIntSGT, groups.1, int(fullGroups))) { packGroup(int(fullGroups), count: g.k % depth) }
    }
  }

  /// Writes rows [firstRow, endRow) of the im2col matrix of `source` (NHWC, bordered when
  /// the conv pads; a matmul's [M, K]) as packed elements [P][kq * depth].
  func emitPackRows(_ g: IntegerConvGeometry, _ e: IntegerElementPacking, source: Value, into buffer: Value,
                    rows: (Value, Value)) {
    let wp = g.padded ? g.paddedWidth : g.width
    let c = g.channels, depth = e.dot.depth
    let stride = (g.k + depth - 1) / depth * depth
    let storage = e.storage(self)
    let out = LLVMBuildBitCast(builder, buffer, LLVMPointerType(storage, 0), "")!
    forLoop(rows.0, rows.1) { p in
      let oy = udiv(p, g.ow), ox = urem(p, g.ow)
      let row = gep(storage, out, mul(p, stride))
      forLoop(0, g.kh * g.kw) { tap in
        let i = udiv(tap, g.kw), j = urem(tap, g.kw)
        let y = add(mul(oy, g.strides[0]), mul(i, g.dilations[0]))
        let x = add(mul(ox, g.strides[1]), mul(j, g.dilations[1]))
        let from = byteAt(source, mul(add(mul(y, wp), x), c))
        let to = gep(storage, row, mul(tap, c))
        forLoop(0, c) { ch in
          let v = LLVMBuildLoad2(builder, i8, gep(i8, from, ch), "")!
          let packed = LLVMBuildTrunc(builder, e.pattern(self, v), storage, "")!
          LLVMBuildStore(builder, packed, gep(storage, to, ch))
        }
      }
      for pad in g.k..<stride { LLVMBuildStore(builder, LLVMConstNull(storage), gep(storage, row, int(pad))) }
    }
  }

  private func bytes(_ p: Value) -> Value { LLVMBuildBitCast(builder, p, i8Ptr, "")! }
  private func byteAt(_ p: Value, _ offset: Value) -> Value { gep(i8, bytes(p), offset) }
}
