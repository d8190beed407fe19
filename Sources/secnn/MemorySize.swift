import ArgumentParser
import Foundation

/// A number of bytes as `--max-memory` takes it: `512M`, `8G`, `1.5G`
/// (binary units: K, M, G, T), or plain bytes.
struct MemorySize: ExpressibleByArgument, Equatable {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var text = argument.uppercased()
        if text.hasSuffix("B") { text.removeLast() }
        let unit = text.last.flatMap { units[$0] } ?? 1
        if unit != 1 { text.removeLast() }
        guard let value = Double(text), value > 0, (value * unit).isFinite, value * unit < 0x1p62 else { return nil }
        bytes = Int(value * unit)
    }

    /// Half the machine's memory: room for the data, the rest of the system and the estimate's error.
    static var halfOfPhysicalMemory: MemorySize { MemorySize(bytes: Int(ProcessInfo.processInfo.physicalMemory / 2)) }
}
