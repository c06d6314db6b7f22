//===--- FusionTestHelpers.swift - seeded weights for the fusion pass tests ---===//

import SparrowIR
import SparrowPasses
import XCTest
import SparrowTestSupport

extension Builder {
  /// A constant with seeded values (see `seededTensor`).
  mutating func weight(_ shape: [Int], _ name: String, seed: UInt64) -> ValueID {
    constant(seededTensor(shape, seed: seed), name: name)
  }

  /// A constant with seeded values in [lo, hi).
  mutating func weight(_ shape: [Int], _ name: String, seed: UInt64, in range: ClosedRange<Float>) -> ValueID {
    let t = seededTensor(shape, seed: seed).array(of: Float.self)
      .map { range.lowerBound + ($0 + 1) / 2 * (range.upperBound - range.lowerBound) }
    return constant(Tensor(shape: shape, scalars: t), name: name)
  }

  /// A conv with explicit window attributes.
  mutating func conv(_ operands: [ValueID], kernel: Int, stride: Int = 1, pad: Int = 0, group: Int = 1,
                     name: String) throws -> ValueID {
    try add1(.conv, operands, ["strides": .ints([stride, stride]), "pads": .ints([pad, pad, pad, pad]),
                               "dilations": .ints([1, 1]), "group": .int(group)], name: name)
  }
}

/// The ops of `@main` of one kind.
func ops(_ m: Module, _ kind: OpKind) -> [SparrowIR.Operation] { m.main.ops.filter { $0.kind == kind } }

/// The epilogue text of `op`.
func epilogue(_ op: SparrowIR.Operation) -> [String] {
  op.attributes.epilogue.map(\.description)
}
