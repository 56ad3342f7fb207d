// swift-tools-version: 6.1
import PackageDescription

// oneDNN 3.2 (Intel's PyPI build) installs into /usr/local; Swift's linker does not search there by itself.
let dnnlLinker: [LinkerSetting] = [.unsafeFlags(["-L/usr/local/lib", "-Xlinker", "-rpath", "-Xlinker", "/usr/local/lib"])]

let package = Package(
    name: "Pneumo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pneumo", targets: ["pneumo"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Data", targets: ["Data"]),
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
        .target(name: "Engine", dependencies: ["CDNNL", "CKernels"], linkerSettings: dnnlLinker),
        .target(name: "NN", dependencies: ["Engine", "FileSafety"]),
        .target(name: "Models", dependencies: ["Engine", "NN"]),
        .target(name: "Metrics"),
        .target(name: "Charts"),
        .target(name: "Report", dependencies: ["Charts", "FileSafety"]),
        // Output files written whole or not at all, special files written through, output folders locked.
        .target(name: "FileSafety"),
        .target(name: "Optimize", dependencies: ["Engine"]),
        .target(name: "Profile", dependencies: ["Engine", "Runtime"]),
        .target(name: "Analysis", dependencies: ["Engine", "Optimize", "Runtime", "Profile", "Models"]),
        .target(name: "Deploy", dependencies: ["Engine", "Data", "Metrics", "Runtime", "Profile"]),
        .target(name: "Pipeline", dependencies: ["Engine", "NN", "Models", "Data", "Metrics", "Train", "Optimize", "Analysis", "Profile",
                                                 "Deploy", "ONNX", "Report", "Runtime", "FileSafety"]),
        .target(name: "Runtime", dependencies: ["Engine", "CDNNL", "Optimize"], linkerSettings: dnnlLinker),
        .target(name: "Train", dependencies: ["Engine", "NN", "Models", "Data", "Metrics", "FileSafety"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .target(name: "CImageDecode", dependencies: ["CPNG", "CJPEG"], linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        .target(name: "Imaging", dependencies: ["CImageDecode", "Engine"]),
        .target(name: "Data", dependencies: ["Engine", "CZlib", "FileSafety", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "ONNX", dependencies: ["Engine", "NN", "Models", "Train", "FileSafety", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                linkerSettings: dnnlLinker),
        .executableTarget(
            name: "pneumo",
            dependencies: ["Engine", "NN", "Models", "Data", "Metrics", "Train", "Report", "Optimize", "Runtime", "ONNX", "Profile", "Analysis", "Deploy", "Imaging", "Pipeline", "FileSafety",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: dnnlLinker),
        .testTarget(name: "DataTests", dependencies: ["Data"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "NNTests", dependencies: ["Engine", "NN", "Models"], linkerSettings: dnnlLinker),
        .testTarget(name: "FileSafetyTests", dependencies: ["FileSafety"]),
        .testTarget(name: "ModelsTests", dependencies: ["Engine", "NN", "Models"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Engine", "NN", "Models", "Train", "Runtime"], resources: [.copy("Fixtures")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Engine"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "ReportTests", dependencies: ["Charts", "Report"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OptimizeTests", dependencies: ["Engine", "NN", "Models", "Optimize", "Analysis", "Runtime", "Profile"],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "RuntimeTests", dependencies: ["Engine", "NN", "Models", "Optimize", "Runtime", "Profile"], linkerSettings: dnnlLinker),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "NN", "Models"], resources: [.copy("Fixtures")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "DeployTests", dependencies: ["Deploy", "Data", "Engine", "Metrics", "Models", "Profile", "Runtime"],
                    resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "PneumoCLITests", dependencies: ["pneumo", "Data", "Engine", "FileSafety", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                    linkerSettings: dnnlLinker),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Train", "Data", "Engine", "NN", "Models", "Optimize", "Runtime", "ONNX", "FileSafety"],
                    linkerSettings: dnnlLinker),
    ]
)
