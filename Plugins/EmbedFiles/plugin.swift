// Build-tool plugin: every file under a target's `Embedded/` folder (except
// *.md) becomes a `[UInt8]` constant in `EmbeddedFiles`, named after the
// file in lowerCamelCase (`digits.csv.gz` -> `digitsCsvGz`).
import Foundation
import PackagePlugin

@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let sourceTarget = target as? SourceModuleTarget else { return [] }
        let inputs = sourceTarget.sourceFiles
            .map(\.url)
            .filter { $0.pathComponents.contains("Embedded") && $0.pathExtension != "md" }
            .sorted { $0.path < $1.path }
        guard !inputs.isEmpty else { return [] }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        let pairs = inputs.map { "\(constantName(for: $0.lastPathComponent))=\($0.path)" }
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) file(s) into \(target.name)",
                executable: try context.tool(named: "embed-files").url,
                arguments: [output.path] + pairs,
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }

    /// `digits.csv.gz` -> `digitsCsvGz`.
    private func constantName(for fileName: String) -> String {
        let words = fileName.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard let first = words.first else { return "file" }
        return first.lowercased() + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined()
    }
}
