// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "secnn",
    products: [
        .executable(name: "secnn", targets: ["secnn"]),
        .library(name: "SECNNCore", targets: ["SECNNCore"]),
        .library(name: "SECNNModel", targets: ["SECNNModel"]),
        .library(name: "SECNNGrowth", targets: ["SECNNGrowth"]),
        .library(name: "SECNNRules", targets: ["SECNNRules"]),
        // For the libFuzzer executables of Fuzz/ (a package of its own, built with --sanitize=fuzzer).
        .library(name: "SECNNFuzzing", targets: ["SECNNFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - System libraries from Debian (pkg-config)
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CLua", path: "Sources/CLua", pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(
            name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Build tools
        .executableTarget(name: "embed-files", path: "Sources/embed-files"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["embed-files"]),
        .plugin(
            name: "CheckRules",
            capability: .command(intent: .custom(verb: "check-rules",
                                                 description: "Dry-run growth rules (default rules/*.lua) in secnn's sandbox")),
            dependencies: ["secnn"]),

        // MARK: - Libraries (dependencies point one way: Core <- Model <- Growth <- Rules <- CLI)
        // AVX2 kernel for small products, picked at run time (SECNNCore's SmallGEMM.swift says when and why).
        .target(name: "CSmallGEMM"),
        .target(name: "SECNNCore", dependencies: ["COpenBLAS", "CMalloc", "CSmallGEMM"]),
        .target(name: "SafeTensors"),
        .target(
            name: "SECNNData", dependencies: ["CZlib", "CPNG", "CTurboJPEG"],
            exclude: ["Embedded/CREDITS.md"],
            plugins: ["EmbedFiles"]),
        .target(name: "SECNNModel", dependencies: ["SECNNCore", "SafeTensors", "SECNNData"]),
        // The self-expanding training run, the policy protocol it drives, its ladder, run files and report:
        // growth without Lua.
        .target(name: "SECNNGrowth", dependencies: ["SECNNCore", "SECNNModel", "SafeTensors"]),
        // Data-parallel runs over Open MPI: the processes a launcher started, as SECNNCore's Collective.
        .target(name: "SECNNDistributed", dependencies: ["SECNNCore", "CMPI"]),
        // The Lua rule engine (sandboxed): rule files as growth policies.
        .target(name: "SECNNRules", dependencies: ["SECNNCore", "SECNNModel", "SECNNGrowth", "CLua"],
                plugins: ["EmbedFiles"]),

        // The fuzz targets' entry points (FUZZING.md), replayed over Fuzz/Corpus by FuzzReplayTests.
        .target(name: "SECNNFuzzing", dependencies: ["SECNNModel", "SECNNGrowth", "SECNNRules", "SECNNData", "SafeTensors",
                                                    "CLua"]),

        // MARK: - Command-line tool
        .executableTarget(
            name: "secnn",
            dependencies: [
                "SECNNModel", "SECNNGrowth", "SECNNRules", "SECNNData", "SECNNDistributed", "CLua", "COpenBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: - Examples
        .executableTarget(name: "train-digits", dependencies: ["SECNNModel", "SECNNData"], path: "Examples/TrainDigits"),
        .executableTarget(name: "grow-digits", dependencies: ["SECNNRules", "SECNNGrowth", "SECNNModel", "SECNNData"],
                          path: "Examples/GrowDigits"),
        // Growth driven by a Swift type: no Lua linked.
        .executableTarget(name: "swift-policy", dependencies: ["SECNNGrowth", "SECNNModel", "SECNNData"],
                          path: "Examples/SwiftPolicy"),
        .executableTarget(name: "infer", dependencies: ["SECNNGrowth", "SECNNModel", "SECNNCore", "SECNNData"],
                          path: "Examples/Infer"),

        // MARK: - Tests
        .target(name: "_SECNNTestSupport", dependencies: ["SECNNCore", "CPNG", "CTurboJPEG"], path: "Tests/_SECNNTestSupport"),
        .testTarget(name: "SECNNCoreTests", dependencies: ["SECNNCore", "CSmallGEMM", "_SECNNTestSupport"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "_SECNNTestSupport"]),
        .testTarget(name: "SECNNDataTests", dependencies: ["SECNNData", "_SECNNTestSupport"]),
        .testTarget(name: "SECNNModelTests", dependencies: ["SECNNModel", "SafeTensors", "SECNNData", "_SECNNTestSupport"]),
        .testTarget(name: "FuzzReplayTests", dependencies: ["SECNNFuzzing"]),
        .testTarget(name: "SECNNRulesTests",
                    dependencies: ["SECNNRules", "SECNNGrowth", "SECNNModel", "SECNNCore", "_SECNNTestSupport"]),
        // End-to-end: runs the built `secnn` and `train-digits` binaries (and writes a CIFAR-shaped
        // checkpoint through the library for the PyTorch cross-check).
        .testTarget(name: "CLITests", dependencies: ["secnn", "train-digits", "grow-digits", "swift-policy", "infer", "SECNNCore", "SECNNModel", "SECNNData", "SafeTensors", "_SECNNTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
