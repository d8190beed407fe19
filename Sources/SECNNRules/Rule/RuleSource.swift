import Foundation

/// Where `--rule NAME` comes from: a file first, so a user's edited copy
/// always wins and takes effect on the next run without a rebuild; then the
/// stock rules of `rules/`, compiled into the binary so that
/// `--rule paper.lua` works from any directory.
public enum RuleSource {
    /// File names of the stock rules (`paper.lua`, …).
    public static var stockNames: [String] { EmbeddedFiles.byFileName.keys.sorted() }

    /// The text of the rule `name` and the path its errors should show:
    /// the one loader of rule files, for `train`, `--resume`, `check-rules`,
    /// the examples and the tests.
    public static func resolve(_ name: String) throws -> (source: String, displayPath: String) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: name) else {
                throw RuleError(file: name, message: "\(name): cannot read the rule file")
            }
            // Lua would accept a precompiled chunk; the sandbox takes text only.
            guard let source = String(data: data, encoding: .utf8) else {
                throw RuleError(file: name, message: "\(name): not UTF-8 text (rule files are Lua source)")
            }
            return (source, name)
        }
        let fileName = name.hasSuffix(".lua") ? name : name + ".lua"
        guard !name.contains("/") else { throw RuleError(file: name, message: "\(name): no such rule file") }
        if let bytes = EmbeddedFiles.byFileName[fileName] {
            return (String(decoding: bytes, as: UTF8.self), "rules/\(fileName) (built in)")
        }
        throw RuleError(file: name, message: "\(name): no such file, and no stock rule of that name (stock rules: "
                        + stockNames.joined(separator: ", ") + ")")
    }
}
