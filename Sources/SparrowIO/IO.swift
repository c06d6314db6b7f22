//===--- IO.swift - STUB: replaced by Npy, Safetensors, SIRFile, AtomicWrite ---===//
import SparrowIR

public enum Npy {
  public static func read(path: String) throws -> Tensor { throw Diagnostic("npy not implemented", at: path) }
  public static func write(_ t: Tensor, path: String) throws { throw Diagnostic("npy not implemented", at: path) }
}

public enum SIRFile {
  public static func read(path: String) throws -> Module { throw Diagnostic("sir not implemented", at: path) }
  public static func write(_ m: Module, path: String) throws { throw Diagnostic("sir not implemented", at: path) }
}
