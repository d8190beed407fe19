/// A JSON parse failure: a complete message and the header byte where it was detected.
struct HeaderJSONError: Error {
    /// Byte index in the header.
    let position: Int
    /// What went wrong, already mentioning the position.
    let message: String
}

/// A small recursive-descent JSON parser for safetensors headers.
///
/// Differences from a general-purpose parser, all deliberate for untrusted input:
/// duplicate keys in any object are rejected, nesting is limited to `maxDepth`,
/// and integers outside `Int` are rejected rather than rounded.
/// The input must already be valid UTF-8.
struct HeaderJSONParser {
    /// The deepest nesting of objects and arrays accepted.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var position = 0

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses `bytes` as one JSON value surrounded by optional whitespace.
    static func parse(_ bytes: [UInt8]) throws(HeaderJSONError) -> JSONNode {
        var parser = HeaderJSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position < bytes.count {
            throw parser.syntaxError("expected end of header after the JSON value, found \(parser.describeCurrent())")
        }
        return value
    }

    // MARK: - Errors

    private func syntaxError(_ what: String, at index: Int? = nil) -> HeaderJSONError {
        let at = index ?? position
        return HeaderJSONError(position: at, message: "header is not valid JSON: \(what) at header byte \(at)")
    }

    private func describeCurrent() -> String {
        guard position < bytes.count else { return "end of header" }
        let byte = bytes[position]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    // MARK: - Helpers

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private static func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(HeaderJSONError) -> JSONNode {
        guard let byte = current else { throw syntaxError("expected a value, found end of header") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            let start = position
            return JSONNode(position: start, value: .string(try parseString()))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        default: throw syntaxError("expected a value, found \(describeCurrent())")
        }
    }

    private mutating func parseLiteral(_ word: String, _ value: JSONNode.Value) throws(HeaderJSONError) -> JSONNode {
        let start = position
        for expected in word.utf8 {
            guard current == expected else { throw syntaxError("expected '\(word)'", at: start) }
            position += 1
        }
        return JSONNode(position: start, value: value)
    }

    private mutating func parseObject(depth: Int) throws(HeaderJSONError) -> JSONNode {
        let start = position
        if depth > Self.maxDepth { throw HeaderJSONError(position: start, message: "header JSON nests deeper than \(Self.maxDepth) levels at header byte \(start)") }
        position += 1  // '{'
        var members: [JSONMember] = []
        var seen = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return JSONNode(position: start, value: .object(members))
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw syntaxError("expected '\"' to start an object key, found \(describeCurrent())") }
            let keyPosition = position
            let key = try parseString()
            guard seen.insert(key).inserted else {
                throw HeaderJSONError(position: keyPosition, message: "header has duplicate key \(HeaderJSONWriter.quoted(key)) at header byte \(keyPosition)")
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw syntaxError("expected ':' after object key, found \(describeCurrent())") }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONMember(key: key, keyPosition: keyPosition, value: value))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return JSONNode(position: start, value: .object(members))
            default: throw syntaxError("expected ',' or '}', found \(describeCurrent())")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(HeaderJSONError) -> JSONNode {
        let start = position
        if depth > Self.maxDepth { throw HeaderJSONError(position: start, message: "header JSON nests deeper than \(Self.maxDepth) levels at header byte \(start)") }
        position += 1  // '['
        var elements: [JSONNode] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return JSONNode(position: start, value: .array(elements))
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return JSONNode(position: start, value: .array(elements))
            default: throw syntaxError("expected ',' or ']', found \(describeCurrent())")
            }
        }
    }

    private mutating func parseNumber() throws(HeaderJSONError) -> JSONNode {
        let start = position
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        guard Self.isDigit(current) else { throw syntaxError("expected a digit, found \(describeCurrent())") }
        if current == UInt8(ascii: "0") {
            position += 1
            if Self.isDigit(current) { throw syntaxError("leading zeros are not allowed in numbers", at: start) }
        } else {
            while Self.isDigit(current) { position += 1 }
        }
        let integerEnd = position
        var isInteger = true
        if current == UInt8(ascii: ".") {
            position += 1
            guard Self.isDigit(current) else { throw syntaxError("expected a digit after '.', found \(describeCurrent())") }
            while Self.isDigit(current) { position += 1 }
            isInteger = false
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard Self.isDigit(current) else { throw syntaxError("expected a digit in exponent, found \(describeCurrent())") }
            while Self.isDigit(current) { position += 1 }
            isInteger = false
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard isInteger else {
            guard let value = Double(text) else { throw syntaxError("number \(text) is not representable", at: start) }
            return JSONNode(position: start, value: .fraction(value))
        }
        // Accumulate towards the sign so that Int.min is representable.
        var value = 0
        for digitByte in bytes[(negative ? start + 1 : start)..<integerEnd] {
            let digit = Int(digitByte - UInt8(ascii: "0"))
            let (scaled, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? scaled.subtractingReportingOverflow(digit) : scaled.addingReportingOverflow(digit)
            if overflow1 || overflow2 {
                throw HeaderJSONError(position: start, message: "header has integer \(text) outside the supported range \(Int.min)...\(Int.max) at header byte \(start)")
            }
            value = next
        }
        return JSONNode(position: start, value: .integer(value))
    }

    /// Parses a string starting at the opening quote; leaves `position` after the closing quote.
    private mutating func parseString() throws(HeaderJSONError) -> String {
        let start = position
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let byte = current else { throw syntaxError("unterminated string starting", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeStart = position
                position += 1
                guard let escaped = current else { throw syntaxError("unterminated escape sequence", at: escapeStart) }
                position += 1
                switch escaped {
                case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape(escapeStart: escapeStart)
                    utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    position = escapeStart
                    throw syntaxError("invalid escape sequence '\\\(Character(Unicode.Scalar(escaped)))'")
                }
            default:
                if byte < 0x20 {
                    throw syntaxError("unescaped control character 0x\(String(byte, radix: 16, uppercase: true)) in string")
                }
                utf8.append(byte)
                position += 1
            }
        }
    }

    /// Parses the `XXXX` of `\uXXXX` (position is just after the `u`), combining a
    /// surrogate pair when a high surrogate is followed by `\uXXXX` with a low surrogate.
    private mutating func parseUnicodeEscape(escapeStart: Int) throws(HeaderJSONError) -> Unicode.Scalar {
        let first = try parseHex4(escapeStart: escapeStart)
        switch first {
        case 0xD800...0xDBFF:
            let lowStart = position
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw syntaxError("high surrogate \\u\(String(first, radix: 16, uppercase: true)) is not followed by a low surrogate escape", at: escapeStart)
            }
            position += 2
            let second = try parseHex4(escapeStart: lowStart)
            guard (0xDC00...0xDFFF).contains(second) else {
                throw syntaxError("high surrogate \\u\(String(first, radix: 16, uppercase: true)) is followed by \\u\(String(second, radix: 16, uppercase: true)), not a low surrogate", at: escapeStart)
            }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
        case 0xDC00...0xDFFF:
            throw syntaxError("lone low surrogate \\u\(String(first, radix: 16, uppercase: true))", at: escapeStart)
        default:
            return Unicode.Scalar(first)!
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(HeaderJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw syntaxError("expected 4 hex digits after \\u, found end of header", at: escapeStart) }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw syntaxError("expected 4 hex digits after \\u, found \(describeCurrent())")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
