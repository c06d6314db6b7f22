// Expected values were generated once with onnxruntime 1.32 (numpy for integer wrapping
// and Python-style float mod) and pasted here.

import SparrowIR
import XCTest

@testable import SparrowInterpreter

final class BinaryTests: XCTestCase {
  func test_addBroadcastRows() throws {
    let y = try evaluate(.add, [tensor([2, 3, 4], [0.5003819, 1.5888551, 1.1027428, -1.0991713, -0.7993349, 1.4942138, -1.9789388, 1.2849137, 1.1882777, -0.1282602, -0.7878703, -0.8862975, -0.9805217, -0.21969478, 0.018193036, 0.2139894, 1.9820012, 1.1706476, 0.48871693, 1.9558406, -1.1387652, -1.3591518, 0.45015842, -1.824232] as [Float]), tensor([3, 1], [-1.857279, 0.05955528, -0.1351759] as [Float])])
    assertClose(y[0], .f32, [2, 3, 4], [-1.35689712, -0.268423796, -0.754536152, -2.95645022, -0.739779592, 1.55376911, -1.91938353, 1.34446895, 1.05310178, -0.263436079, -0.923046172, -1.02147341, -2.8378005, -2.07697368, -1.83908594, -1.64328957, 2.04155636, 1.23020291, 0.548272192, 2.01539588, -1.27394116, -1.49432778, 0.314982533, -1.95940793])
  }

  func test_addSameShape() throws {
    let y = try evaluate(.add, [tensor([2, 3], [1.6686711, 0.516905, 0.056470588, -0.012506259, -1.0099403, -1.9528239] as [Float]), tensor([2, 3], [-1.2303914, 0.76812845, -1.1975731, -0.52185476, -1.9850631, 1.3201909] as [Float])])
    assertClose(y[0], .f32, [2, 3], [0.438279748, 1.28503346, -1.14110243, -0.534361005, -2.99500322, -0.632632971])
  }

  func test_mulPerChannel() throws {
    let y = try evaluate(.mul, [tensor([2, 3, 2, 2], [-1.3821557, -0.9296028, 1.5213286, 0.03916324, 1.388601, 0.55886865, 0.9670838, -1.6340176, 0.16457528, 0.031088945, 1.4853575, -0.55494374, 0.39273626, -1.7629935, -0.44947278, -0.7078546, -1.399201, 1.2653524, -0.48221532, 1.9149915, 0.35996678, 0.42022502, 0.55198634, 0.70580095] as [Float]), tensor([1, 3, 1, 1], [-1.396848, -0.23874614, -1.0417441] as [Float])])
    assertClose(y[0], .f32, [2, 3, 2, 2], [1.93066132, 1.29851377, -2.12506461, -0.0547050908, -0.33152312, -0.133427724, -0.230887517, 0.39011538, -0.171445325, -0.0323867239, -1.54736245, 0.578109384, -0.548592865, 2.46263385, 0.627845168, 0.988765299, 0.334053844, -0.302097976, 0.115127042, -0.457196832, -0.374993265, -0.437766939, -0.575028539, -0.735264003])
  }

  func test_subScalarLeft() throws {
    let y = try evaluate(.sub, [tensor([], [-0.3900068] as [Float]), tensor([2, 3], [-1.6131836, 1.8713123, -1.1399839, 0.68706065, -0.7983197, 1.4963081] as [Float])])
    assertClose(y[0], .f32, [2, 3], [1.22317684, -2.26131916, 0.749977112, -1.07706749, 0.408312887, -1.88631487])
  }

  func test_divScalarRight() throws {
    let y = try evaluate(.div, [tensor([2, 3], [0.64885896, -1.4735367, 1.3802973, 1.7797927, 1.6156671, 0.2788766] as [Float]), tensor([], [0.5] as [Float])])
    assertClose(y[0], .f32, [2, 3], [1.29771793, -2.94707346, 2.76059461, 3.55958533, 3.23133421, 0.557753205])
  }

  func test_addOuterProduct() throws {
    let y = try evaluate(.add, [tensor([3, 1], [-1.4181602, -1.230146, 1.7116227] as [Float]), tensor([1, 4], [0.20930596, -1.27779, 1.5362276, 0.5662868] as [Float])])
    assertClose(y[0], .f32, [3, 4], [-1.2088542, -2.69595003, 0.118067384, -0.851873398, -1.02084005, -2.507936, 0.306081533, -0.663859248, 1.92092872, 0.433832765, 3.24785042, 2.27790952])
  }

