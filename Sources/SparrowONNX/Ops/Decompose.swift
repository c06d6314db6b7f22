//===--- Decompose.swift - small IR-building helpers for decomposed ops ---===//
//
// Converters that map one ONNX op onto several IR ops (losses, attention, rotary
// embeddings, control flow) build the same few shapes of IR: scalar constants of the
// operand's element type, one-axis slices, inserted unit axes, concatenations. They live
// here so each converter reads as the math it implements.

import SparrowIR

extension ONNXNode {
  /// A rank-0 constant of `element` (ints and bools convert as Cast does).
  func scalar(_ value: Double, _ element: ElementType, _ suffix: String) -> ValueID {
    constant(fromScalars(TensorType(element, []), .floats([value])), suffix)
  }

  /// `x[..., start:end:step, ...]` along `axis`.
  func slice(_ x: ValueID, axis: Int, _ start: Int, _ end: Int, step: Int = 1) throws -> ValueID {
    try emit1(.slice, [x], ["starts": .ints([start]), "ends": .ints([end]), "axes": .ints([axis]),
                            "steps": .ints([step])])
  }

  /// `x` with a unit axis inserted at `axis` (0...rank).
  func unsqueeze(_ x: ValueID, at axis: Int) throws -> ValueID {
    var s = shape(x)
    s.insert(1, at: axis)
    return try reshape(x, s)
  }

  /// Element `index` of `x` along `axis`, with that axis removed.
  func take(_ x: ValueID, axis: Int, _ index: Int) throws -> ValueID {
    var s = shape(x)
    s.remove(at: axis)
    return try reshape(try slice(x, axis: axis, index, index + 1), s)
  }

  /// `concat` unless there is one part.
  func concat(_ parts: [ValueID], axis: Int) throws -> ValueID {
    parts.count == 1 ? parts[0] : try emit1(.concat, parts, ["axis": .int(axis)])
  }

  func transpose(_ x: ValueID, _ perm: [Int]) throws -> ValueID {
    perm == Array(perm.indices) ? x : try emit1(.transpose, [x], ["perm": .ints(perm)])
  }

  /// The element type named by integer attribute `name` (an ONNX TensorProto code).
  func elementTypeAttribute(_ name: String) throws -> ElementType? {
    guard let code = try optionalInt(name) else { return nil }
    return try elementType(onnxCode: Int32(clamping: code), what: "\(opType) '\(name)'")
  }

  /// Input `i`, which must be known at compile time for the reason `why`; the diagnostic
  /// names the graph inputs to freeze.
  func compileTimeInput(_ i: Int, _ what: String, because why: String) throws -> Tensor {
    let v = try input(i)
    if let t = known(v) { return t }
    let sources = importer.argumentsFeeding(v)
    let hint = sources.isEmpty ? "" : " It depends on graph input\(sources.count > 1 ? "s" : "") "
      + sources.map { "'\($0)'" }.joined(separator: ", ") + "; make "
      + (sources.count > 1 ? "them constants with " : "it a constant with ")
      + sources.map { "--freeze \($0)=FILE.npy" }.joined(separator: " ")
    throw error("input \(i) ('\(proto.input[i])', the \(what)) must be known at compile time: \(why).\(hint)")
  }
}
