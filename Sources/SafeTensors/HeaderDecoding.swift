/// Where one tensor lives in the data buffer, as declared and validated from the header.
struct TensorLayout {
    /// The tensor's name.
    let name: String
    /// Its element type.
    let dtype: SafeTensorsDType
    /// Its dimensions.
    let shape: [Int]
    /// Start of its bytes, relative to the data buffer.
    let begin: Int
    /// End (exclusive) of its bytes, relative to the data buffer.
    let end: Int
}

/// The validated content of a safetensors header.
struct DecodedHeader {
    /// Tensors sorted by position in the data buffer (file order).
    let tensors: [TensorLayout]
    /// The `__metadata__` entries, empty when absent.
    let metadata: [String: String]
}

/// Turns a parsed header into tensor layouts, checking every rule of the format against
/// the actual data buffer length. Nothing here allocates in proportion to a declared size.
struct HeaderDecoder {
    /// Name used in errors.
    let source: String
    /// File offset where the header JSON starts (always 8).
    let headerOffset: Int
    /// File offset where the data buffer starts.
    let dataOffset: Int
    /// Actual length of the data buffer in bytes.
    let dataLength: Int

    /// An error about the header, pointing at a byte within it.
    private func headerError(_ message: String, at position: Int) -> SafeTensorsError {
        SafeTensorsError(path: source, offset: headerOffset, message: "\(message) at header byte \(position)")
    }

    /// Validates `root` and returns the tensors in data order plus the metadata.
    func decode(_ root: JSONNode) throws -> DecodedHeader {
        guard case .object(let members) = root.value else {
            throw headerError("header is not a JSON object (found \(root.kindName))", at: root.position)
        }
        var metadata: [String: String] = [:]
        var tensors: [TensorLayout] = []
        tensors.reserveCapacity(members.count)
        for member in members {
            if member.key == "__metadata__" {
                metadata = try decodeMetadata(member.value)
            } else {
                tensors.append(try decodeTensor(member))
            }
        }
        // Stable sort by (begin, end): empty tensors come before a non-empty one at the same offset.
        let sorted = tensors.enumerated().sorted {
            ($0.element.begin, $0.element.end, $0.offset) < ($1.element.begin, $1.element.end, $1.offset)
        }.map(\.element)
        try checkContiguous(sorted)
        return DecodedHeader(tensors: sorted, metadata: metadata)
    }

    private func decodeMetadata(_ node: JSONNode) throws -> [String: String] {
        guard case .object(let entries) = node.value else {
            throw headerError("__metadata__ must be an object of strings, found \(node.kindName)", at: node.position)
        }
        var metadata: [String: String] = [:]
        for entry in entries {
            guard case .string(let text) = entry.value.value else {
                throw headerError("__metadata__ value for key \(HeaderJSONWriter.quoted(entry.key)) must be a string, found \(entry.value.kindName)", at: entry.value.position)
            }
            metadata[entry.key] = text
        }
        return metadata
    }

