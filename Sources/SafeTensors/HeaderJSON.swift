/// A JSON value parsed from a safetensors header, with the byte position (within the header)
/// where it starts so that errors can point at it.
struct JSONNode {
    /// The JSON value kinds. Numbers without a fraction or exponent are `integer`.
    enum Value {
        case object([JSONMember])
        case array([JSONNode])
        case string(String)
        case integer(Int)
        case fraction(Double)
        case bool(Bool)
        case null
    }

    /// Byte index in the header where this value starts.
    let position: Int
    /// The value itself.
    let value: Value

    /// A short name for the value's kind, for error messages ("an array", "a string", ...).
    var kindName: String {
        switch value {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .integer: return "an integer"
        case .fraction: return "a non-integer number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

/// One `"key": value` pair of a JSON object, in source order.
struct JSONMember {
    /// The decoded key.
    let key: String
    /// Byte index in the header of the key's opening quote.
    let keyPosition: Int
    /// The value.
    let value: JSONNode
}

/// Writing the small subset of JSON a safetensors header needs.
enum HeaderJSONWriter {
    /// `text` as a JSON string literal, with quotes, backslashes and control characters escaped.
    /// Other characters, including non-ASCII, are written as UTF-8.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `values` as a JSON array of integers, e.g. `[16,3,3,3]`.
    static func integerArray(_ values: [Int]) -> String {
        "[" + values.map(String.init).joined(separator: ",") + "]"
    }
}
