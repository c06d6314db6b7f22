// Small helpers that build ONNX ModelProtos in Swift (the generated types) for the tests.

import Foundation
import SparrowIR
@testable import SparrowONNX

enum Proto {
  static func floats(_ name: String, _ dims: [Int], _ values: [Float]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = 1
    t.dims = dims.map(Int64.init)
    t.floatData = values
    return t
  }

  static func ints(_ name: String, _ values: [Int64], dims: [Int]? = nil) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = 7
    t.dims = (dims ?? [values.count]).map(Int64.init)
    t.int64Data = values
    return t
  }

  /// A tensor input; nil dims are symbolic (`N`).
  static func input(_ name: String, _ dims: [Int?], type: Int32 = 1) -> Onnx_ValueInfoProto {
    var v = Onnx_ValueInfoProto()
    v.name = name
    var tt = Onnx_TypeProto.Tensor()
    tt.elemType = type
    var shape = Onnx_TensorShapeProto()
    shape.dim = dims.map { d in
      var dim = Onnx_TensorShapeProto.Dimension()
      if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "N" }
      return dim
    }
    tt.shape = shape
    v.type.tensorType = tt
    return v
  }

  static func output(_ name: String) -> Onnx_ValueInfoProto {
    var v = Onnx_ValueInfoProto()
    v.name = name
    return v
  }

  enum Attr {
    case int(Int)
    case ints([Int])
    case float(Float)
    case string(String)
    case tensor(Onnx_TensorProto)
  }

  static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                   domain: String = "", _ attrs: [String: Attr] = [:]) -> Onnx_NodeProto {
    var n = Onnx_NodeProto()
    n.opType = op
    n.input = inputs
    n.output = outputs
    n.name = name
    if !domain.isEmpty { n.domain = domain }
    n.attribute = attrs.sorted { $0.key < $1.key }.map { key, value in
      var a = Onnx_AttributeProto()
      a.name = key
      switch value {
      case let .int(v): a.type = .int; a.i = Int64(v)
      case let .ints(v): a.type = .ints; a.ints = v.map(Int64.init)
      case let .float(v): a.type = .float; a.f = v
      case let .string(v): a.type = .string; a.s = Data(v.utf8)
      case let .tensor(v): a.type = .tensor; a.t = v
      }
      return a
    }
    return n
  }

  static func model(_ nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto], outputs: [String],
                    initializers: [Onnx_TensorProto] = [], opset: Int = 13) -> Onnx_ModelProto {
    var g = Onnx_GraphProto()
    g.name = "test"
    g.node = nodes
    g.input = inputs
    g.output = outputs.map(output)
    g.initializer = initializers
    var m = Onnx_ModelProto()
    m.irVersion = 8
    var o = Onnx_OperatorSetIdProto()
    o.version = Int64(opset)
    m.opsetImport = [o]
    m.graph = g
    return m
  }
}

/// Imports a model built in memory (as if read from `folder/model.onnx`).
func importModel(_ m: Onnx_ModelProto, folder: String = "/nonexistent",
                 options: ONNXImportOptions = ONNXImportOptions()) throws -> Module {
  try importONNX(model: m, path: folder + "/model.onnx", options: options)
}

extension Module {
  /// The non-constant ops of main.
  var computeOps: [SparrowIR.Operation] { main.ops.filter { $0.kind != .constant } }
}
