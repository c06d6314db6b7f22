import Foundation
import SparrowIR
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

/// A small CNN classifier built with `Builder`, compiled by the LLVM target and checked
/// against naive reference loops written here (independent of the generated code).
final class ModelTests: XCTestCase {
  struct Weights {
    var conv1: [Float], bias1: [Float], shift: [Float], conv2: [Float], fc: [Float], fcBias: [Float]
  }

  static func weights() -> Weights {
    var seed: UInt64 = 7
    return Weights(conv1: seededFloats(4 * 3 * 3 * 3, seed: &seed), bias1: seededFloats(4, seed: &seed),
                   shift: seededFloats(4, seed: &seed), conv2: seededFloats(6 * 4, seed: &seed),
                   fc: seededFloats(6 * 5, seed: &seed), fcBias: seededFloats(5, seed: &seed))
  }

  /// x[1,3,8,8] -> conv3x3(pad 1)+b -> + shift[4,1,1] -> relu -> maxpool 2x2 -> conv1x1
  /// -> global avg pool -> reshape [1,6] -> gemm [6,5] + b -> softmax.
  static func tinyCNN() throws -> Module {
    let w = weights()
    var b = Builder(module: Module(name: "tiny"), function: Function(name: "main"))
    let x = b.addArgument(name: "image", type: TensorType(.f32, [1, 3, 8, 8]))
    let w1 = b.constant(Tensor(shape: [4, 3, 3, 3], scalars: w.conv1), name: "conv1.w")
    let b1 = b.constant(Tensor(shape: [4], scalars: w.bias1), name: "conv1.b")
    let shift = b.constant(Tensor(shape: [4, 1, 1], scalars: w.shift), name: "shift")
    let w2 = b.constant(Tensor(shape: [6, 4, 1, 1], scalars: w.conv2), name: "conv2.w")
    let fc = b.constant(Tensor(shape: [6, 5], scalars: w.fc), name: "fc.w")
    let fcb = b.constant(Tensor(shape: [5], scalars: w.fcBias), name: "fc.b")
    let c1 = try b.add1(.conv, [x, w1, b1], ["strides": .ints([1, 1]), "pads": .ints([1, 1, 1, 1]),
                                             "dilations": .ints([1, 1])])
    let s = try b.add1(.add, [c1, shift])
    let r = try b.add1(.relu, [s])
    let p = try b.add1(.max_pool, [r], ["kernel": .ints([2, 2]), "strides": .ints([2, 2]),
                                       "pads": .ints([0, 0, 0, 0]), "dilations": .ints([1, 1])])
    let c2 = try b.add1(.conv, [p, w2], ["strides": .ints([1, 1]), "pads": .ints([0, 0, 0, 0]),
                                        "dilations": .ints([1, 1])])
    let g = try b.add1(.global_average_pool, [c2])
    let flat = try b.add1(.reshape, [g], ["shape": .ints([1, 6])])
    let y = try b.add1(.gemm, [flat, fc, fcb])
    let probs = try b.add1(.softmax, [y], ["axis": .int(1)], name: "probs")
    return b.finish(results: [probs, flat])
  }

  static func reference(_ x: [Float]) -> (probs: [Float], features: [Float]) {
    let w = weights()
    var a = [Float](repeating: 0, count: 4 * 64)
    for o in 0..<4 {
      for i in 0..<8 {
        for j in 0..<8 {
          var s = Double(w.bias1[o])
          for c in 0..<3 {
            for u in 0..<3 {
              for v in 0..<3 {
                let (y, z) = (i + u - 1, j + v - 1)
                guard (0..<8).contains(y), (0..<8).contains(z) else { continue }
                s += Double(w.conv1[((o * 3 + c) * 3 + u) * 3 + v]) * Double(x[(c * 8 + y) * 8 + z])
              }
            }
          }
          a[(o * 8 + i) * 8 + j] = max(Float(s) + w.shift[o], 0)
        }
      }
    }
    var pooled = [Float](repeating: 0, count: 4 * 16)
    for c in 0..<4 {
      for i in 0..<4 {
        for j in 0..<4 {
          pooled[(c * 4 + i) * 4 + j] = [a[(c * 8 + 2 * i) * 8 + 2 * j], a[(c * 8 + 2 * i) * 8 + 2 * j + 1],
                                         a[(c * 8 + 2 * i + 1) * 8 + 2 * j], a[(c * 8 + 2 * i + 1) * 8 + 2 * j + 1]].max()!
        }
      }
    }
    var features = [Float](repeating: 0, count: 6)
    for o in 0..<6 {
      var s = 0.0
      for p in 0..<16 { for c in 0..<4 { s += Double(w.conv2[o * 4 + c]) * Double(pooled[c * 16 + p]) } }
      features[o] = Float(s / 16)
    }
    var logits = [Double](repeating: 0, count: 5)
    for j in 0..<5 {
      logits[j] = Double(w.fcBias[j])
      for k in 0..<6 { logits[j] += Double(features[k]) * Double(w.fc[k * 5 + j]) }
    }
    let m = logits.max()!
    let e = logits.map { Foundation.exp($0 - m) }
    let total = e.reduce(0, +)
    return (e.map { Float($0 / total) }, features)
  }

  static func input() -> [Float] {
    var seed: UInt64 = 99
    return seededFloats(3 * 64, seed: &seed)
  }

