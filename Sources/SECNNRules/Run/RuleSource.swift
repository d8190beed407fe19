import Foundation

/// Where `--rule NAME` comes from: a file first, so a user's edited copy
/// always wins and takes effect on the next run without a rebuild; then the
/// stock rules of `rules/`, compiled into the binary so that
/// `--rule paper.lua` works from any directory.
public enum RuleSource {
    /// File names of the stock rules (`paper.lua`, …).
    public static var stockNames: [String] { EmbeddedFiles.byFileName.keys.sorted() }

    /// The text of the rule `name` and the path its errors should show.
    public static func resolve(_ name: String) throws -> (source: String, displayPath: String) {
        if FileManager.default.fileExists(atPath: name) {
            guard let data = FileManager.default.contents(atPath: name) else {
                throw RuleError(file: name, message: "\(name): cannot be read")
            }
            return (String(decoding: data, as: UTF8.self), name)
        }
        let fileName = name.hasSuffix(".lua") ? name : name + ".lua"
        if !name.contains("/"), let bytes = EmbeddedFiles.byFileName[fileName] {
            return (String(decoding: bytes, as: UTF8.self), "rules/\(fileName) (built in)")
        }
        throw RuleError(file: name, message: "\(name): no such file, and no stock rule of that name (stock rules: "
                        + stockNames.joined(separator: ", ") + ")")
    }
}
