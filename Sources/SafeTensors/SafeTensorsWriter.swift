/// Serialises tensors and metadata into the safetensors byte layout.
enum SafeTensorsWriter {
    /// The complete file: length field, space-padded header (multiple of 8 bytes), then the
    /// tensors' bytes contiguously in the given order. `name` is used in errors.
    static func serialize(tensors: [SafeTensor], metadata: [String: String], name: String) throws -> [UInt8] {
        var seen = Set<String>()
        var header = "{"
        var members: [String] = []
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { "\(HeaderJSONWriter.quoted($0)):\(HeaderJSONWriter.quoted(metadata[$0]!))" }
            members.append("\"__metadata__\":{" + entries.joined(separator: ",") + "}")
        }
        var offset = 0
        for tensor in tensors {
            let label = "tensor \(HeaderJSONWriter.quoted(tensor.name))"
            guard !tensor.name.isEmpty else { throw SafeTensorsError(path: name, message: "cannot serialise a tensor with an empty name") }
            guard tensor.name != "__metadata__" else { throw SafeTensorsError(path: name, message: "cannot serialise \(label): the name is reserved for metadata") }
            guard seen.insert(tensor.name).inserted else { throw SafeTensorsError(path: name, message: "cannot serialise: duplicate \(label)") }
            guard let needed = tensor.dtype.byteCount(forShape: tensor.shape) else {
                throw SafeTensorsError(path: name, message: "cannot serialise \(label): shape \(HeaderJSONWriter.integerArray(tensor.shape)) has a negative dimension or its byte count overflows")
            }
            guard needed == tensor.bytes.count else {
                throw SafeTensorsError(path: name, message: "cannot serialise \(label): shape \(HeaderJSONWriter.integerArray(tensor.shape)) with dtype \(tensor.dtype.rawValue) needs \(needed) bytes but it has \(tensor.bytes.count)")
            }
            let end = offset + needed
            members.append("\(HeaderJSONWriter.quoted(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":\(HeaderJSONWriter.integerArray(tensor.shape)),\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += members.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        let padding = (8 - headerBytes.count % 8) % 8
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))

        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let length = UInt64(headerBytes.count)
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        out.append(contentsOf: headerBytes)
        for tensor in tensors { out.append(contentsOf: tensor.bytes) }
        return out
    }
}
