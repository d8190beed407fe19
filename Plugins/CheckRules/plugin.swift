// Command plugin: `swift package check-rules [FILES…]` loads each growth
// rule (default: rules/*.lua) in secnn's sandbox and dry-runs
// when/propose/decide on canned contexts, so a rule author gets file:line
// feedback without training anything. It runs `secnn check-rules`.
import Foundation
import PackagePlugin

@main
struct CheckRules: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var files = arguments
        if files.isEmpty {
            let folder = context.package.directoryURL.appending(path: "rules")
            files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasSuffix(".lua") }.sorted().map { folder.appending(path: $0).path }
        }
        let secnn = try context.tool(named: "secnn")
        let process = Process()
        process.executableURL = secnn.url
        process.arguments = ["check-rules"] + files
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Diagnostics.error("check-rules: problems found (see above)")
            throw CheckRulesFailed()
        }
    }
}

struct CheckRulesFailed: Error, CustomStringConvertible {
    var description: String { "check-rules found problems" }
}
