// swift-tools-version:6.0
// Sparrow: a sparse-aware neural-network compiler. Targets in dependency order; see
// ../shared/DESIGN.md for the architecture.
import PackageDescription

let llvmInclude = "/usr/lib/llvm-14/include"

let package = Package(
  name: "Sparrow",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "sparrowc", targets: ["sparrowc"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
  ],
  targets: [
    // System libraries.
    .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
    .systemLibrary(name: "CLLVM", path: "Sources/CLLVM"),

    // IR: types, op table, graph, text format, verifier.
    .target(name: "SparrowIR", path: "IR"),
    .testTarget(name: "SparrowIRTests", dependencies: ["SparrowIR", "SparrowIO", "SparrowTestSupport"],
                path: "Tests/SparrowIRTests"),


    // .npy and safetensors.
    .target(name: "SparrowIO", dependencies: ["SparrowIR"], path: "Sources/SparrowIO"),
    .testTarget(name: "SparrowIOTests", dependencies: ["SparrowIO"], path: "Tests/SparrowIOTests"),

    // Shared by targets: Target protocol, buffers.
    .target(name: "SparrowTargetSupport", dependencies: ["SparrowIR"], path: "Targets/Support"),

    // The reference interpreter (OpenBLAS for dense GEMM).
    .target(name: "SparrowInterpreter",
            dependencies: ["SparrowIR", "SparrowTargetSupport", "COpenBLAS"],
            path: "Targets/Interpreter",
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
    .testTarget(name: "SparrowInterpreterTests", dependencies: ["SparrowInterpreter", "SparrowTestSupport"],
                path: "Tests/SparrowInterpreterTests"),

    // Passes: pass manager, registry, pipelines.
    .target(name: "SparrowPasses", dependencies: ["SparrowIR", "SparrowTargetSupport", "SparrowInterpreter"],
            path: "Passes"),
    .testTarget(name: "SparrowPassesTests",
                dependencies: ["SparrowPasses", "SparrowIO", "SparrowTestSupport", "SparrowLLVM"],
                path: "Tests/SparrowPassesTests"),

    // ONNX frontend (generated protobuf code is committed under Generated/).
    .target(name: "SparrowONNX",
            dependencies: ["SparrowIR", "SparrowInterpreter",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/SparrowONNX"),
    .testTarget(name: "SparrowONNXTests", dependencies: ["SparrowONNX", "SparrowTestSupport"],
                path: "Tests/SparrowONNXTests"),

    // The LLVM target: generated native kernels, JIT, .so + header.
    .target(name: "SparrowLLVM",
            dependencies: ["SparrowIR", "SparrowIO", "SparrowTargetSupport", "CLLVM"],
            path: "Targets/LLVM",
            swiftSettings: [.unsafeFlags(["-Xcc", "-I\(llvmInclude)"])]),
    .testTarget(name: "SparrowLLVMTests",
                dependencies: ["SparrowLLVM", "SparrowInterpreter", "SparrowIO", "SparrowTestSupport"],
                path: "Tests/SparrowLLVMTests"),

    // What every test target shares: the golden .sir checker (RUN / CHECK / expected-error),
    // the one oracle (`assertEquivalent`: LLVM target against the interpreter) and the one
    // seeded data source.
    .target(name: "SparrowTestSupport",
            dependencies: ["SparrowIR", "SparrowTargetSupport", "SparrowInterpreter", "SparrowLLVM"],
            path: "Tests/Support"),

    // The driver.
    .executableTarget(name: "sparrowc",
                      dependencies: ["SparrowIR", "SparrowIO", "SparrowONNX", "SparrowPasses",
                                     "SparrowInterpreter", "SparrowLLVM",
                                     .product(name: "ArgumentParser",
                                              package: "swift-argument-parser")],
                      path: "Sources/sparrowc"),
  ]
)
