//===--- AtomicWrite.swift - write a file completely or not at all ------===//
//
// Every file Sparrow writes goes through `writeAtomically`: the bytes go to a temporary
// file in the destination's folder, which is then renamed over the destination. A failed
// write leaves neither a partial destination nor the temporary file behind.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SparrowIR

/// Writes `bytes` to `path` atomically (temporary file in the same folder + rename).
/// Throws a Diagnostic naming `path` on failure.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
  let (folder, file) = splitPath(path)
  guard !file.isEmpty else { throw Diagnostic("cannot write: not a file name", at: path) }
  var template = Array("\(folder.isEmpty ? "." : folder)/.\(file).tmp-XXXXXX".utf8CString)
  let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
  guard fd >= 0 else { throw Diagnostic("cannot write: \(systemError())", at: path) }
  let temporary = String(cString: template.map { UInt8(bitPattern: $0) })
  var failure: String?
  bytes.withUnsafeBytes { raw in
    var written = 0
    while written < raw.count {
      let n = write(fd, raw.baseAddress! + written, raw.count - written)
      if n < 0 {
        if errno == EINTR { continue }
        failure = systemError()
        return
      }
      written += n
    }
  }
  if failure == nil && fchmod(fd, 0o644) != 0 { failure = systemError() }
  if close(fd) != 0 && failure == nil { failure = systemError() }
  if failure == nil && rename(temporary, path) != 0 { failure = systemError() }
  if let failure {
    unlink(temporary)
    throw Diagnostic("cannot write: \(failure)", at: path)
  }
}

/// Reads a whole file; throws a Diagnostic naming `path` when it cannot.
public func readFileBytes(_ path: String) throws -> [UInt8] {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { throw Diagnostic("cannot read: \(systemError())", at: path) }
  defer { close(fd) }
  var info = stat()
  guard fstat(fd, &info) == 0 else { throw Diagnostic("cannot read: \(systemError())", at: path) }
  guard (info.st_mode & S_IFMT) == S_IFREG else {
    throw Diagnostic("cannot read: not a regular file", at: path)
  }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 20)
  while true {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
    if n < 0 {
      if errno == EINTR { continue }
      throw Diagnostic("cannot read: \(systemError())", at: path)
    }
    if n == 0 { return bytes }
    bytes.append(contentsOf: chunk[0..<n])
  }
}

/// Removes a file, ignoring errors (cleanup after a failed write).
func removeFile(_ path: String) { unlink(path) }

/// ("dir/sub", "name.ext") for "dir/sub/name.ext"; ("", "name") for a bare name.
func splitPath(_ path: String) -> (folder: String, file: String) {
  guard let slash = path.lastIndex(of: "/") else { return ("", path) }
  let folder = String(path[..<slash])
  return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
}

private func systemError() -> String { String(cString: strerror(errno)) }
