//===--- GemmTests.swift - gemm, matmul and einsum against naive loops ---===//

import XCTest
import SparrowIR
import SparrowInterpreter
import SparrowTestSupport
import SparrowTargetSupport

final class GemmTests: XCTestCase {
  /// numpy matmul written as the definition: broadcast batch, promote rank-1 operands.
  private func naiveMatmul(_ a: Tensor, _ b: Tensor) -> (shape: [Int], values: [Double]) {
    let sa = a.shape.count == 1 ? [1] + a.shape : a.shape
    let sb = b.shape.count == 1 ? b.shape + [1] : b.shape
    let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
    let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
    let rank = max(batchA.count, batchB.count)
    let pa = [Int](repeating: 1, count: rank - batchA.count) + batchA
    let pb = [Int](repeating: 1, count: rank - batchB.count) + batchB
    let batch = zip(pa, pb).map { max($0, $1) }
    let (va, vb) = (a.doubles, b.doubles)
    var out: [Double] = []
    forEachIndexTuple(batch) { idx in
      let ia = rowMajorOffset(zip(idx, pa).map { $1 == 1 ? 0 : $0 }, pa)
      let ib = rowMajorOffset(zip(idx, pb).map { $1 == 1 ? 0 : $0 }, pb)
      for i in 0..<m {
        for j in 0..<n {
          var s = 0.0
          for p in 0..<k { s += va[(ia * m + i) * k + p] * vb[(ib * k + p) * n + j] }
          out.append(s)
        }
      }
    }
    var shape = batch
    if a.shape.count != 1 { shape.append(m) }
    if b.shape.count != 1 { shape.append(n) }
    return (shape, out)
  }

  func testMatmulBroadcastsBatchesAndRankOneOperands() throws {
    var r = SeededGenerator(seed: 1)
    let cases: [([Int], [Int])] = [
      ([3, 4], [4, 5]), ([2, 3, 4], [4, 5]), ([2, 1, 3, 4], [3, 4, 5]), ([1, 3, 4], [2, 4, 5]),
      ([4], [2, 4, 3]), ([2, 3, 4], [4]), ([4], [4]), ([2, 2, 3, 4], [2, 2, 4, 1]), ([5, 1, 7], [7, 3]),
    ]
    for (sa, sb) in cases {
      let a = r.tensor(sa), b = r.tensor(sb)
      let ref = naiveMatmul(a, b)
      let y = try evaluate1(.matmul, [a, b])
      assertClose(y, y.element, ref.shape, ref.values, "\(sa) x \(sb)")
    }
  }

