//===--- Sparrowc.swift - the driver: subcommands and exit codes ---------===//
//
// Exit codes (DESIGN.md): 0 success, 1 bad input or model (diagnostic on stderr),
// 2 bad usage, 3 internal error.

import ArgumentParser
import Foundation
import SparrowIR

@main
struct Sparrowc: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sparrowc",
    abstract: "Sparrow: a sparse-aware neural-network compiler.",
    subcommands: [Run.self, Bench.self, DumpIR.self, Opt.self, Inspect.self, Compile.self, BenchGemm.self])

  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let d as Diagnostic {
      FileHandle.standardError.write(Data((d.description + "\n").utf8))
      Foundation.exit(1)
    } catch let list as DiagnosticList {
      FileHandle.standardError.write(Data((list.description + "\n").utf8))
      Foundation.exit(1)
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if !message.isEmpty {
        FileHandle.standardError.write(Data((message + "\n").utf8))
      }
      if code == .success { Foundation.exit(0) }
      // Usage errors are 2; anything else unexpected is internal (3).
      Foundation.exit(code == .validationFailure ? 2 : code.rawValue == 1 ? 1 : 3)
    }
  }
}

/// Writes a line to stderr.
func printError(_ s: String) {
  FileHandle.standardError.write(Data((s + "\n").utf8))
}
