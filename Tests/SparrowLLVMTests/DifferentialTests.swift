import Foundation
import SparrowIR
import SparrowInterpreter
import XCTest
@testable import SparrowLLVM
import SparrowTestSupport

/// Modules run through the LLVM target and the reference interpreter with seeded inputs.
final class DifferentialTests: XCTestCase {
  private func compare(_ module: Module, file: StaticString = #filePath, line: UInt = #line) throws {
    try assertEquivalent(module, seed: 1234, file: file, line: line)
  }

  private func builder(_ name: String) -> Builder {
    Builder(module: Module(name: name), function: Function(name: "main"))
  }

  private func constant(_ b: inout Builder, _ shape: [Int], _ name: String, seed: UInt64,
                        offset: Float = 0) -> ValueID {
    var s = seed
    let values = seededFloats(shape.reduce(1, *), seed: &s).map { $0 + offset }
    return b.constant(Tensor(shape: shape, scalars: values), name: name)
  }

  func testTinyCNN() throws { try compare(ModelTests.tinyCNN()) }

  func testConvVariantsAndPools() throws {
    var b = builder("convs")
    let x = b.addArgument(name: "x", type: TensorType(.f32, [2, 8, 11, 9]))
    let w = constant(&b, [16, 8, 3, 3], "w", seed: 1), bias = constant(&b, [16], "b", seed: 2)
    let c = try b.add1(.conv, [x, w, bias], ["strides": .ints([2, 1]), "pads": .ints([1, 0, 2, 1]),
                                            "dilations": .ints([1, 2])])
    let dw = constant(&b, [16, 1, 3, 3], "dw", seed: 3), db = constant(&b, [16], "db", seed: 4)
    let d = try b.add1(.conv, [c, dw, db], ["strides": .ints([1, 1]), "pads": .ints([1, 1, 1, 1]),
                                           "dilations": .ints([1, 1]), "group": .int(16)])
    let h = try b.add1(.hard_swish, [d])
    let s = constant(&b, [16], "s", seed: 5, offset: 1.5), t = constant(&b, [16], "t", seed: 6)
    let mean = constant(&b, [16], "m", seed: 7), variance = constant(&b, [16], "v", seed: 8, offset: 2)
    let bn = try b.add1(.batch_norm, [h, s, t, mean, variance])
    let avg = try b.add1(.average_pool, [bn], ["kernel": .ints([3, 3]), "strides": .ints([2, 2]),
                                               "pads": .ints([1, 1, 1, 1]), "dilations": .ints([1, 1])])
    let mx = try b.add1(.max_pool, [bn], ["kernel": .ints([2, 2]), "strides": .ints([2, 2]),
                                          "pads": .ints([0, 0, 0, 0]), "dilations": .ints([1, 1]),
                                          "ceil_mode": .bool(true)])
    let g = try b.add1(.global_max_pool, [mx])
    try compare(b.finish(results: [avg, g]))
  }

  func testTransformerBlock() throws {
    var b = builder("encoder")
    let x = b.addArgument(name: "x", type: TensorType(.f32, [1, 10, 32]))
    let wq = constant(&b, [32, 32], "wq", seed: 1), wk = constant(&b, [32, 32], "wk", seed: 2)
    let q = try b.add1(.matmul, [x, wq]), k = try b.add1(.matmul, [x, wk])
    let kt = try b.add1(.transpose, [k], ["perm": .ints([0, 2, 1])])
    let scores = try b.add1(.matmul, [q, kt])
    let scale = b.constant(Tensor(shape: [], scalars: [Float(0.125)]), name: "scale")
    let scaled = try b.add1(.mul, [scores, scale])
    let p = try b.add1(.softmax, [scaled], ["axis": .int(2)])
    let attended = try b.add1(.matmul, [p, x])
    let sum = try b.add1(.add, [attended, x])
    let gamma = constant(&b, [32], "gamma", seed: 3, offset: 1), beta = constant(&b, [32], "beta", seed: 4)
    let ln = try b.add1(.layer_norm, [sum, gamma, beta], ["axis": .int(2)])
    let flat = try b.add1(.reshape, [ln], ["shape": .ints([10, 32])])
    let w1 = constant(&b, [64, 32], "w1", seed: 5), b1 = constant(&b, [64], "b1", seed: 6)
    let hidden = try b.add1(.gemm, [flat, w1, b1], ["transB": .bool(true)])
    let act = try b.add1(.gelu, [hidden])
    let w2 = constant(&b, [64, 32], "w2", seed: 7)
    let out = try b.add1(.gemm, [act, w2, flat], ["alpha": .float(0.5)])
    let tanh = try b.add1(.tanh, [out])
    let cat = try b.add1(.concat, [tanh, flat], ["axis": .int(0)])
    try compare(b.finish(results: [cat, p]))
  }

  func testMovementAndReductions() throws {
    var b = builder("movement")
    let x = b.addArgument(name: "x", type: TensorType(.f32, [2, 3, 6, 5]))
    let ids = b.addArgument(name: "ids", type: TensorType(.i64, [2, 4]))
    let table = constant(&b, [8, 7], "table", seed: 1)
    let emb = try b.add1(.gather, [table, ids], ["axis": .int(0)])
    let sl = try b.add1(.slice, [x], ["starts": .ints([1, -1, 0]), "ends": .ints([5, -100, 3]),
                                      "axes": .ints([2, 3, 1]), "steps": .ints([2, -2, 1])])
    let parts = try b.add(.split, [x], ["axis": .int(2), "sizes": .ints([2, 4])])
    let pd = try b.add1(.pad, [parts[1]], ["pads": .ints([0, 1, 0, 2, 0, 0, 1, 1]), "value": .float(0.5)])
    let up = try b.add1(.resize, [parts[0]], ["sizes": .ints([2, 3, 5, 9]), "mode": .string("nearest"),
                                             "coordinate_transformation_mode": .string("asymmetric"),
                                             "nearest_mode": .string("floor")])
    let mean = try b.add1(.reduce_mean, [x], ["axes": .ints([1, 3]), "keepdims": .bool(true)])
    let mx = try b.add1(.reduce_max, [x], ["axes": .ints([2]), "keepdims": .bool(false)])
    let ex = try b.add1(.expand, [mean], ["shape": .ints([2, 4, 6, 3])])
    try compare(b.finish(results: [emb, sl, pd, up, ex, mx]))
  }

  func testConvTransposeAndCast() throws {
    var b = builder("upsample")
    let x = b.addArgument(name: "x", type: TensorType(.f32, [1, 4, 5, 6]))
    let w = constant(&b, [4, 3, 3, 3], "w", seed: 1), bias = constant(&b, [3], "b", seed: 2)
    let y = try b.add1(.conv_transpose, [x, w, bias], ["strides": .ints([2, 2]), "pads": .ints([1, 0, 0, 1]),
                                                       "dilations": .ints([1, 1]), "output_padding": .ints([1, 0])])
    let i = try b.add1(.cast, [x], ["to": .type(.i64)])
    let back = try b.add1(.cast, [i], ["to": .type(.f32)])
    try compare(b.finish(results: [y, back]))
  }
}