  func testMatmulF64AndIntegersUseThePlainLoop() throws {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6] as [Int64])
    let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12] as [Int64])
    XCTAssertEqual(try evaluate1(.matmul, [a, b]).array(of: Int64.self), [58, 64, 139, 154])
    let c = Tensor(shape: [2, 2], scalars: [0.5, 1, 2, 4] as [Double])
    XCTAssertEqual(try evaluate1(.matmul, [c, c]).array(of: Double.self), [2.25, 4.5, 9, 18])
    let d = Tensor(shape: [1, 2], scalars: [3, -2] as [Int32])
    let e = Tensor(shape: [2, 1], scalars: [5, 4] as [Int32])
    XCTAssertEqual(try evaluate1(.matmul, [d, e]).array(of: Int32.self), [7])
  }

  func testGemmTransposesScalesAndBroadcastsC() throws {
    var r = SeededGenerator(seed: 2)
    let (m, n, k) = (3, 5, 4)
    for transA in [false, true] {
      for transB in [false, true] {
        for cShape in [[n], [m, n], [m, 1], [1, n], [1]] {
          let a = r.tensor(transA ? [k, m] : [m, k]), b = r.tensor(transB ? [n, k] : [k, n])
          let c = r.tensor(cShape)
          let (alpha, beta) = (0.5, -1.5)
          let (va, vb, vc) = (a.doubles, b.doubles, c.doubles)
          var ref: [Double] = []
          for i in 0..<m {
            for j in 0..<n {
              var s = 0.0
              for p in 0..<k {
                s += (transA ? va[p * m + i] : va[i * k + p]) * (transB ? vb[j * k + p] : vb[p * n + j])
              }
              let ci = cShape.count == 2 ? (cShape[0] == 1 ? 0 : i) * cShape[1] + (cShape[1] == 1 ? 0 : j)
                                         : (cShape[0] == 1 ? 0 : j)
              ref.append(alpha * s + beta * vc[ci])
            }
          }
          let y = try evaluate1(.gemm, [a, b, c], ["alpha": .float(Float(alpha)), "beta": .float(Float(beta)),
                                                "transA": .bool(transA), "transB": .bool(transB)])
          assertClose(y, y.element, [m, n], ref, "transA \(transA) transB \(transB) C \(cShape)")
        }
      }
    }
    let a = r.tensor([2, 3]), b = r.tensor([3, 2])
    let result = try evaluate1(.gemm, [a, b])
    assertClose(result, result.element, [2, 2], naiveMatmul(a, b).values, "no C")
  }

  /// einsum by its definition: sum over every assignment of all labels.
  private func naiveEinsum(_ equation: String, _ inputs: [Tensor]) throws -> (shape: [Int], values: [Double]) {
    let r = try EinsumEquation(equation).resolve(inputs.map(\.shape))
    var labels: [Character] = r.output
    for t in r.inputs { for c in t where !labels.contains(c) { labels.append(c) } }
    let sizes = labels.map { r.sizes[$0]! }
    let outShape = r.output.map { r.sizes[$0]! }
    var out = [Double](repeating: 0, count: outShape.reduce(1, *))
    let values = inputs.map(\.doubles)
    forEachIndexTuple(sizes) { idx in
      let value = { (c: Character) in idx[labels.firstIndex(of: c)!] }
      var p = 1.0
      for (t, (term, shape)) in zip(values, zip(r.inputs, inputs.map(\.shape))) {
        p *= t[rowMajorOffset(zip(term, shape).map { $1 == 1 ? 0 : value($0) }, shape)]
      }
      out[rowMajorOffset(r.output.map(value), outShape)] += p
    }
    return (outShape, out)
  }

  func testEinsumMatchesItsDefinition() throws {
    var r = SeededGenerator(seed: 3)
    let cases: [(String, [[Int]])] = [
      ("ij,jk->ik", [[3, 4], [4, 5]]), ("bij,bjk->bik", [[2, 3, 4], [2, 4, 5]]),
      ("bhqd,bhkd->bhqk", [[2, 2, 3, 4], [2, 2, 5, 4]]), ("...ij,...jk->...ik", [[2, 1, 3, 4], [3, 4, 2]]),
      ("ij->ji", [[3, 4]]), ("ii->i", [[4, 4]]), ("ii", [[3, 3]]), ("ij->", [[3, 4]]),
      ("i,j->ij", [[3], [4]]), ("i,i->", [[5], [5]]), ("bn,anm,bm->ba", [[2, 3], [4, 3, 5], [2, 5]]),
      ("ij,jk", [[2, 3], [3, 2]]), ("bid,bjd->bij", [[1, 3, 4], [1, 2, 4]]), ("ijk->ikj", [[2, 3, 4]]),
      ("iij->ij", [[3, 3, 2]]), ("ab,cd->abcd", [[2, 2], [2, 3]]), ("abc,cd->abd", [[2, 3, 4], [4, 2]]),
    ]
    for (eq, shapes) in cases {
      let inputs = shapes.map { r.tensor($0) }
      let ref = try naiveEinsum(eq, inputs)
      let y = try evaluate1(.einsum, inputs, ["equation": .string(eq)])
      assertClose(y, y.element, ref.shape, ref.values, eq)
    }
  }

  func testEinsumAgainstOnnxruntime() throws {
    // numpy.einsum("ij,jk->ik", arange(6).reshape(2,3), arange(6).reshape(3,2)) and "ii->i".
    let a = Tensor(shape: [2, 3], scalars: (0..<6).map(Float.init))
    let b = Tensor(shape: [3, 2], scalars: (0..<6).map(Float.init))
    let result = try evaluate1(.einsum, [a, b], ["equation": .string("ij,jk->ik")])
    assertClose(result, result.element, [2, 2], [10, 13, 28, 40])
    let c = Tensor(shape: [3, 3], scalars: (0..<9).map(Float.init))
    let diagonal = try evaluate1(.einsum, [c], ["equation": .string("ii->i")])
    assertClose(diagonal, diagonal.element, [3], [0, 4, 8])
  }

  func testUnsupportedElementTypeThrows() {
    let a = Tensor(shape: [1, 1], scalars: [true])
    XCTAssertThrowsError(try evaluate1(.matmul, [a, a]))
  }

  /// f16 matmul runs in f32 and rounds once: 1000 + 0.25 + 0.25 is 1000.5 in f16 (a
  /// running f16 sum would round 1000.25 back to 1000 at each step).
  func testMatmulF16AccumulatesInF32() throws {
    func f16(_ shape: [Int], _ v: [Float]) -> Tensor {
      Tensor(type: TensorType(.f16, shape), bytes: v.map(\.float16Bits).withUnsafeBytes { [UInt8]($0) })
    }
    let y = try evaluate1(.matmul, [f16([1, 3], [1000, 0.25, 0.25]), f16([3, 2], [1, 2, 1, 0, 1, 4])])
    XCTAssertEqual(y.element, .f16)
    XCTAssertEqual(y.doubles, [1000.5, 2001])
  }
}

