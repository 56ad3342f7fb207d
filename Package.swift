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
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .target(name: "Engine", dependencies: ["CDNNL"], linkerSettings: dnnlLinker),
        .target(name: "NN", dependencies: ["Engine"]),
        .target(name: "Models", dependencies: ["Engine", "NN"]),
        .target(name: "Metrics"),
        .target(name: "Train", dependencies: ["Engine", "NN", "Models", "Data", "Metrics"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "Data", dependencies: ["Engine", "CZlib", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "pneumo",
            dependencies: ["Engine", "NN", "Models", "Data", "Metrics", "Train",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: dnnlLinker),
        .testTarget(name: "DataTests", dependencies: ["Data"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "NNTests", dependencies: ["Engine", "NN", "Models"], linkerSettings: dnnlLinker),
        .testTarget(name: "ModelsTests", dependencies: ["Engine", "NN", "Models"], resources: [.copy("Fixtures")], linkerSettings: dnnlLinker),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "NN", "Models"], resources: [.copy("Fixtures")],
                    linkerSettings: dnnlLinker),
    ]
)
