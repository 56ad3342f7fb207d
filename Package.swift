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
        .target(name: "Models", dependencies: ["GraphCore", "NN"]),
        .target(name: "Metrics"),
        .target(name: "Charts"),
        .target(name: "Report", dependencies: ["Charts", "FileSafety"]),
        // Output files written whole or not at all, special files written through, output folders locked.
        .target(name: "FileSafety"),
        .target(name: "Optimize", dependencies: ["GraphCore"]),
        .target(name: "Profile", dependencies: ["GraphCore", "CPUBackend", "Runtime"]),
        .target(name: "Analysis", dependencies: ["GraphCore", "CPUBackend", "Optimize", "Runtime", "Profile", "Models"]),
        .target(name: "Deploy", dependencies: ["GraphCore", "CPUBackend", "Data", "Metrics", "Runtime", "Profile"]),
        .target(name: "Pipeline", dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Data", "Metrics", "Train", "Optimize", "Analysis", "Profile",
                                                 "Deploy", "ONNX", "Report", "Runtime", "FileSafety"]),
        .target(name: "Runtime", dependencies: ["GraphCore", "CPUBackend", "CDNNL", "Optimize"], linkerSettings: dnnlLinker),
        .target(name: "Train", dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Data", "Metrics", "FileSafety"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .target(name: "CImageDecode", dependencies: ["CPNG", "CJPEG"], linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        .target(name: "Imaging", dependencies: ["CImageDecode", "GraphCore"]),
        // A model loaded from a file and served: the classifier behind `predict` (and an HTTP server), `infer`, `bench infer`.
        .target(name: "Serving", dependencies: ["GraphCore", "CPUBackend", "Models", "Data", "Metrics", "Train", "Runtime", "ONNX", "Imaging"],
                linkerSettings: dnnlLinker),
        .target(name: "Data", dependencies: ["GraphCore", "CZlib", "FileSafety", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "ONNX", dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Train", "FileSafety", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                linkerSettings: dnnlLinker),
        .executableTarget(
            name: "pneumo",
            dependencies: ["GraphCore", "CPUBackend", "NN", "Models", "Data", "Metrics", "Train", "Report", "Optimize", "Runtime", "ONNX", "Profile", "Analysis", "Deploy", "Imaging", "Pipeline", "FileSafety", "Serving",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: dnnlLinker),
        .testTarget(name: "DataTests", dependencies: ["CPUBackend", "Data"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "NNTests", dependencies: ["CPUBackend", "GraphCore", "NN", "Models"], linkerSettings: dnnlLinker),
        .testTarget(name: "FileSafetyTests", dependencies: ["FileSafety"]),
        .testTarget(name: "ModelsTests", dependencies: ["CPUBackend", "GraphCore", "NN", "Models"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "ONNXTests", dependencies: ["CPUBackend", "ONNX", "GraphCore", "NN", "Models", "Train", "Runtime"], resources: [.copy("Fixtures")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["CPUBackend", "Imaging", "GraphCore"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "ReportTests", dependencies: ["Charts", "Report"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OptimizeTests", dependencies: ["CPUBackend", "GraphCore", "NN", "Models", "Optimize", "Analysis", "Runtime", "Profile"],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "RuntimeTests", dependencies: ["CPUBackend", "GraphCore", "NN", "Models", "Optimize", "Runtime", "Profile"], linkerSettings: dnnlLinker),
        .testTarget(name: "GraphCoreTests", dependencies: ["CPUBackend", "GraphCore", "NN", "Models"], resources: [.copy("Fixtures")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "DeployTests", dependencies: ["CPUBackend", "Deploy", "Data", "GraphCore", "Metrics", "Models", "Profile", "Runtime"],
                    resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "PneumoCLITests", dependencies: ["CPUBackend", "pneumo", "Data", "GraphCore", "FileSafety", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "ServingTests", dependencies: ["CPUBackend", "Serving", "GraphCore", "Models", "Metrics", "Train", "ONNX", "Imaging"],
                    resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "PipelineTests", dependencies: ["CPUBackend", "Pipeline", "Train", "Data", "GraphCore", "NN", "Models", "Optimize", "Runtime", "ONNX", "FileSafety"],
                    linkerSettings: dnnlLinker),
    ]
)