final class GemmEdgeTests: XCTestCase {
  func testEmptyReductionGivesZerosPlusC() throws {
    let a = Tensor(zeros: TensorType(.f32, [2, 0])), b = Tensor(zeros: TensorType(.f32, [0, 3]))
    XCTAssertEqual(try evaluate1(.matmul, [a, b]).array(of: Float.self), [Float](repeating: 0, count: 6))
    let c = Tensor(shape: [3], scalars: [1, 2, 3] as [Float])
    XCTAssertEqual(try evaluate1(.gemm, [a, b, c], ["beta": .float(2)]).array(of: Float.self), [2, 4, 6, 2, 4, 6])
  }

  func testEinsumOnIntegersAndDoubles() throws {
    let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4] as [Int64])
    XCTAssertEqual(try evaluate1(.einsum, [a, a], ["equation": .string("ij,jk->ik")]).array(of: Int64.self), [7, 10, 15, 22])
    XCTAssertEqual(try evaluate1(.einsum, [a], ["equation": .string("ij->j")]).array(of: Int64.self), [4, 6])
    let d = Tensor(shape: [3], scalars: [0.5, 1, 2] as [Double])
    XCTAssertEqual(try evaluate1(.einsum, [d, d], ["equation": .string("i,i")]).array(of: Double.self), [5.25])
  }
}

final class GemmEmptyBatchTests: XCTestCase {
  func testEmptyBatchGivesEmptyResult() throws {
    let a = Tensor(zeros: TensorType(.f32, [0, 3, 4])), b = Tensor(zeros: TensorType(.f32, [4, 5]))
    XCTAssertEqual(try evaluate1(.matmul, [a, b]).shape, [0, 3, 5])
    let c = Tensor(zeros: TensorType(.f32, [2, 0, 3, 4])), d = Tensor(zeros: TensorType(.f32, [1, 4, 5]))
    XCTAssertEqual(try evaluate1(.matmul, [c, d]).shape, [2, 0, 3, 5])
  }
}
