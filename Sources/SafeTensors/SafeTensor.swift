/// One named tensor: its element type, shape and raw little-endian bytes.
public struct SafeTensor: Sendable, Equatable {
    /// The tensor's name (the header key); must be non-empty and unique within a file.
    public var name: String
    /// The element type.
    public var dtype: SafeTensorsDType
    /// The dimensions; an empty array is a scalar, a 0 anywhere makes an empty tensor.
    public var shape: [Int]
    /// The raw data, little-endian, row-major; its count must equal the shape's element
    /// count times `dtype.byteCount` for the tensor to be serialised.
    public var bytes: [UInt8]

    /// Creates a tensor from raw bytes. The byte count is checked when the file is serialised.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Creates an `F32` tensor, storing `floats` little-endian.
    public init(name: String, shape: [Int], floats: [Float]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * 4)
        for value in floats {
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        }
        self.init(name: name, dtype: .f32, shape: shape, bytes: bytes)
    }

    /// Creates an `I64` tensor, storing `int64s` little-endian.
    public init(name: String, shape: [Int], int64s: [Int64]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(int64s.count * 8)
        for value in int64s {
            let bits = UInt64(bitPattern: value)
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        }
        self.init(name: name, dtype: .i64, shape: shape, bytes: bytes)
    }

    /// The elements of an `F32` tensor; throws, naming the tensor, for any other dtype
    /// or when the byte count is not a multiple of 4.
    public func floats() throws -> [Float] {
        try littleEndianWords(expecting: .f32, accessor: "floats()", wordSize: 4).map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
    }

    /// The elements of an `I64` tensor; throws, naming the tensor, for any other dtype
    /// or when the byte count is not a multiple of 8.
    public func int64s() throws -> [Int64] {
        try littleEndianWords(expecting: .i64, accessor: "int64s()", wordSize: 8).map { Int64(bitPattern: $0) }
    }

    /// Decodes `bytes` as little-endian words of `wordSize` bytes after checking the dtype.
    private func littleEndianWords(expecting expected: SafeTensorsDType, accessor: String, wordSize: Int) throws -> [UInt64] {
        guard dtype == expected else {
            throw SafeTensorsError(path: "", message: "tensor \"\(name)\" has dtype \(dtype.rawValue), but \(accessor) requires \(expected.rawValue)")
        }
        guard bytes.count % wordSize == 0 else {
            throw SafeTensorsError(path: "", message: "tensor \"\(name)\" has \(bytes.count) bytes, not a multiple of the \(wordSize)-byte \(expected.rawValue) element size")
        }
        var words: [UInt64] = []
        words.reserveCapacity(bytes.count / wordSize)
        var index = 0
        while index < bytes.count {
            var word: UInt64 = 0
            for byte in 0..<wordSize { word |= UInt64(bytes[index + byte]) << (8 * byte) }
            words.append(word)
            index += wordSize
        }
        return words
    }
}
