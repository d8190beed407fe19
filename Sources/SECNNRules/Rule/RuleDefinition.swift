import SECNNCore
import SECNNModel

/// What the table a rule file returns declares, checked against the
/// contract of `rules/README.md`: the three functions and the settings.
struct RuleDefinition {
    var name: String
    var scoreMethod: NaturalScoreMethod
    var limits: ExpansionLimits
    var decide: LuaFunction
    var when: LuaFunction?
    var propose: LuaFunction?

    /// Field names `limits` takes; any other is a typo worth an error.
    static let limitFields = ["layers_per_block", "channels_per_block"]

    init(_ module: LuaModule, defaultName: String, file: String) throws {
        func failure(_ text: String) -> RuleError { RuleError(file: file, message: "\(file): \(text)") }
        let table = module.value
        guard case .table = table else {
            throw failure(
                "the file returned \(table.typeDescription); expected a table with decide(ctx) (see rules/README.md)")
        }
        func function(_ key: String) throws -> LuaFunction? {
            if let function = module.functions[key] { return function }
            guard table[key] == .nil else {
                throw failure("\(key) is \(table[key].typeDescription); expected a function")
            }
            return nil
        }
        guard let decide = try function("decide") else {
            throw failure("the returned table has no decide; expected decide = function(ctx) ... end")
        }
        self.decide = decide
        when = try function("when")
        propose = try function("propose")

        switch table["name"] {
        case .nil: name = defaultName
        case .string(let name) where !name.isEmpty: self.name = name
        case let other: throw failure("name is \(other.literal); expected a non-empty string")
        }

        let score = table["score"]
        if score == .nil {
            scoreMethod = .diag
        } else if case .string(let text) = score, let method = NaturalScoreMethod(rawValue: text) {
            scoreMethod = method
        } else {
            throw failure("score is \(score.literal); expected \"diag\" or \"kfac\"")
        }

        switch table["limits"] {
        case .nil: limits = ExpansionLimits()
        case .table(let fields):
            let unknown = fields.otherKeys + fields.entries.keys.filter { key in
                !Self.limitFields.contains { key == .string($0) }
            }.map { "the key \($0.literal)" }
            if let key = unknown.min() {
                throw failure("limits has \(key); expected only \(Self.limitFields.joined(separator: " and "))")
            }
            func count(_ key: String) throws -> Int? {
                let value = fields.entries[.string(key)] ?? .nil
                guard value != .nil else { return nil }
                guard let count = value.exactInteger, count > 0 else {
                    throw failure("limits.\(key) is \(value.literal); expected a positive integer")
                }
                return count
            }
            limits = try ExpansionLimits(
                maxLayersPerBlock: count("layers_per_block") ?? ExpansionLimits().maxLayersPerBlock,
                maxChannelsPerBlock: count("channels_per_block") ?? ExpansionLimits.defaultMaxChannelsPerBlock)
        case let other: throw failure("limits is \(other.typeDescription); expected a table")
        }
    }
}
