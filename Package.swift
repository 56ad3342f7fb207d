// swift-tools-version: 6.1
import PackageDescription

// oneDNN 3.2 (Intel's PyPI build) installs into /usr/local; Swift's linker does not search there by itself.
let dnnlLinker: [LinkerSetting] = [.unsafeFlags(["-L/usr/local/lib", "-Xlinker", "-rpath", "-Xlinker", "/usr/local/lib"])]

let package = Package(
    name: "Pneumo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pneumo", targets: ["pneumo"]),
        .library(name: "GraphCore", targets: ["GraphCore"]),
        .library(name: "CPUBackend", targets: ["CPUBackend"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Data", targets: ["Data"]),
        .library(name: "Serving", targets: ["Serving"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // The inference server: HTTP (without swift-configuration, which it does not use), logs, Prometheus
        // metrics, graceful shutdown, multipart bodies.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        // Hummingbird's own transport; the server names its buffers and event loops directly.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // Optimized in debug builds too: tests then time (and `auto` races) the kernels plans deploy.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // Tensors, the graph IR, shape inference, cost, autograd and the reference backend: no C.
        .target(name: "GraphCore"),
        // The CPU device: oneDNN, our C kernels, the OpenMP team and the float mode.
        .target(name: "CPUBackend", dependencies: ["GraphCore", "CDNNL", "CKernels"], linkerSettings: dnnlLinker),
        .target(name: "NN", dependencies: ["GraphCore", "FileSafety"]),
        // Yams reads YAML model spec files (`pneumo summary --config`).
        .target(name: "Models", dependencies: ["GraphCore", "NN", .product(name: "Yams", package: "Yams")]),
        .target(name: "ClinicalMetrics"),
        .target(name: "Charts"),
        .target(name: "Report", dependencies: ["Charts", "FileSafety"]),
        // Output files written whole or not at all, special files written through, output folders locked.
        .target(name: "FileSafety"),
        .target(name: "Optimize", dependencies: ["GraphCore"]),
        .target(name: "Profile", dependencies: ["GraphCore", "CPUBackend", "Runtime"]),
        .target(name: "Analysis", dependencies: ["GraphCore", "CPUBackend", "Optimize", "Runtime", "Profile", "Models"]),
        .target(name: "Deploy", dependencies: ["GraphCore", "CPUBackend", "Data", "ClinicalMetrics", "Runtime", "Profile"]),
        .target(name: "Pipeline", dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Data", "ClinicalMetrics", "Train", "Optimize", "Analysis", "Profile",
                                                 "Deploy", "ONNX", "Report", "Runtime", "FileSafety"]),
        .target(name: "Runtime", dependencies: ["GraphCore", "CPUBackend", "CDNNL", "Optimize", "FileSafety", .product(name: "Crypto", package: "swift-crypto")],
                linkerSettings: dnnlLinker),
        .target(name: "Train", dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Data", "ClinicalMetrics", "FileSafety"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .target(name: "CImageDecode", dependencies: ["CPNG", "CJPEG"], linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        .target(name: "Imaging", dependencies: ["CImageDecode", "GraphCore"]),
        // A model loaded from a file and served: the classifier behind `predict` (and an HTTP server), `infer`, `bench infer`.
        .target(name: "Serving", dependencies: ["GraphCore", "CPUBackend", "Models", "Data", "ClinicalMetrics", "Train", "Runtime", "ONNX", "Imaging"],
                linkerSettings: dnnlLinker),
        .target(name: "Data", dependencies: ["GraphCore", "CZlib", "FileSafety", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "ONNX", dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Train", "FileSafety", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                linkerSettings: dnnlLinker),
        // `pneumo serve`: the Open Inference Protocol over HTTP with dynamic batching.
        .target(name: "Serve", dependencies: ["GraphCore", "CPUBackend", "Runtime", "Serving",
                                              .product(name: "Hummingbird", package: "hummingbird"),
                                              .product(name: "HummingbirdCore", package: "hummingbird"),
                                              .product(name: "NIOCore", package: "swift-nio"),
                                              .product(name: "NIOPosix", package: "swift-nio"),
                                              .product(name: "NIOHTTP1", package: "swift-nio"),
                                              .product(name: "Logging", package: "swift-log"),
                                              .product(name: "Metrics", package: "swift-metrics"),
                                              .product(name: "Prometheus", package: "swift-prometheus"),
                                              .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                              .product(name: "MultipartKit", package: "multipart-kit")]),
        .executableTarget(
            name: "pneumo",
            dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Data", "ClinicalMetrics", "Train", "Report", "Optimize", "Runtime", "ONNX", "Profile", "Analysis", "Deploy", "Imaging", "Pipeline", "FileSafety", "Serving", "Serve",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log")],
            linkerSettings: dnnlLinker),
        // Helpers every test target shares (tolerances and element-wise comparison, temporary folders, fixture URLs,
        // hand-built .npy/.npz bytes). Only the pure-Swift GraphCore beneath it, so no test target links more for it.
        .target(name: "TestSupport", dependencies: ["GraphCore"], path: "Tests/TestSupport"),
        .testTarget(name: "DataTests", dependencies: ["TestSupport", "CPUBackend", "Data"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "NNTests", dependencies: ["TestSupport", "CPUBackend", "GraphCore", "NN", "Models"], linkerSettings: dnnlLinker),
        .testTarget(name: "FileSafetyTests", dependencies: ["TestSupport", "FileSafety"]),
        .testTarget(name: "ModelsTests", dependencies: ["TestSupport", "CPUBackend", "GraphCore", "NN", "Models"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "ONNXTests", dependencies: ["TestSupport", "CPUBackend", "ONNX", "GraphCore", "NN", "Models", "Train", "Runtime"], resources: [.copy("Fixtures")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "ClinicalMetricsTests", dependencies: ["TestSupport", "ClinicalMetrics"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["TestSupport", "CPUBackend", "Imaging", "GraphCore"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "ReportTests", dependencies: ["TestSupport", "Charts", "Report"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OptimizeTests", dependencies: ["TestSupport", "CPUBackend", "GraphCore", "NN", "Models", "Optimize", "Analysis", "Runtime", "Profile"],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "RuntimeTests", dependencies: ["TestSupport", "CPUBackend", "GraphCore", "NN", "Models", "Optimize", "Runtime", "Profile"],
                    resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "GraphCoreTests", dependencies: ["TestSupport", "CPUBackend", "GraphCore", "NN", "Models"], resources: [.copy("Fixtures")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "DeployTests", dependencies: ["TestSupport", "CPUBackend", "Deploy", "Data", "GraphCore", "ClinicalMetrics", "Models", "Profile", "Runtime"],
                    resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "PneumoCLITests", dependencies: ["TestSupport", "CPUBackend", "pneumo", "Data", "GraphCore", "FileSafety", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "ServeTests", dependencies: ["TestSupport", "Serve", "Serving", "Imaging", "GraphCore", "Runtime", "Models", "Data",
                                                       .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                       .product(name: "NIOCore", package: "swift-nio"),
                                                       .product(name: "NIOPosix", package: "swift-nio"),
                                                       .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                    exclude: ["triton_client_check.py"], linkerSettings: dnnlLinker),
        .testTarget(name: "ServingTests", dependencies: ["TestSupport", "CPUBackend", "Serving", "GraphCore", "Models", "ClinicalMetrics", "Train", "ONNX", "Imaging"],
                    resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport", "CPUBackend", "Pipeline", "Report", "Train", "Data", "GraphCore", "NN", "Models", "Optimize", "Runtime", "ONNX", "FileSafety"],
                    linkerSettings: dnnlLinker),
    ]
)
