import Foundation
import SparrowIR
import XCTest
@testable import SparrowLLVM

/// A generated .so: its dependencies, determinism, and a C caller built against the header.
final class SharedLibraryTests: XCTestCase {
  private var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "sparrow-llvm-\(ProcessInfo.processInfo.processIdentifier)-\(name.hashValue)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(atPath: directory)
  }

  @discardableResult
  private func shell(_ command: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else { throw Diagnostic("`\(command)` failed: \(text)") }
    return text
  }

  func testSharedLibraryCalledFromC() throws {
    let module = try ModelTests.tinyCNN()
    let lib = directory + "/libtiny.so"
    try compileModel(module, to: lib, kind: .so, name: "tiny", header: directory + "/tiny.h")

    let dynamic = try shell("readelf -d libtiny.so")
    let needed = dynamic.split(separator: "\n").filter { $0.contains("(NEEDED)") }
    // Linked with --as-needed: a model whose code calls nothing outside itself needs nothing.
    for line in needed {
      XCTAssert(["libc.so", "libm.so", "libpthread.so"].contains { line.contains($0) }, String(line))
    }

    let x = ModelTests.input()
    try Data(x.withUnsafeBytes { Array($0) }).write(to: URL(fileURLWithPath: directory + "/x.bin"))
    let program = #"""
    #include <stdio.h>
    #include <stdlib.h>
    #include "tiny.h"
    int main(void) {
      if (tiny_num_inputs() != 1 || tiny_num_outputs() != 2) return 10;
      const sparrow_tensor_info *in = tiny_input_info(0);
      if (!in || in->dtype != 1 || in->rank != 4 || in->shape[1] != 3) return 11;
      if (tiny_input_info(1) != NULL || tiny_output_info(-1) != NULL) return 12;
      printf("output0 %s\n", tiny_output_info(0)->name);
      float x[192], probs[5], features[6];
      FILE *f = fopen("x.bin", "rb");
      if (!f || fread(x, 4, 192, f) != 192) return 13;
      fclose(f);
      char *ws = aligned_alloc(64, tiny_workspace_size() + 64);
      const void *inputs[] = {x};
      void *outputs[] = {probs, features};
      if (tiny_run(NULL, outputs, ws, 1) != 1) return 14;
      if (tiny_workspace_size() > 0 && tiny_run(inputs, outputs, ws + 4, 1) != 2) return 15;
      if (!tiny_strerror(2) || !tiny_strerror(12345)) return 16;
      int code = tiny_run(inputs, outputs, ws, 2);
      if (code != 0) { printf("%s\n", tiny_strerror(code)); return 17; }
      for (int i = 0; i < 5; i++) printf("%.9g\n", probs[i]);
      for (int i = 0; i < 6; i++) printf("%.9g\n", features[i]);
      free(ws);
      return 0;
    }
    """#
    try program.write(toFile: directory + "/main.c", atomically: true, encoding: .utf8)
    try shell("cc -std=c11 -Wall -Werror -o main main.c -L. -ltiny -Wl,-rpath,'$ORIGIN'")
    let lines = try shell("./main").split(separator: "\n")
    XCTAssertEqual(lines.first, "output0 probs")
    let values = lines.dropFirst().compactMap { Float($0) }
    let want = ModelTests.reference(x)
    XCTAssertEqual(values.count, 11)
    for (g, r) in zip(values, want.probs + want.features) { XCTAssertEqual(g, r, accuracy: 1e-5) }
  }

  /// Contexts from C: the same bytes for 1, 2 and all threads, through `tiny_run` and
  /// contexts, and from four caller threads at once, each with its own context and
  /// workspace, many runs each (the pool parks and wakes between them). Every region of
  /// the model forks (SPARROW_FORK_THRESHOLD_NS=0 while compiling).
  func testContextsRunConcurrentlyFromC() throws {
    let module = try ModelTests.tinyCNN()
    setenv("SPARROW_FORK_THRESHOLD_NS", "0", 1)
    defer { unsetenv("SPARROW_FORK_THRESHOLD_NS") }
    try compileModel(module, to: directory + "/libtiny.so", kind: .so, name: "tiny", header: directory + "/tiny.h")
    let x = ModelTests.input()
    try Data(x.withUnsafeBytes { Array($0) }).write(to: URL(fileURLWithPath: directory + "/x.bin"))
    let program = #"""
    #include <pthread.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include "tiny.h"
    static float x[192], want[11];
    struct caller { tiny_context *ctx; int threads, failures; };
    static int run_once(tiny_context *ctx, int threads, float *got) {
      char *ws = aligned_alloc(64, tiny_workspace_size() + 64);
      const void *inputs[] = {x};
      void *outputs[] = {got, got + 5};
      int code = ctx ? tiny_run_context(ctx, inputs, outputs, ws) : tiny_run(inputs, outputs, ws, threads);
      free(ws);
      return code;
    }
    static void *caller_main(void *arg) {
      struct caller *c = arg;
      c->ctx = tiny_context_create(c->threads);
      for (int i = 0; i < 200; i++) {
        float got[11];
        if (!c->ctx || run_once(c->ctx, 0, got) != 0 || memcmp(got, want, sizeof got) != 0) c->failures++;
      }
      tiny_context_destroy(c->ctx);
      return NULL;
    }
    int main(void) {
      FILE *f = fopen("x.bin", "rb");
      if (!f || fread(x, 4, 192, f) != 192) return 10;
      fclose(f);
      if (run_once(NULL, 1, want) != 0) return 11;
      for (int threads = 0; threads <= 3; threads++) {
        float got[11];
        if (run_once(NULL, threads, got) != 0 || memcmp(got, want, sizeof got) != 0) return 12;
        tiny_context *ctx = tiny_context_create(threads);
        if (!ctx) return 13;
        for (int i = 0; i < 3; i++)
          if (run_once(ctx, 0, got) != 0 || memcmp(got, want, sizeof got) != 0) return 14;
        tiny_context_destroy(ctx);
      }
      const void *inputs[] = {x};
      float out[11];
      void *outputs[] = {out, out + 5};
      if (tiny_run_context(NULL, inputs, outputs, NULL) != 1) return 15;
      tiny_context_destroy(NULL);
      pthread_t ids[4];
      struct caller callers[4];
      for (int i = 0; i < 4; i++) {
        callers[i] = (struct caller){NULL, 1 + i % 3, 0};
        if (pthread_create(&ids[i], NULL, caller_main, &callers[i]) != 0) return 16;
      }
      int failures = 0;
      for (int i = 0; i < 4; i++) { pthread_join(ids[i], NULL); failures += callers[i].failures; }
      printf("failures %d\n", failures);
      for (int i = 0; i < 11; i++) printf("%.9g\n", want[i]);
      return failures ? 17 : 0;
    }
    """#
    try program.write(toFile: directory + "/main.c", atomically: true, encoding: .utf8)
    try shell("cc -std=c11 -Wall -Werror -pthread -o main main.c -L. -ltiny -Wl,-rpath,'$ORIGIN'")
    let lines = try shell("./main").split(separator: "\n")
    XCTAssertEqual(lines.first, "failures 0")
    let values = lines.dropFirst().compactMap { Float($0) }
    let reference = ModelTests.reference(x)
    XCTAssertEqual(values.count, 11)
    for (g, r) in zip(values, reference.probs + reference.features) { XCTAssertEqual(g, r, accuracy: 1e-5) }
  }

  func testArtifactsAreDeterministic() throws {
    let module = try ModelTests.tinyCNN()
    for kind in [ArtifactKind.so, .obj, .llvmIR, .asm] {
      try compileModel(module, to: directory + "/a", kind: kind, name: "tiny")
      try compileModel(module, to: directory + "/b", kind: kind, name: "tiny")
      let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/a"))
      let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/b"))
      XCTAssertEqual(a, b, "\(kind) differs between two builds")
      XCTAssertFalse(a.isEmpty)
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }
    XCTAssertEqual(leftovers, [], "temporary files left behind")
  }

  func testFailedCompileLeavesNoFile() throws {
    var b = Builder(module: Module(name: "bad"), function: Function(name: "main"))
    let x = b.addArgument(name: "x", type: TensorType(.f32, [4]))
    let y = try b.add1(.einsum, [x], ["equation": .string("i->i")])
    let path = directory + "/bad.so"
    XCTAssertThrowsError(try compileModel(b.finish(results: [y]), to: path, kind: .so))
    XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }
    XCTAssertEqual(leftovers, [], "temporary files left behind")
  }
}
