import XCTest
@testable import SparrowIR

/// The verifier on modules built directly (the parser already rejects most of these).
final class VerifierTests: XCTestCase {
  /// A valid module: %y = gemm %x, %w, %b with a 2:4 weight.
  func makeGemm(weight: [Float]? = nil, layout: SparseLayout? = .nm(n: 2, m: 4)) throws -> Module {
    var b = Builder(module: Module(name: "g"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [1, 8]))
    let data = weight ?? (0..<16).map { Float($0 % 4 < 2 ? $0 + 1 : 0) }
    let w = b.constant(Tensor(shape: [2, 8], scalars: data), name: "w", layout: layout)
    let y = try b.add1(.gemm, [x, w], ["transB": .bool(true)], name: "y")
    return b.finish(results: [y])
  }

  func problems(_ m: Module) -> [String] {
    do {
      try verify(m)
      return []
    } catch let list as DiagnosticList {
      return list.diagnostics.map(\.description)
    } catch {
      return ["\(error)"]
    }
  }

  func testValidModulePasses() throws {
    XCTAssertEqual(problems(try makeGemm()), [])
  }

  func testUseBeforeDefinition() throws {
    var m = try makeGemm()
    m.main.ops.swapAt(0, 1)
    XCTAssertEqual(problems(m), ["error: %y = gemm: operand 1 (%w) is used before it is defined"])
  }

  func testDoubleDefinitionAndUndefinedResult() throws {
    var m = try makeGemm()
    m.main.ops.append(m.main.ops[0])
    var f = m.main
    let ghost = f.addValue(name: "ghost", type: TensorType(.f32, [1]))
    f.results.append(ghost)
    m.main = f
    let p = problems(m)
    XCTAssertTrue(p.contains("error: %w = constant: %w is defined more than once"), "\(p)")
    XCTAssertTrue(p.contains("error: in @main: result %ghost is never defined"), "\(p)")
  }

  func testResultTypeMismatchNamesTheOp() throws {
    var m = try makeGemm()
    m.main.values[m.main.ops[1].result.index].type = TensorType(.f32, [1, 3])
    m.main.ops[1].location = "net.sir:7:5"
    XCTAssertEqual(problems(m), ["net.sir:7:5: error: %y = gemm: result %y: type tensor<1x3xf32> does not match the inferred tensor<1x2xf32>"])
  }

  func testSignatureProblems() throws {
    var m = try makeGemm()
    m.main.ops[1].attributes.values["transB"] = .int(1)
    XCTAssertEqual(problems(m), ["error: %y = gemm: attribute 'transB' of 'gemm' must be bool, got int"])
    m.main.ops[1].attributes.values = ["bogus": .int(1)]
    XCTAssertEqual(problems(m), ["error: %y = gemm: 'gemm' has no attribute 'bogus'"])
    m.main.ops[1].attributes.values = ["transB": .bool(true)]
    m.main.ops[1].operands = [m.main.ops[1].operands[0]]
    XCTAssertEqual(problems(m), ["error: %y = gemm: 'gemm' takes at least 2 operands, got 1"])
  }

  func testConstantProblems() throws {
    var m = try makeGemm()
    m.main.ops[0].attributes.values["name"] = .string("gone")
    XCTAssertEqual(problems(m), ["error: %w = constant: no constant @gone in the pool"])
    m = try makeGemm()
    m.main.values[m.main.ops[0].result.index].type = TensorType(.f32, [8, 2], layout: .csr)
    XCTAssertTrue(problems(m)[0].contains("does not match the pool entry's tensor<2x8xf32>"), "\(problems(m))")
  }

  func testNMViolationIsReported() throws {
    var data = (0..<16).map { Float($0 % 4 < 2 ? 1 : 0) }
    data[2] = 5  // row 0, group 0 now has three non-zeros
    let p = problems(try makeGemm(weight: data))
    XCTAssertEqual(p, ["error: %w = constant: data of @w does not conform to its layout: #nm<2,4>: 3 non-zeros in row 0, elements 0..<4"])
  }

  func testLayoutViolationRank2() {
    let ok = Tensor(shape: [2, 8], scalars: [Float](repeating: 0, count: 16))
    XCTAssertNil(layoutViolation(of: ok, layout: .nm(n: 1, m: 4)))
    XCTAssertNil(layoutViolation(of: ok, layout: .csr))
    XCTAssertNil(layoutViolation(of: ok, layout: .bsr(r: 2, c: 4)))
    XCTAssertEqual(layoutViolation(of: ok, layout: .bsr(r: 4, c: 4)),
                   "#bsr<4,4> needs rows divisible by 4 and columns by 4, got 2x8")
    XCTAssertEqual(layoutViolation(of: ok, layout: .nm(n: 2, m: 3)),
                   "#nm<2,3> needs the reduction size divisible by 3, got 8 in shape [2, 8]")
    var dense = [Float](repeating: 1, count: 16)
    dense[12] = 0; dense[13] = 0
    let t = Tensor(shape: [2, 8], scalars: dense)
    XCTAssertNil(layoutViolation(of: t, layout: .nm(n: 4, m: 4)))
    XCTAssertEqual(layoutViolation(of: t, layout: .nm(n: 2, m: 4)), "#nm<2,4>: 4 non-zeros in row 0, elements 0..<4")
    let nan = Tensor(shape: [1, 2], scalars: [Float.nan, 0])
    XCTAssertNil(layoutViolation(of: nan, layout: .nm(n: 1, m: 2)))
    XCTAssertEqual(layoutViolation(of: Tensor(shape: [1, 2], scalars: [Float.nan, 1]), layout: .nm(n: 1, m: 2)),
                   "#nm<1,2>: 2 non-zeros in row 0, elements 0..<2")
    XCTAssertEqual(layoutViolation(of: Tensor(shape: [4], scalars: [Float](repeating: 0, count: 4)), layout: .nm(n: 2, m: 4)),
                   "#nm<2,4> needs a rank-2 [rows, K] or rank-4 [O, C, kh, kw] weight, got shape [4]")
  }

  func testLayoutViolationConvWeightsGroupInputChannels() {
    // [O=1, C=4, kh=1, kw=2]: element (c, p) at c*2 + p. Groups run over C at each position.
    // Position 0 has channels (1, 1, 0, 0): 2 non-zeros; position 1 has (1, 1, 1, 0): 3.
    let values: [Float] = [1, 1, 1, 1, 0, 1, 0, 0]
    let w = Tensor(shape: [1, 4, 1, 2], scalars: values)
    XCTAssertNil(layoutViolation(of: w, layout: .nm(n: 3, m: 4)))
    XCTAssertEqual(layoutViolation(of: w, layout: .nm(n: 2, m: 4)),
                   "#nm<2,4>: 3 non-zeros in channels 0..<4 of output channel 0 at position (0, 1)")
    XCTAssertEqual(layoutViolation(of: w, layout: .nm(n: 1, m: 3)),
                   "#nm<1,3> needs input channels divisible by 3, got 4 in shape [1, 4, 1, 2]")
    XCTAssertNil(layoutViolation(of: w, layout: .bsr(r: 1, c: 8)))
    // Read flat as [1, 8], elements 0..<4 would hold three non-zeros; grouped by channel at
    // each position there are two, so the rank-4 rule accepts it.
    XCTAssertNil(layoutViolation(of: Tensor(shape: [1, 4, 1, 2], scalars: [1, 0, 1, 1, 0, 0, 0, 1] as [Float]),
                                 layout: .nm(n: 2, m: 4)))
  }
}
