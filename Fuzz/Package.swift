// swift-tools-version:6.0
// libFuzzer executable for secnn's readers (FUZZING.md). A package of its
// own, so that the flags below stay out of secnn's manifest (a package with
// unsafe flags cannot be a dependency). Build it as `make fuzz` does:
//   swift build -c release --sanitize=address \
//     -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table
// which instruments every module; only this executable links libFuzzer
// (whose `main` would clash with secnn's executables and build tools).
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, whatever the clone is called.
let secnn = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "secnn-fuzz",
    dependencies: [.package(path: secnn.path)],
    targets: [
        .target(name: "CLibFuzzer"),
        .executableTarget(
            name: "secnn-fuzz",
            dependencies: ["CLibFuzzer", .product(name: "SECNNFuzzing", package: secnn.lastPathComponent)],
            // The toolchain's lld: Debian's gold stops with an internal error on these ASan objects.
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer", "-use-ld=lld"])]),
    ],
    swiftLanguageModes: [.v5]
)