    private func decodeTensor(_ member: JSONMember) throws -> TensorLayout {
        let name = member.key
        let label = "tensor \(HeaderJSONWriter.quoted(name))"
        guard !name.isEmpty else { throw headerError("tensor name is empty", at: member.keyPosition) }
        guard case .object(let fields) = member.value.value else {
            throw headerError("\(label): entry must be an object, found \(member.value.kindName)", at: member.value.position)
        }
        var dtypeNode: JSONNode?
        var shapeNode: JSONNode?
        var offsetsNode: JSONNode?
        for field in fields {
            switch field.key {
            case "dtype": dtypeNode = field.value
            case "shape": shapeNode = field.value
            case "data_offsets": offsetsNode = field.value
            default: throw headerError("\(label): unexpected field \(HeaderJSONWriter.quoted(field.key)) (expected dtype, shape, data_offsets)", at: field.keyPosition)
            }
        }
        guard let dtypeNode else { throw headerError("\(label): missing \"dtype\"", at: member.value.position) }
        guard let shapeNode else { throw headerError("\(label): missing \"shape\"", at: member.value.position) }
        guard let offsetsNode else { throw headerError("\(label): missing \"data_offsets\"", at: member.value.position) }

        guard case .string(let dtypeName) = dtypeNode.value else {
            throw headerError("\(label): dtype must be a string, found \(dtypeNode.kindName)", at: dtypeNode.position)
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw headerError("\(label): unknown dtype \(HeaderJSONWriter.quoted(dtypeName)) (expected one of \(known))", at: dtypeNode.position)
        }
        let shape = try nonNegativeIntegers(shapeNode, field: "shape", label: label)
        let offsets = try nonNegativeIntegers(offsetsNode, field: "data_offsets", label: label)
        guard offsets.count == 2 else {
            throw headerError("\(label): data_offsets must have exactly 2 integers, found \(offsets.count)", at: offsetsNode.position)
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw headerError("\(label): data_offsets begin \(begin) is greater than end \(end)", at: offsetsNode.position)
        }
        guard let needed = dtype.byteCount(forShape: shape) else {
            throw headerError("\(label): byte count of shape \(HeaderJSONWriter.integerArray(shape)) with dtype \(dtype.rawValue) overflows", at: shapeNode.position)
        }
        guard needed == end - begin else {
            throw headerError("\(label): shape \(HeaderJSONWriter.integerArray(shape)) with dtype \(dtype.rawValue) needs \(needed) bytes but data_offsets [\(begin), \(end)] span \(end - begin)", at: offsetsNode.position)
        }
        guard end <= dataLength else {
            throw headerError("\(label): data_offsets [\(begin), \(end)] extend beyond the \(dataLength)-byte data buffer", at: offsetsNode.position)
        }
        return TensorLayout(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    private func nonNegativeIntegers(_ node: JSONNode, field: String, label: String) throws -> [Int] {
        guard case .array(let elements) = node.value else {
            throw headerError("\(label): \(field) must be an array of non-negative integers, found \(node.kindName)", at: node.position)
        }
        var values: [Int] = []
        values.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .integer(let value) = element.value, value >= 0 else {
                let found: String
                if case .integer(let value) = element.value { found = String(value) } else { found = element.kindName }
                throw headerError("\(label): \(field) must be an array of non-negative integers, found \(found) at index \(index)", at: element.position)
            }
            values.append(value)
        }
        return values
    }

    /// Checks that `sorted` tensors tile the data buffer exactly: from 0, no gaps, no overlaps,
    /// no trailing bytes.
    private func checkContiguous(_ sorted: [TensorLayout]) throws {
        var expected = 0
        var previous: TensorLayout?
        for tensor in sorted {
            let label = "tensor \(HeaderJSONWriter.quoted(tensor.name))"
            if tensor.begin > expected {
                let after = previous.map { "after tensor \(HeaderJSONWriter.quoted($0.name)) " } ?? "at the start of the data buffer "
                throw SafeTensorsError(path: source, offset: dataOffset + expected,
                    message: "\(label): gap of \(tensor.begin - expected) bytes \(after)(data_offsets begin at \(tensor.begin), expected \(expected))")
            }
            if tensor.begin < expected, let previous {
                throw SafeTensorsError(path: source, offset: dataOffset + tensor.begin,
                    message: "\(label): data_offsets [\(tensor.begin), \(tensor.end)] overlap tensor \(HeaderJSONWriter.quoted(previous.name)) [\(previous.begin), \(previous.end)]")
            }
            expected = tensor.end
            previous = tensor
        }
        if expected != dataLength {
            let last = previous.map { "after the last tensor \(HeaderJSONWriter.quoted($0.name))" } ?? "in a file with no tensors"
            throw SafeTensorsError(path: source, offset: dataOffset + expected,
                message: "data buffer has \(dataLength - expected) trailing bytes \(last) (tensors end at \(expected), buffer is \(dataLength) bytes)")
        }
    }
}
