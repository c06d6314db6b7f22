//===--- Sparrowc.swift - the driver: subcommands and exit codes ---------===//
//
// Exit codes (DESIGN.md): 0 success, 1 bad input or model (diagnostic on stderr),
// 2 bad usage, 3 internal error.

import ArgumentParser
import Foundation
import SparrowIR
import SparrowPasses

@main
struct Sparrowc: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sparrowc",
    abstract: "Sparrow: a sparse-aware neural-network compiler.",
    discussion: """
      MODEL is an .onnx or .sir file.
      Flags of a command: sparrowc help COMMAND.
      The passes and -O pipelines: sparrowc passes.
      Exit codes: 0 success, 1 bad input or model, 2 bad usage, 3 internal error.
      """,
    subcommands: [Run.self, Bench.self, DumpIR.self, Opt.self, Inspect.self, Compile.self, Quantize.self, Tune.self, ListPasses.self, BenchGemm.self, BenchSparseGemm.self])

  static func main() {
    exitWithCode3OnCrash()
    selectBLASCore()
    var command: ParsableCommand
    do {
      command = try parseAsRoot()
    } catch {
      exit(withError: error)  // help and --version: 0; usage errors: 2 (see below)
    }
    do {
      try command.run()
    } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
      exit(withError: error)  // --help (run by ArgumentParser's help command), usage errors
    } catch {
      let (code, message) = exitStatus(for: error)
      if !message.isEmpty { printError(message) }
      Foundation.exit(code)
    }
  }

  /// Prints ArgumentParser's message; exits 0 for help, the code of an `ExitCode`, and 2
  /// (bad usage) for everything else.
  static func exit(withError error: Error) -> Never {
    let message = fullMessage(for: error)
    let code = exitCode(for: error)
    if code == .success {
      if !message.isEmpty { print(message) }
      Foundation.exit(0)
    }
    if !message.isEmpty { printError(message) }
    Foundation.exit(error is ExitCode ? code.rawValue : 2)
  }
}

/// The exit code and stderr text for an error thrown while running a command: 1 for
/// diagnostics about the input (one line each) and file-system errors, 2 for usage
/// errors, 3 for internal errors.
func exitStatus(for error: Error) -> (Int32, String) {
  switch error {
  case let d as Diagnostic: return (1, d.description)
  case let list as DiagnosticList: return (1, list.description)
  case let failure as PassFailure: return (3, failure.description)
  default:
    let ns = error as NSError
    if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
      return (1, "error: \(ns.localizedDescription)")
    }
    return (3, "internal error: \(error)")
  }
}

/// A trapped invariant (`precondition`), or any other crash, is an internal error: exit 3
/// with one line instead of a signal's exit status and a stack trace.
func exitWithCode3OnCrash() {
  let handler: @convention(c) (Int32) -> Void = { _ in
    // Only async-signal-safe calls here: a static message, write, _exit.
    let message: StaticString = "internal error: sparrowc crashed (a compiler bug; please report it with the model)\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(3)
  }
  for s in [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE] { signal(s, handler) }
}

/// Writes a line to stderr.
func printError(_ s: String, terminator: String = "\n") {
  FileHandle.standardError.write(Data((s + terminator).utf8))
}
