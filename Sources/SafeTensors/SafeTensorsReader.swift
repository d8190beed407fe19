/// Reads and validates a safetensors file from a `ByteSource`.
enum SafeTensorsReader {
    /// The largest header accepted, in bytes (100 MiB).
    static let maxHeaderLength = 100 * 1024 * 1024

    /// Validates the length field, header and layout, then reads each tensor's bytes.
    static func read(from source: ByteSource, name: String) throws -> (tensors: [SafeTensor], metadata: [String: String]) {
        let size = source.size
        guard size >= 8 else {
            throw SafeTensorsError(path: name, offset: 0, message: "file is \(size) bytes, shorter than the 8-byte header length field")
        }
        let lengthBytes = try source.read(offset: 0, count: 8)
        var declared: UInt64 = 0
        for (index, byte) in lengthBytes.enumerated() { declared |= UInt64(byte) << (8 * UInt64(index)) }
        guard declared > 0 else {
            throw SafeTensorsError(path: name, offset: 0, message: "header length is 0, expected at least 2 bytes for '{}'")
        }
        guard declared <= UInt64(maxHeaderLength) else {
            throw SafeTensorsError(path: name, offset: 0, message: "header length \(declared) exceeds the \(maxHeaderLength)-byte limit")
        }
        guard declared <= UInt64(size - 8) else {
            throw SafeTensorsError(path: name, offset: 0, message: "header length \(declared) is larger than the \(size - 8) bytes after the length field")
        }
        let headerLength = Int(declared)
        let header = try source.read(offset: 8, count: headerLength)
        if let bad = UTF8Validation.firstInvalidIndex(in: header) {
            throw SafeTensorsError(path: name, offset: 8, message: "header is not valid UTF-8 at header byte \(bad)")
        }
        let root: JSONNode
        do {
            root = try HeaderJSONParser.parse(header)
        } catch {
            throw SafeTensorsError(path: name, offset: 8, message: error.message)
        }
        let dataOffset = 8 + headerLength
        let decoder = HeaderDecoder(source: name, headerOffset: 8, dataOffset: dataOffset, dataLength: size - dataOffset)
        let decoded = try decoder.decode(root)
        var tensors: [SafeTensor] = []
        tensors.reserveCapacity(decoded.tensors.count)
        for layout in decoded.tensors {
            let bytes = try source.read(offset: dataOffset + layout.begin, count: layout.end - layout.begin)
            tensors.append(SafeTensor(name: layout.name, dtype: layout.dtype, shape: layout.shape, bytes: bytes))
        }
        return (tensors, decoded.metadata)
    }
}