  func test_mulMiddleBroadcast() throws {
    let y = try evaluate(.mul, [tensor([2, 1, 3], [0.2787771, -0.49484867, -0.35617888, -1.0420431, -1.8477708, 1.5048752] as [Float]), tensor([2, 4, 1], [-0.12907913, 0.19054079, -0.71134675, 1.0052997, -1.8992125, -0.5112589, -1.8785988, -1.5084316] as [Float])])
    assertClose(y[0], .f32, [2, 4, 3], [-0.0359843038, 0.0638746396, 0.0459752604, 0.0531184077, -0.0942888558, -0.0678666085, -0.198307171, 0.352008998, 0.253366679, 0.280254513, -0.497471213, -0.358066529, 1.97906125, 3.50930929, -2.85807776, 0.532753825, 0.944689274, -0.769380808, 1.95758092, 3.47122002, -2.82705665, 1.57185066, 2.78723574, -2.27000117])
  }

  func test_addF64() throws {
    let y = try evaluate(.add, [tensor([2, 3], [1.86859298, 0.631042898, -0.287119001, 0.0949604288, 1.49123681, -0.623157322] as [Double]), tensor([3], [0.361163944, 0.734737515, -0.578344882] as [Double])])
    assertClose(y[0], .f64, [2, 3], [2.22975692, 1.36578041, -0.865463883, 0.456124373, 2.22597432, -1.2015022])
  }

  func test_mulF16() throws {
    let y = try evaluate(.mul, [half([2, 3], [0.076416016, 1.0605469, 1.6367188, -1.3955078, 1.7333984, -1.9794922]), half([3], [1.0117188, 1.2421875, -1.453125])])
    assertClose(y[0], .f16, [2, 3], [0.077331543, 1.31738281, -2.37890625, -1.41210938, 2.15234375, 2.87695312])
  }

  func test_addEmpty() throws {
    let y = try evaluate(.add, [tensor([0, 3], [] as [Float]), tensor([3], [-0.3243854, 1.2610251, -1.9429152] as [Float])])
    assertClose(y[0], .f32, [0, 3], [])
  }

  func test_divI32Truncates() throws {
    let y = try evaluate(.div, [tensor([5], [7, -7, 7, -7, 0] as [Int32]), tensor([5], [2, 2, -2, -2, 3] as [Int32])])
    assertExact(y[0], .i32, [5], [3, -3, -3, 3, 0])
  }

  func test_addI64() throws {
    let y = try evaluate(.add, [tensor([3], [1, -2, 3] as [Int64]), tensor([1], [10] as [Int64])])
    assertExact(y[0], .i64, [3], [11, 8, 13])
  }

  func test_addI8Wraps() throws {
    let y = try evaluate(.add, [tensor([2], [127, -128] as [Int8]), tensor([2], [1, -1] as [Int8])])
    assertExact(y[0], .i8, [2], [-128, 127])
  }

  func test_mulU8Wraps() throws {
    let y = try evaluate(.mul, [tensor([2], [16, 3] as [UInt8]), tensor([2], [16, 5] as [UInt8])])
    assertExact(y[0], .u8, [2], [0, 15])
  }

  func test_subU32() throws {
    let y = try evaluate(.sub, [tensor([2], [5, 3] as [UInt32]), tensor([2], [2, 1] as [UInt32])])
    assertExact(y[0], .u32, [2], [3, 2])
  }

  func test_modI32SignOfDivisor() throws {
    let y = try evaluate(.mod, [tensor([5], [7, -7, 7, -7, 6] as [Int32]), tensor([5], [3, 3, -3, -3, 3] as [Int32])])
    assertExact(y[0], .i32, [5], [1, 2, -2, -1, 0])
  }

  func test_modI32Fmod() throws {
    let y = try evaluate(.mod, [tensor([5], [7, -7, 7, -7, 6] as [Int32]), tensor([5], [3, 3, -3, -3, 3] as [Int32])], ["fmod": .bool(true)])
    assertExact(y[0], .i32, [5], [1, -1, 1, -1, 0])
  }

  func test_modF32Fmod() throws {
    let y = try evaluate(.mod, [tensor([4], [5.5, -5.5, 5.5, -5.5] as [Float]), tensor([4], [2.0, 2.0, -2.0, -2.0] as [Float])], ["fmod": .bool(true)])
    assertClose(y[0], .f32, [4], [1.5, -1.5, 1.5, -1.5])
  }

