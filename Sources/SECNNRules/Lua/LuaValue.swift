/// A Lua value copied across the boundary: `ctx` is built as one in Swift and
/// pushed in a single step, and what a rule returns is copied out as one, so
/// validating it is plain Swift and no stack index leaves `LuaState`.
package enum LuaValue: Equatable {
    case `nil`
    case boolean(Bool)
    /// Lua's integer subtype.
    case integer(Int)
    /// Lua's float subtype.
    case number(Double)
    case string(String)
    case table(LuaTable)
    /// A function, userdata or thread, by its Lua type name: only the fact
    /// crosses into Swift (pushed back, it is nil).
    case opaque(String)

    /// The value's field `key` when it is a table (nil otherwise), without metamethods.
    subscript(key: String) -> LuaValue {
        if case .table(let table) = self { table.entries[.string(key)] ?? .nil } else { .nil }
    }

    /// A table with string keys.
    static func record(_ fields: [String: LuaValue]) -> LuaValue { .table(LuaTable(fields)) }

    /// A table with keys 1...n.
    static func array(_ values: [LuaValue]) -> LuaValue { .table(LuaTable(array: values)) }

    /// The value as an Int when it is an integer, or a float with an
    /// integral value in Int's range (`2.0` from `x / 2`); nil otherwise.
    var exactInteger: Int? {
        switch self {
        case .integer(let value): value
        case .number(let value): Int(exactly: value)
        default: nil
        }
    }

    /// `a string`, `nil`, `a table`: what a message says a wrong value was.
    var typeDescription: String {
        switch self {
        case .nil: "nil"
        case .boolean: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .table: "a table"
        case .opaque(let type): "a \(type)"
        }
    }

    /// The value as Lua would print it (strings quoted), for messages.
    var literal: String {
        switch self {
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .boolean(let value): "\(value)"
        default: typeDescription
        }
    }

    /// `--rule-arg` text as a rule sees it: a number when it reads as one
    /// (an integer when it is one), the string otherwise.
    init(argument text: String) {
        if let integer = Int(text) {
            self = .integer(integer)
        } else if let number = Double(text), number.isFinite {
            self = .number(number)
        } else {
            self = .string(text)
        }
    }
}

/// A table's string- and integer-keyed entries (float keys with integral
/// values are integers in Lua too).
package struct LuaTable: Equatable {
    enum Key: Hashable {
        case integer(Int)
        case string(String)

        /// `"block"`, `3`: for messages.
        var literal: String {
            switch self {
            case .integer(let index): "\(index)"
            case .string(let name): "\"\(name)\""
            }
        }
    }

    var entries: [Key: LuaValue] = [:]
    /// Keys that are neither, described (`a boolean key`, `a table key`, `a number key` for fractions).
    var otherKeys: [String] = []

    init() {}

    /// A record: string keys.
    init(_ fields: [String: LuaValue]) {
        entries = Dictionary(uniqueKeysWithValues: fields.map { (Key.string($0.key), $0.value) })
    }

    /// A sequence: keys 1...n.
    init(array: [LuaValue]) {
        entries = Dictionary(uniqueKeysWithValues: array.enumerated().map { (Key.integer($0.offset + 1), $0.element) })
    }

    /// The values at 1...n when those are all the keys there are (an empty
    /// table is an empty sequence); nil otherwise.
    var sequence: [LuaValue]? {
        guard otherKeys.isEmpty else { return nil }
        var values: [LuaValue] = []
        while let value = entries[.integer(values.count + 1)] { values.append(value) }
        return values.count == entries.count ? values : nil
    }

    /// A key that keeps a table that is not a sequence from being one, for
    /// messages (with n entries, some key lies outside 1...n).
    var nonSequenceKey: String? {
        if let key = otherKeys.first { return key }
        return entries.keys.filter { key in
            if case .integer(let index) = key { index < 1 || index > entries.count } else { true }
        }.map { "the key \($0.literal)" }.min()
    }
}