  func testTinyCNNThroughJIT() throws {
    let model = try JITModel(Self.tinyCNN())
    let x = Self.input()
    let outputs = try model.run([Tensor(shape: [1, 3, 8, 8], scalars: x)], threads: 0)
    let want = Self.reference(x)
    let probs = outputs[0].array(of: Float.self), features = outputs[1].array(of: Float.self)
    XCTAssertEqual(outputs[0].shape, [1, 5])
    for (g, r) in zip(probs, want.probs) { XCTAssertEqual(g, r, accuracy: 1e-5) }
    for (g, r) in zip(features, want.features) { XCTAssertEqual(g, r, accuracy: 1e-5) }
  }

  func testElementwiseBroadcastTransposeConcat() throws {
    var b = Builder(module: Module(name: "ew"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [2, 3, 5]))
    let row = b.addArgument(name: "row", type: TensorType(.f32, [5]))
    let d = try b.add1(.div, [x, row])
    let t = try b.add1(.transpose, [d], ["perm": .ints([2, 0, 1])])
    let s = try b.add1(.sigmoid, [t])
    let c = try b.add1(.concat, [s, t], ["axis": .int(1)])
    let module = b.finish(results: [c])
    var seed: UInt64 = 3
    let xv = seededFloats(30, seed: &seed), rv = seededFloats(5, seed: &seed).map { $0 + 2 }
    let out = try JITModel(module).run([Tensor(shape: [2, 3, 5], scalars: xv), Tensor(shape: [5], scalars: rv)])[0]
    XCTAssertEqual(out.shape, [5, 4, 3])
    let got = out.array(of: Float.self)
    for k in 0..<5 {
      for i in 0..<2 {
        for j in 0..<3 {
          let v = xv[(i * 3 + j) * 5 + k] / rv[k]
          XCTAssertEqual(got[(k * 4 + i) * 3 + j], 1 / (1 + Foundation.exp(-v)), accuracy: 1e-6)
          XCTAssertEqual(got[(k * 4 + 2 + i) * 3 + j], v, accuracy: 1e-6)
        }
      }
    }
  }

  /// NCHW <-> NHWC-like transposes run in 16 x 16 register tiles (Kernels/DataMovement/TransposeConcat.swift): whole
  /// tiles, row and column tails, a batch, and a perm that is not of that form.
  func testTransposesInRegisterTilesAndTails() throws {
    for (shape, perm) in [([2, 37, 5, 7], [0, 2, 3, 1]), ([2, 5, 7, 37], [0, 3, 1, 2]), ([1, 32, 48], [0, 2, 1]),
                          ([9, 20], [1, 0]), ([3, 20, 18], [1, 0, 2])] {
      var b = Builder(module: Module(name: "t"), function: Function(name: "main"))
      let x = b.addArgument(name: "x", type: TensorType(.f32, shape))
      let module = b.finish(results: [try b.add1(.transpose, [x], ["perm": .ints(perm)])])
      let xv = (0..<shape.reduce(1, *)).map(Float.init)
      let got = try JITModel(module).run([Tensor(shape: shape, scalars: xv)])[0]
      let outShape = perm.map { shape[$0] }
      XCTAssertEqual(got.shape, outShape)
      var inStrides = [Int](repeating: 1, count: shape.count)
      for d in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * shape[d + 1] }
      let values = got.array(of: Float.self)
      for (flat, value) in values.enumerated() {
        var rest = flat, source = 0
        for d in stride(from: outShape.count - 1, through: 0, by: -1) {
          source += rest % outShape[d] * inStrides[perm[d]]
          rest /= outShape[d]
        }
        guard value == xv[source] else { return XCTFail("\(shape) perm \(perm): element \(flat) is \(value), want \(xv[source])") }
      }
    }
  }

  /// A JITModel keeps its output buffers across runs (no page faults timed by `bench`):
  /// each run returns its own copies, so an earlier result survives a later run.
  func testRunsReuseOutputBuffersAndReturnCopies() throws {
    var b = Builder(module: Module(name: "twice"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [2, 3]))
    let module = b.finish(results: [try b.add1(.relu, [x]), try b.add1(.neg, [x])])
    let model = try JITModel(module)
    let first = try model.run([Tensor(shape: [2, 3], scalars: [1, -2, 3, -4, 5, -6] as [Float])])
    let second = try model.run([Tensor(shape: [2, 3], scalars: [-1, 2, -3, 4, -5, 6] as [Float])])
    XCTAssertEqual(first[0].array(of: Float.self), [1, 0, 3, 0, 5, 0])
    XCTAssertEqual(first[1].array(of: Float.self), [-1, 2, -3, 4, -5, 6])
    XCTAssertEqual(second[0].array(of: Float.self), [0, 2, 0, 4, 0, 6])
    XCTAssertEqual(second[1].array(of: Float.self), [1, -2, 3, -4, 5, -6])
  }

  func testUnsupportedOpIsADiagnosticNamingTheOp() throws {
    var b = Builder(module: Module(name: "bad"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [4]))
    let y = try b.add1(.einsum, [x], ["equation": .string("i->i")], location: "model.onnx: node 'c1' (Einsum)")
    let module = b.finish(results: [y])
    XCTAssertThrowsError(try JITModel(module)) { error in
      let text = "\(error)"
      XCTAssert(text.contains("'einsum'") && text.contains("node 'c1'"), text)
    }
  }
}