  func test_modF32Python() throws {
    let y = try evaluate(.mod, [tensor([4], [5.5, -5.5, 5.5, -5.5] as [Float]), tensor([4], [2.0, 2.0, -2.0, -2.0] as [Float])])
    assertClose(y[0], .f32, [4], [1.5, 0.5, -0.5, -1.5])
  }

  func test_powF32() throws {
    let y = try evaluate(.pow, [tensor([2, 3], [0.6138478, 1.2720946, 0.15201433, 1.0033977, 1.1943061, 1.3059155] as [Float]), tensor([3], [2.0, 0.5, -1.0] as [Float])])
    assertClose(y[0], .f32, [2, 3], [0.37680912, 1.12787175, 6.57832718, 1.00680697, 1.09284317, 0.765746355])
  }

  func test_powF32IntExponent() throws {
    let y = try evaluate(.pow, [tensor([4], [-0.5474922, -1.2823759, -0.61575425, 1.7924962] as [Float]), tensor([4], [2, 3, 0, 1] as [Int64])])
    assertClose(y[0], .f32, [4], [0.299747705, -2.10885191, 1.0, 1.7924962])
  }

  func test_powI32FloatExponent() throws {
    let y = try evaluate(.pow, [tensor([3], [2, 3, 4] as [Int32]), tensor([3], [2.0, 0.5, 1.5] as [Float])])
    assertExact(y[0], .i32, [3], [4, 1, 8])
  }

  func test_powI64() throws {
    let y = try evaluate(.pow, [tensor([3], [2, 3, -2] as [Int64]), tensor([3], [10, 3, 3] as [Int64])])
    assertExact(y[0], .i64, [3], [1024, 27, -8])
  }

  func test_prelu() throws {
    let y = try evaluate(.prelu, [tensor([2, 3, 2], [0.29333088, -0.6397277, -0.9139015, 1.8081579, -0.22208716, 1.921579, 0.062090676, 0.084664516, 1.5861621, 0.9710697, 0.32261145, -0.293402] as [Float]), tensor([3, 1], [0.1, 0.2, 0.3] as [Float])])
    assertClose(y[0], .f32, [2, 3, 2], [0.293330878, -0.0639727712, -0.182780311, 1.80815792, -0.0666261539, 1.921579, 0.0620906763, 0.0846645162, 1.58616209, 0.971069694, 0.322611451, -0.0880206004])
  }

  func test_maxVariadic() throws {
    let y = try evaluate(.max, [tensor([2, 3], [1.5127515, -0.3534154, 1.6910383, -1.7251385, -0.28001255, 0.07805928] as [Float]), tensor([3], [1.8037528, -0.99600303, 1.2241566] as [Float]), tensor([2, 1], [0.7058848, 0.8683436] as [Float])])
    assertClose(y[0], .f32, [2, 3], [1.80375278, 0.705884814, 1.69103825, 1.80375278, 0.868343592, 1.22415662])
  }

  func test_minVariadic() throws {
    let y = try evaluate(.min, [tensor([2, 3], [0.5184887, 1.8862429, -0.66927415, -0.40689775, -1.188353, -1.7971838] as [Float]), tensor([3], [-1.1483672, 1.6618576, 1.3606752] as [Float]), tensor([2, 1], [-1.550377, 0.4151161] as [Float])])
    assertClose(y[0], .f32, [2, 3], [-1.55037701, -1.55037701, -1.55037701, -1.14836717, -1.18835294, -1.79718375])
  }

  func test_sumVariadic() throws {
    let y = try evaluate(.sum, [tensor([2, 3], [-0.08321402, 0.37873948, 0.63710004, -0.77336204, 1.8454034, -0.13663986] as [Float]), tensor([3], [0.5124034, 0.54090476, -1.2644424] as [Float]), tensor([2, 1], [-1.7525383, -0.3539327] as [Float])])
    assertClose(y[0], .f32, [2, 3], [-1.32334888, -0.832894087, -2.37988067, -0.614891291, 2.03237557, -1.75501502])
  }

  func test_meanVariadic() throws {
    let y = try evaluate(.mean, [tensor([2, 3], [1.0561204, 1.2608871, 0.919957, -1.5471802, 1.6534195, 1.2081463] as [Float]), tensor([3], [1.5107654, 0.09321661, 1.6625417] as [Float]), tensor([2, 1], [-1.8133911, -1.8788446] as [Float])])
    assertClose(y[0], .f32, [2, 3], [0.251164973, -0.153095767, 0.256369233, -0.638419807, -0.0440694913, 0.330614448])
  }

