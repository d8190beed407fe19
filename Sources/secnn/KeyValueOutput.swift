import Foundation

/// The `key=value` summary every command ends with, one pair a line, so
/// scripts read results without parsing prose (bench adds a JSON line).
struct KeyValueOutput {
    private(set) var pairs: [(String, String)] = []

    mutating func add(_ key: String, _ value: String) { pairs.append((key, value)) }
    mutating func add(_ key: String, _ value: Int) { add(key, String(value)) }
    mutating func add(_ key: String, _ value: Double) { add(key, format(value)) }

    func print() {
        for (key, value) in pairs { Swift.print("\(key)=\(value)") }
    }

    /// The pairs as one JSON object; numbers stay numbers.
    func json() -> String {
        let body = pairs.map { key, value in
            let isNumber = Double(value) != nil && !value.isEmpty
            return "\"\(key)\": " + (isNumber ? value : "\"\(value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"")
        }
        return "{" + body.joined(separator: ", ") + "}"
    }

    private func format(_ value: Double) -> String { String(format: "%.6g", value) }
}

/// Peak resident memory of this process, in MiB.
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// 75 s → "1m15s", 12.3 → "12.3s".
func formatDuration(_ seconds: Double) -> String {
    guard seconds >= 60 else { return String(format: "%.1fs", seconds) }
    let whole = Int(seconds.rounded())
    return whole >= 3600 ? "\(whole / 3600)h\(whole % 3600 / 60)m" : "\(whole / 60)m\(whole % 60)s"
}
