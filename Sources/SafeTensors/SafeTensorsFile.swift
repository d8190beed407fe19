/// The contents of a safetensors file: named tensors in file order plus string metadata.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON header, then the
/// data buffer. Reading validates everything about the layout before reading tensor data, so
/// untrusted files can be opened safely; every failure is a `SafeTensorsError`.
public struct SafeTensorsFile: Sendable, Equatable {
    /// The tensors, in file order (the order of their data; the order given when writing).
    public var tensors: [SafeTensor]
    /// The `__metadata__` entries.
    public var metadata: [String: String]

    /// Creates a file value from tensors and metadata; nothing is validated until serialisation.
    public init(tensors: [SafeTensor] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The first tensor named `name`, if any.
    public subscript(name: String) -> SafeTensor? {
        tensors.first { $0.name == name }
    }

    /// Reads and validates the file at `path`; errors name `path`.
    public init(contentsOf path: String) throws {
        let source = try FileByteSource(path: path)
        let contents = try SafeTensorsReader.read(from: source, name: path)
        self.init(tensors: contents.tensors, metadata: contents.metadata)
    }

    /// Parses and validates a complete file held in memory; `source` names it in error messages.
    public init(bytes: [UInt8], source: String) throws {
        let contents = try SafeTensorsReader.read(from: MemoryByteSource(bytes: bytes), name: source)
        self.init(tensors: contents.tensors, metadata: contents.metadata)
    }

    /// The file's bytes: header padded with spaces to a multiple of 8 bytes, tensors stored
    /// contiguously from offset 0 in the order of `tensors`, metadata keys sorted.
    /// Throws on empty or duplicate names, the reserved name `__metadata__`, or a tensor whose
    /// byte count does not match its shape and dtype.
    public func serialized() throws -> [UInt8] {
        try SafeTensorsWriter.serialize(tensors: tensors, metadata: metadata, name: "<serialized>")
    }

    /// Serialises and atomically replaces the file at `path` (temporary file in the same
    /// directory, fsync, rename, directory fsync). On failure any previous file is left intact,
    /// no temporary file remains, and the error message starts with `not written: `.
    public func write(toPath path: String) throws {
        let bytes = try SafeTensorsWriter.serialize(tensors: tensors, metadata: metadata, name: path)
        try AtomicWrite.write(bytes, toPath: path)
    }
}