  func test_maxSingle() throws {
    let y = try evaluate(.max, [tensor([2, 2], [-1.9191377, -0.9889253, -1.0057209, -1.2499866] as [Float])])
    assertClose(y[0], .f32, [2, 2], [-1.91913772, -0.988925278, -1.00572085, -1.24998665])
  }

  func test_maxNaN() throws {
    let y = try evaluate(.max, [tensor([3], [.nan, 1.0, 2.0] as [Float]), tensor([3], [0.0, .nan, 1.0] as [Float])])
    assertClose(y[0], .f32, [3], [.nan, .nan, 2.0])
  }

  func test_maxI32() throws {
    let y = try evaluate(.max, [tensor([3], [1, -5, 3] as [Int32]), tensor([3], [2, -6, 3] as [Int32])])
    assertExact(y[0], .i32, [3], [2, -5, 3])
  }

  func test_minU8() throws {
    let y = try evaluate(.min, [tensor([3], [1, 200, 3] as [UInt8]), tensor([3], [2, 100, 3] as [UInt8])])
    assertExact(y[0], .u8, [3], [1, 100, 3])
  }

  func test_equalF32() throws {
    let y = try evaluate(.equal, [tensor([2, 3], [1.0, 2.0, 3.0, 3.0, 2.0, 1.0] as [Float]), tensor([3], [2.0, 2.0, .nan] as [Float])])
    assertExact(y[0], .bool, [2, 3], [0, 1, 0, 0, 1, 0])
  }

  func test_greaterF32() throws {
    let y = try evaluate(.greater, [tensor([2, 3], [1.0, 2.0, 3.0, 3.0, 2.0, 1.0] as [Float]), tensor([3], [2.0, 2.0, .nan] as [Float])])
    assertExact(y[0], .bool, [2, 3], [0, 0, 0, 1, 0, 0])
  }

  func test_greater_or_equalF32() throws {
    let y = try evaluate(.greater_or_equal, [tensor([2, 3], [1.0, 2.0, 3.0, 3.0, 2.0, 1.0] as [Float]), tensor([3], [2.0, 2.0, .nan] as [Float])])
    assertExact(y[0], .bool, [2, 3], [0, 1, 0, 1, 1, 0])
  }

  func test_lessF32() throws {
    let y = try evaluate(.less, [tensor([2, 3], [1.0, 2.0, 3.0, 3.0, 2.0, 1.0] as [Float]), tensor([3], [2.0, 2.0, .nan] as [Float])])
    assertExact(y[0], .bool, [2, 3], [1, 0, 0, 0, 0, 0])
  }

  func test_less_or_equalF32() throws {
    let y = try evaluate(.less_or_equal, [tensor([2, 3], [1.0, 2.0, 3.0, 3.0, 2.0, 1.0] as [Float]), tensor([3], [2.0, 2.0, .nan] as [Float])])
    assertExact(y[0], .bool, [2, 3], [1, 1, 0, 0, 1, 0])
  }

  func test_equalI64() throws {
    let y = try evaluate(.equal, [tensor([3], [1, 2, 3] as [Int64]), tensor([2, 1], [1, 3] as [Int64])])
    assertExact(y[0], .bool, [2, 3], [1, 0, 0, 0, 0, 1])
  }

  func test_lessU8() throws {
    let y = try evaluate(.less, [tensor([2], [1, 200] as [UInt8]), tensor([2], [100, 100] as [UInt8])])
    assertExact(y[0], .bool, [2], [1, 0])
  }

  func test_equalBool() throws {
    let y = try evaluate(.equal, [tensor([3], [true, false, true] as [Bool]), tensor([3], [true, true, false] as [Bool])])
    assertExact(y[0], .bool, [3], [1, 0, 0])
  }

  func test_and() throws {
    let y = try evaluate(.and, [tensor([2, 1], [true, false] as [Bool]), tensor([3], [true, false, true] as [Bool])])
    assertExact(y[0], .bool, [2, 3], [1, 0, 1, 0, 0, 0])
  }

  func test_or() throws {
    let y = try evaluate(.or, [tensor([2, 1], [true, false] as [Bool]), tensor([3], [true, false, true] as [Bool])])
    assertExact(y[0], .bool, [2, 3], [1, 1, 1, 1, 0, 1])
  }

