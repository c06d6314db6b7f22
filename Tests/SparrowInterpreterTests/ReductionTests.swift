// Expected values were generated once with onnxruntime 1.32 (numpy for the op table's
// empty-axes convention and NaN argmax) and pasted here.

import SparrowIR
import XCTest

@testable import SparrowInterpreter

final class ReductionTests: XCTestCase {
  func test_ReduceSumAxis1() throws {
    let y = try evaluate(.reduce_sum, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [3.57242918, 4.55353451, 2.3595686, 2.81723642, 3.08478928, 2.95610523, 3.60460758, 3.31415892])
  }

  func test_ReduceSumAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_sum, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [8.934268, 11.0590782, 6.26908302])
  }

  func test_ReduceMeanAxis1() throws {
    let y = try evaluate(.reduce_mean, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [1.19080973, 1.5178448, 0.786522865, 0.939078808, 1.02826309, 0.985368431, 1.20153582, 1.10471964])
  }

  func test_ReduceMeanAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_mean, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [1.1167835, 1.38238478, 0.783635378])
  }

  func test_ReduceMaxAxis1() throws {
    let y = try evaluate(.reduce_max, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [1.61443186, 1.80470622, 1.57380283, 1.66033399, 1.99145055, 1.60605764, 1.28214049, 1.97902429])
  }

  func test_ReduceMaxAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_max, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [1.80470622, 1.99145055, 1.61443186])
  }

  func test_ReduceMinAxis1() throws {
    let y = try evaluate(.reduce_min, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [0.670315921, 0.989076436, 0.110004082, 0.527893662, 0.509086549, 0.404402852, 1.05864167, 0.183489814])
  }

  func test_ReduceMinAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_min, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [0.527893662, 0.110004082, 0.183489814])
  }

  func test_ReduceProdAxis1() throws {
    let y = try evaluate(.reduce_prod, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [1.39350212, 3.14114332, 0.116991051, 0.5513134, 0.592327058, 0.614190996, 1.71542466, 0.418197751])
  }

  func test_ReduceProdAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_prod, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [1.30049241, 1.7484473, 0.0324044488])
  }

  func test_ReduceL1Axis1() throws {
    let y = try evaluate(.reduce_l1, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [3.57242918, 4.55353451, 2.3595686, 2.81723642, 3.08478928, 2.95610523, 3.60460758, 3.31415892])
  }

  func test_ReduceL1Axes02NoKeepdims() throws {
    let y = try evaluate(.reduce_l1, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [8.934268, 11.0590782, 6.26908302])
  }

  func test_ReduceL2Axis1() throws {
    let y = try evaluate(.reduce_l2, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [2.17113709, 2.70775962, 1.71627796, 1.85230458, 2.13691258, 1.90714633, 2.08850694, 2.29706144])
  }

  func test_ReduceL2Axes02NoKeepdims() throws {
    let y = try evaluate(.reduce_l2, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [3.36945367, 4.29191971, 2.54766583])
  }

  func test_ReduceLogSumAxis1() throws {
    let y = try evaluate(.reduce_log_sum, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [1.27324581, 1.51590371, 0.858478785, 1.03575647, 1.12648332, 1.08387256, 1.28221285, 1.19820392])
  }

  func test_ReduceLogSumAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_log_sum, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [2.1898942, 2.40325165, 1.83563006])
  }

  func test_ReduceLogSumExpAxis1() throws {
    let y = try evaluate(.reduce_log_sum_exp, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [2.36125565, 2.67950869, 2.06771994, 2.17840123, 2.3780241, 2.20342827, 2.30515504, 2.45104599])
  }

  func test_ReduceLogSumExpAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_log_sum_exp, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [3.28229547, 3.6187923, 2.96823645])
  }

  func test_ReduceSumSquareAxis1() throws {
    let y = try evaluate(.reduce_sum_square, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1, 4], [4.71383667, 7.33196259, 2.94561005, 3.43103242, 4.56639528, 3.63720703, 4.36186075, 5.27649164])
  }

  func test_ReduceSumSquareAxes02NoKeepdims() throws {
    let y = try evaluate(.reduce_sum_square, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [3], [11.3532181, 18.4205761, 6.49060154])
  }

  func test_reduceSumAllAxes() throws {
    let y = try evaluate(.reduce_sum, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([0, 1, 2]), "keepdims": .bool(false)])
    assertClose(y[0], .f32, [], [26.2624302])
  }

  func test_reduceMeanLastAxes() throws {
    let y = try evaluate(.reduce_mean, [tensor([2, 3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865, 0.58425224, 0.945645, 1.0586417, 1.151645, 1.9914505, 1.6060576, 1.2821405, 1.9790243, 0.50908655, 0.40440285, 1.2638253, 0.18348981] as [Float])], ["axes": .ints([1, 2])])
    assertClose(y[0], .f32, [2, 1, 1], [1.10856402, 1.07997179])
  }

  func test_reduceSumSquareNoAxesSquares() throws {
    let y = try evaluate(.reduce_sum_square, [tensor([3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865] as [Float])], ["axes": .ints([])])
    assertClose(y[0], .f32, [3, 4], [1.65812325, 3.25696445, 2.47685528, 0.278671712, 0.449323446, 3.09672546, 0.0121008977, 2.75670886, 2.60639024, 0.9782722, 0.456653804, 0.395651877])
  }

  func test_reduceSumNoAxesIsIdentity() throws {
    let y = try evaluate(.reduce_sum, [tensor([3, 4], [1.2876813, 1.8047062, 1.5738028, 0.52789366, 0.6703159, 1.7597516, 0.11000408, 1.660334, 1.6144319, 0.98907644, 0.67576164, 0.62900865] as [Float])], ["axes": .ints([])])
    assertClose(y[0], .f32, [3, 4], [1.28768134, 1.80470622, 1.57380283, 0.527893662, 0.670315921, 1.75975156, 0.110004082, 1.66033399, 1.61443186, 0.989076436, 0.67576164, 0.629008651])
  }

  func test_reduceLogSumExpLarge() throws {
    let y = try evaluate(.reduce_log_sum_exp, [tensor([2, 2], [1000.0, 1000.0, -1000.0, 5.0] as [Float])], ["axes": .ints([1])])
    assertClose(y[0], .f32, [2, 1], [1000.69318, 5.0])
  }

  func test_reduceSumEmptyAxis() throws {
    let y = try evaluate(.reduce_sum, [tensor([0, 2], [] as [Float])], ["axes": .ints([0])])
    assertClose(y[0], .f32, [1, 2], [0.0, 0.0])
  }

  func test_reduceSumF64() throws {
    let y = try evaluate(.reduce_sum, [tensor([2, 3, 4], [1.28768134, 1.80470622, 1.57380283, 0.527893662, 0.670315921, 1.75975156, 0.110004082, 1.66033399, 1.61443186, 0.989076436, 0.67576164, 0.629008651, 0.584252238, 0.945644975, 1.05864167, 1.15164495, 1.99145055, 1.60605764, 1.28214049, 1.97902429, 0.509086549, 0.404402852, 1.2638253, 0.183489814] as [Double])], ["axes": .ints([1])])
    assertClose(y[0], .f64, [2, 1, 4], [3.57242912, 4.55353421, 2.35956855, 2.8172363, 3.08478934, 2.95610547, 3.60460746, 3.31415905])
  }

  func test_reduceMeanF16() throws {
    let y = try evaluate(.reduce_mean, [half([2, 3, 4], [1.2880859, 1.8046875, 1.5742188, 0.52783203, 0.67041016, 1.7597656, 0.10998535, 1.6601562, 1.6142578, 0.9892578, 0.67578125, 0.62890625, 0.58447266, 0.9458008, 1.0585938, 1.1513672, 1.9912109, 1.6064453, 1.2822266, 1.9794922, 0.50927734, 0.40429688, 1.2636719, 0.18347168])], ["axes": .ints([2])])
    assertClose(y[0], .f16, [2, 3, 1], [1.29882812, 1.04980469, 0.977050781, 0.935058594, 1.71484375, 0.590332031])
  }

  func test_reduceSumI64() throws {
    let y = try evaluate(.reduce_sum, [tensor([2, 3], [3, -7, 2, 9, 4, -1] as [Int64])], ["axes": .ints([1])])
    assertExact(y[0], .i64, [2, 1], [-2, 12])
  }

  func test_reduceMaxI32() throws {
    let y = try evaluate(.reduce_max, [tensor([2, 3], [3, -7, 2, 9, 4, -1] as [Int32])], ["axes": .ints([0])])
    assertExact(y[0], .i32, [1, 3], [9, 4, 2])
  }

  func test_reduceMinI64() throws {
    let y = try evaluate(.reduce_min, [tensor([2, 3], [3, -7, 2, 9, 4, -1] as [Int64])], ["axes": .ints([1]), "keepdims": .bool(false)])
    assertExact(y[0], .i64, [2], [-7, -1])
  }

  func test_reduceProdI32() throws {
    let y = try evaluate(.reduce_prod, [tensor([2, 3], [3, -7, 2, 9, 4, -1] as [Int32])], ["axes": .ints([1])])
    assertExact(y[0], .i32, [2, 1], [-42, -36])
  }

  func test_reduceMeanI32Truncates() throws {
    let y = try evaluate(.reduce_mean, [tensor([2, 3], [3, -7, 2, 9, 4, -1] as [Int32])], ["axes": .ints([1])])
    assertExact(y[0], .i32, [2, 1], [0, 4])
  }

  func test_reduceMaxU8() throws {
    let y = try evaluate(.reduce_max, [tensor([2, 2], [3, 200, 9, 4] as [UInt8])], ["axes": .ints([1])])
    assertExact(y[0], .u8, [2, 1], [200, 9])
  }

  func test_argmaxAxis1Ties() throws {
    let y = try evaluate(.argmax, [tensor([3, 4], [1.0, 5.0, 5.0, 2.0, 7.0, 7.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0] as [Float])], ["axis": .int(1)])
    assertExact(y[0], .i64, [3, 1], [1, 0, 0])
  }

  func test_argmaxAxis1SelectLast() throws {
    let y = try evaluate(.argmax, [tensor([3, 4], [1.0, 5.0, 5.0, 2.0, 7.0, 7.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0] as [Float])], ["axis": .int(1), "select_last_index": .bool(true)])
    assertExact(y[0], .i64, [3, 1], [2, 1, 3])
  }

  func test_argmaxAxis0NoKeepdims() throws {
    let y = try evaluate(.argmax, [tensor([3, 4], [1.0, 5.0, 5.0, 2.0, 7.0, 7.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0] as [Float])], ["axis": .int(0), "keepdims": .bool(false)])
    assertExact(y[0], .i64, [4], [1, 1, 0, 2])
  }

  func test_argminAxis1Ties() throws {
    let y = try evaluate(.argmin, [tensor([3, 4], [1.0, 5.0, 5.0, 2.0, 7.0, 7.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0] as [Float])], ["axis": .int(1)])
    assertExact(y[0], .i64, [3, 1], [0, 2, 0])
  }

  func test_argminAxis1SelectLast() throws {
    let y = try evaluate(.argmin, [tensor([3, 4], [1.0, 5.0, 5.0, 2.0, 7.0, 7.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0] as [Float])], ["axis": .int(1), "select_last_index": .bool(true)])
    assertExact(y[0], .i64, [3, 1], [0, 3, 3])
  }

  func test_argminAxis0NoKeepdims() throws {
    let y = try evaluate(.argmin, [tensor([3, 4], [1.0, 5.0, 5.0, 2.0, 7.0, 7.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0] as [Float])], ["axis": .int(0), "keepdims": .bool(false)])
    assertExact(y[0], .i64, [4], [0, 2, 1, 1])
  }

  func test_argmaxI32() throws {
    let y = try evaluate(.argmax, [tensor([2, 3], [3, -7, 2, 9, 4, -1] as [Int32])], ["axis": .int(1)])
    assertExact(y[0], .i64, [2, 1], [0, 0])
  }

  func test_argmaxNaN() throws {
    let y = try evaluate(.argmax, [tensor([3], [1.0, .nan, 3.0] as [Float])], ["axis": .int(0)])
    assertExact(y[0], .i64, [1], [1])
  }

  func test_cumsumExclusive0Reverse0() throws {
    let y = try evaluate(.cumsum, [tensor([2, 3], [-0.9286395, 0.02977764, -0.06758795, 0.83433557, 0.2584525, 0.028235294] as [Float])], ["axis": .int(1), "exclusive": .bool(false), "reverse": .bool(false)])
    assertClose(y[0], .f32, [2, 3], [-0.928639472, -0.898861825, -0.966449797, 0.834335566, 1.0927881, 1.12102342])
  }

  func test_cumsumExclusive0Reverse1() throws {
    let y = try evaluate(.cumsum, [tensor([2, 3], [-0.9286395, 0.02977764, -0.06758795, 0.83433557, 0.2584525, 0.028235294] as [Float])], ["axis": .int(1), "exclusive": .bool(false), "reverse": .bool(true)])
    assertClose(y[0], .f32, [2, 3], [-0.966449797, -0.0378103107, -0.0675879493, 1.12102342, 0.286687791, 0.0282352939])
  }

  func test_cumsumExclusive1Reverse0() throws {
    let y = try evaluate(.cumsum, [tensor([2, 3], [-0.9286395, 0.02977764, -0.06758795, 0.83433557, 0.2584525, 0.028235294] as [Float])], ["axis": .int(1), "exclusive": .bool(true), "reverse": .bool(false)])
    assertClose(y[0], .f32, [2, 3], [0.0, -0.928639472, -0.898861825, 0.0, 0.834335566, 1.0927881])
  }

  func test_cumsumExclusive1Reverse1() throws {
    let y = try evaluate(.cumsum, [tensor([2, 3], [-0.9286395, 0.02977764, -0.06758795, 0.83433557, 0.2584525, 0.028235294] as [Float])], ["axis": .int(1), "exclusive": .bool(true), "reverse": .bool(true)])
    assertClose(y[0], .f32, [2, 3], [-0.0378103107, -0.0675879493, 0.0, 0.286687791, 0.0282352939, 0.0])
  }

  func test_cumsumAxis0I32() throws {
    let y = try evaluate(.cumsum, [tensor([2, 3], [3, -7, 2, 9, 4, -1] as [Int32])], ["axis": .int(0)])
    assertExact(y[0], .i32, [2, 3], [3, -7, 2, 12, -3, 1])
  }

  func test_cumsumAxis0ReverseF64() throws {
    let y = try evaluate(.cumsum, [tensor([2, 3], [-0.928639472, 0.0297776405, -0.0675879493, 0.834335566, 0.258452505, 0.0282352939] as [Double])], ["axis": .int(0), "reverse": .bool(true)])
    assertClose(y[0], .f64, [2, 3], [-0.094303906, 0.288230145, -0.0393526554, 0.834335566, 0.258452505, 0.0282352939])
  }

  func test_topKLargestTiesLowerIndexFirst() throws {
    let y = try evaluate(.top_k, [tensor([2, 5], [3.0, 1.0, 3.0, 2.0, 3.0, 0.0, 5.0, 5.0, 1.0, 5.0] as [Float])], ["axis": .int(1), "k": .int(3)])
    assertClose(y[0], .f32, [2, 3], [3.0, 3.0, 3.0, 5.0, 5.0, 5.0])
    assertExact(y[1], .i64, [2, 3], [0, 2, 4, 1, 2, 4])
  }

  func test_topKSmallest() throws {
    let y = try evaluate(.top_k, [tensor([2, 5], [3.0, 1.0, 3.0, 2.0, 3.0, 0.0, 5.0, 5.0, 1.0, 5.0] as [Float])], ["axis": .int(1), "k": .int(2), "largest": .bool(false)])
    assertClose(y[0], .f32, [2, 2], [1.0, 2.0, 0.0, 1.0])
    assertExact(y[1], .i64, [2, 2], [1, 3, 0, 3])
  }

  func test_topKAxis0() throws {
    let y = try evaluate(.top_k, [tensor([2, 5], [3.0, 1.0, 3.0, 2.0, 3.0, 0.0, 5.0, 5.0, 1.0, 5.0] as [Float])], ["axis": .int(0), "k": .int(1)])
    assertClose(y[0], .f32, [1, 5], [3.0, 5.0, 5.0, 2.0, 5.0])
    assertExact(y[1], .i64, [1, 5], [0, 1, 1, 0, 1])
  }

  func test_topKI64() throws {
    let y = try evaluate(.top_k, [tensor([5], [4, -1, 4, 9, 0] as [Int64])], ["axis": .int(0), "k": .int(3)])
    assertExact(y[0], .i64, [3], [9, 4, 4])
    assertExact(y[1], .i64, [3], [3, 0, 2])
  }

  func test_topKMiddleAxis() throws {
    let y = try evaluate(.top_k, [tensor([2, 4, 3], [-0.0062531293, -0.50497013, -0.97641194, -0.6151957, 0.38406423, -0.59878653, -0.26092738, -0.99253154, 0.66009545, -0.6910778, -0.4648014, 0.7606643, 0.01958162, 0.6943005, 0.27943432, 0.4835419, -0.8170088, 0.08228764, 0.015544472, 0.74267876, -0.27747187, 0.19636813, -0.8814967, -0.22473639] as [Float])], ["axis": .int(1), "k": .int(2)])
    assertClose(y[0], .f32, [2, 2, 3], [-0.00625312934, 0.384064227, 0.760664284, -0.260927379, -0.464801401, 0.660095453, 0.483541906, 0.742678761, 0.279434323, 0.196368128, 0.694300473, 0.0822876394])
    assertExact(y[1], .i64, [2, 2, 3], [0, 1, 3, 2, 3, 2, 1, 2, 0, 3, 0, 1])
  }

  // Bool max is "any" and min is "all"; over nothing they give false and true (onnxruntime).
  func test_reduceMaxMinBool() throws {
    let x = tensor([2, 3], [true, false, false, false, false, false])
    assertExact(try evaluate(.reduce_max, [x], ["axes": .ints([1]), "keepdims": .bool(false)])[0], .bool, [2], [1, 0])
    assertExact(try evaluate(.reduce_min, [x], ["axes": .ints([0]), "keepdims": .bool(false)])[0], .bool, [3], [0, 0, 0])
    let empty = tensor([2, 0], [] as [Bool])
    assertExact(try evaluate(.reduce_max, [empty], ["axes": .ints([1]), "keepdims": .bool(false)])[0], .bool, [2], [0, 0])
    assertExact(try evaluate(.reduce_min, [empty], ["axes": .ints([1]), "keepdims": .bool(false)])[0], .bool, [2], [1, 1])
  }
}
