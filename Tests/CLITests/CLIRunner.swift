import Foundation
import XCTest

/// What one run of a built executable produced.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The `key=value` lines that end stdout (after them only bench's JSON line may follow).
    var values: [String: String] {
        var values: [String: String] = [:]
        var lines = stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        if lines.last?.hasPrefix("{") == true { lines.removeLast() }
        for line in lines.reversed() {
            guard let equals = line.firstIndex(of: "="),
                  line[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), equals != line.startIndex
            else { break }
            let key = String(line[..<equals])
            if values[key] == nil { values[key] = String(line[line.index(after: equals)...]) }  // the last one wins
        }
        return values
    }

    /// `stdout` and `stderr` for failure messages.
    var transcript: String { "exit status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// Runs the executables built beside the test bundle.
enum CLI {
    /// The directory holding the built products: on Linux the xctest bundle
    /// is an executable in `.build/<triple>/<configuration>/`, on macOS a
    /// bundle directory there.
    static func productsDirectory() -> [URL] {
        var candidates = [Bundle.main.bundleURL]
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent())
        }
        return candidates
    }

    /// The built executable `name`, or a failure saying where it was looked for.
    static func executable(_ name: String) throws -> URL {
        let places = productsDirectory()
        for directory in places {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw CLIError("the built `\(name)` executable is not beside the test bundle (looked in "
            + places.map(\.path).joined(separator: ", ") + "); build with `swift build -c release --build-tests` first")
    }

    /// Runs `name` with `arguments`, capturing stdout and stderr through
    /// files (no pipe can fill up and block the child).
    static func run(_ name: String, _ arguments: [String], environment: [String: String]? = nil,
                    directory: URL? = nil) throws -> CommandResult {
        try run(executable: executable(name), arguments, environment: environment, directory: directory)
    }

    static func run(executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                    directory: URL? = nil) throws -> CommandResult {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                             stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory under the system's temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase, _ name: String = "secnn-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