  func test_xor() throws {
    let y = try evaluate(.xor, [tensor([2, 1], [true, false] as [Bool]), tensor([3], [true, false, true] as [Bool])])
    assertExact(y[0], .bool, [2, 3], [0, 1, 0, 1, 0, 1])
  }

  func test_whereBroadcast() throws {
    let y = try evaluate(.where, [tensor([2, 1], [true, false] as [Bool]), tensor([1, 3], [0.2682233, -1.8440566, 0.36155146] as [Float]), tensor([], [9.0] as [Float])])
    assertClose(y[0], .f32, [2, 3], [0.268223286, -1.84405661, 0.361551464, 9.0, 9.0, 9.0])
  }

  func test_whereI64() throws {
    let y = try evaluate(.where, [tensor([3], [true, false, true] as [Bool]), tensor([3], [1, 2, 3] as [Int64]), tensor([3], [-1, -2, -3] as [Int64])])
    assertExact(y[0], .i64, [3], [1, -2, 3])
  }

  func test_whereF16() throws {
    let y = try evaluate(.where, [tensor([2], [true, false] as [Bool]), half([2], [1.5, 2.0]), half([2], [3.0, 4.0])])
    assertClose(y[0], .f16, [2], [1.5, 4.0])
  }

  func test_whereBool() throws {
    let y = try evaluate(.where, [tensor([2], [true, false] as [Bool]), tensor([2], [true, true] as [Bool]), tensor([2], [false, false] as [Bool])])
    assertExact(y[0], .bool, [2], [1, 0])
  }

  func test_bitShiftLeftU8() throws {
    let y = try evaluate(.bit_shift, [tensor([3], [1, 3, 255] as [UInt8]), tensor([3], [1, 2, 1] as [UInt8])], ["direction": .string("LEFT")])
    assertExact(y[0], .u8, [3], [2, 12, 254])
  }

  func test_bitShiftRightU32() throws {
    let y = try evaluate(.bit_shift, [tensor([3], [16, 3, 255] as [UInt32]), tensor([1], [2] as [UInt32])], ["direction": .string("RIGHT")])
    assertExact(y[0], .u32, [3], [4, 0, 63])
  }

  func test_bitwiseAndI32() throws {
    let y = try evaluate(.bitwise_and, [tensor([3], [12, -1, 7] as [Int32]), tensor([3], [10, 5, -8] as [Int32])])
    assertExact(y[0], .i32, [3], [8, 5, 0])
  }

  func test_bitwiseOrU16() throws {
    let y = try evaluate(.bitwise_or, [tensor([2], [12, 1] as [UInt16]), tensor([2], [3, 2] as [UInt16])])
    assertExact(y[0], .u16, [2], [15, 3])
  }

  func test_bitwiseXorI8() throws {
    let y = try evaluate(.bitwise_xor, [tensor([2], [12, -1] as [Int8]), tensor([2], [10, 5] as [Int8])])
    assertExact(y[0], .i8, [2], [6, -6])
  }
}

final class BinaryErrorTests: XCTestCase {
  func testSignedBitShiftThrows() {
    assertThrowsDiagnostic(try evaluate(.bit_shift, [tensor([1], [1] as [Int32]), tensor([1], [1] as [Int32])],
                                        ["direction": .string("LEFT")]))
  }

  func testFloatBitwiseThrows() {
    assertThrowsDiagnostic(try evaluate(.bitwise_and, [tensor([1], [1] as [Float]), tensor([1], [1] as [Float])]))
  }

  func testIntegerDivisionByZeroDoesNotTrap() throws {
    let y = try evaluate(.div, [tensor([2], [7, Int32.min] as [Int32]), tensor([2], [0, -1] as [Int32])])
    XCTAssertEqual(y[0].count, 2)
    for fmod in [false, true] {
      let r = try evaluate(.mod, [tensor([2], [7, Int32.min] as [Int32]), tensor([2], [0, -1] as [Int32])],
                           ["fmod": .bool(fmod)])
      XCTAssertEqual(r[0].count, 2)
    }
  }

  func testBroadcastPlanCollapsesPerChannel() {
    let plan = BroadcastPlan(output: [1, 64, 56, 56], operands: [[1, 64, 56, 56], [1, 64, 1, 1]])
    XCTAssertEqual(plan.dims, [64, 3136])
    XCTAssertEqual(plan.strides, [[3136, 1], [1, 0]])
  }
}
