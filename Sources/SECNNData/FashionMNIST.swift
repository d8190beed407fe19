// Fashion-MNIST as gzip-compressed IDX files (Debian's dataset-fashion-mnist).

extension Dataset {
    /// Fashion-MNIST class names, indexed by label.
    static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads Fashion-MNIST from `directory`: `train-images-idx3-ubyte.gz`,
    /// `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz` and
    /// `t10k-labels-idx1-ubyte.gz` (gzip-compressed IDX). Images are 1×rows×cols
    /// (28×28), pixels / 255, `flipAugmentation` is `true`.
    static func loadFashionMNIST(directory: String) throws -> DatasetPair {
        guard FileIO.exists(directory) else {
            throw DatasetError(file: directory, message: "Fashion-MNIST directory not found (install it with `apt-get install -y dataset-fashion-mnist`, or pass fashion-mnist:DIR)")
        }
        guard FileIO.isDirectory(directory) else {
            throw DatasetError(file: directory, message: "is not a directory (expected the Fashion-MNIST directory)")
        }
        let train = try loadFashionMNISTSplit(directory: directory, prefix: "train", expectedShape: nil)
        let test = try loadFashionMNISTSplit(directory: directory, prefix: "t10k",
                                             expectedShape: (train.height, train.width))
        return DatasetPair(train: train, test: test)
    }

    private static func loadFashionMNISTSplit(directory: String, prefix: String,
                                              expectedShape: (rows: Int, cols: Int)?) throws -> Dataset {
        let imagesPath = FileIO.join(directory, "\(prefix)-images-idx3-ubyte.gz")
        let labelsPath = FileIO.join(directory, "\(prefix)-labels-idx1-ubyte.gz")
        let images = try IDX.read(path: imagesPath, kind: .images)
        let labels = try IDX.read(path: labelsPath, kind: .labels)
        let (count, rows, cols) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        if let expectedShape, (rows, cols) != (expectedShape.rows, expectedShape.cols) {
            throw DatasetError(file: imagesPath, location: "offset 8",
                               message: "images are \(rows)×\(cols), but the training images are \(expectedShape.rows)×\(expectedShape.cols)")
        }
        guard labels.dimensions[0] == count else {
            throw DatasetError(file: labelsPath, location: "offset 4",
                               message: "label count \(labels.dimensions[0]) does not match the image count \(count) in \(imagesPath)")
        }
        var labelValues = [Int32](repeating: 0, count: count)
        for i in 0 ..< count {
            let label = labels.bytes[IDX.Kind.labels.headerSize + i]
            guard label <= 9 else {
                throw DatasetError(file: labelsPath, location: "offset \(IDX.Kind.labels.headerSize + i)",
                                   message: "label \(label) is out of range 0..9")
            }
            labelValues[i] = Int32(label)
        }
        let pixels = count * rows * cols
        let values = [Float](unsafeUninitializedCapacity: pixels) { destination, initialized in
            images.bytes.withUnsafeBufferPointer { source in
                convertBytes(source.baseAddress! + IDX.Kind.images.headerSize, destination.baseAddress!, count: pixels)
            }
            initialized = pixels
        }
        return Dataset(name: "fashion-mnist", images: values, labels: labelValues, channels: 1, height: rows, width: cols,
                       classes: 10, classNames: fashionMNISTClassNames, flipAugmentation: true)
    }
}

/// Reader for gzip-compressed IDX files of unsigned bytes (the MNIST format).
public enum IDX {
    public enum Kind: Sendable {
        case images, labels

        var magic: UInt32 { self == .images ? 0x0000_0803 : 0x0000_0801 }
        public var dimensionCount: Int { self == .images ? 3 : 1 }
        public var headerSize: Int { 4 + 4 * dimensionCount }
        var what: String { self == .images ? "IDX unsigned-byte images" : "IDX unsigned-byte labels" }
    }

    /// Reads, decompresses and validates the IDX file at `path`; errors name it.
    static func read(path: String, kind: Kind) throws -> (dimensions: [Int], bytes: [UInt8]) {
        try parse(compressed: FileIO.read(path), kind: kind, source: path)
    }

    /// Decompresses and validates one gzip-compressed IDX file held in
    /// memory: magic number, dimensions and exact data length, inflating no
    /// more than the header declares. `bytes` includes the header; errors
    /// name `source`.
    public static func parse(compressed: [UInt8], kind: Kind, source path: String) throws
        -> (dimensions: [Int], bytes: [UInt8]) {
        let header = try Gunzip.decompressPrefix(compressed, count: kind.headerSize, source: path)
        guard header.count >= 4 else {
            throw DatasetError(file: path, location: "offset \(header.count)",
                               message: "data ends after \(header.count) bytes, inside the \(kind.headerSize)-byte IDX header")
        }
        let magic = bigEndian(header, 0)
        guard magic == kind.magic else {
            throw DatasetError(file: path, location: "offset 0",
                               message: "magic number \(hex32(magic)), expected \(hex32(kind.magic)) (\(kind.what))")
        }
        guard header.count == kind.headerSize else {
            throw DatasetError(file: path, location: "offset \(header.count)",
                               message: "data ends after \(header.count) bytes, inside the \(kind.headerSize)-byte IDX header")
        }
        var dimensions: [Int] = []
        var payload = 1
        for d in 0 ..< kind.dimensionCount {
            let size = Int(bigEndian(header, 4 + 4 * d))
            guard size > 0 else {
                throw DatasetError(file: path, location: "offset \(4 + 4 * d)", message: "dimension \(d) is 0")
            }
            let (product, overflow) = payload.multipliedReportingOverflow(by: size)
            // 2^40 bytes is far beyond any real IDX file; it also keeps the sums below from overflowing.
            guard !overflow, product <= 1 << 40 else {
                throw DatasetError(file: path, location: "offset \(4 + 4 * d)",
                                   message: "dimensions \(dimensions.map(String.init).joined(separator: "×"))×\(size) are implausibly large")
            }
            payload = product
            dimensions.append(size)
        }
        let total = kind.headerSize + payload
        let shape = dimensions.map(String.init).joined(separator: "×")
        let bytes = try Gunzip.decompress(
            compressed, maxOutput: total, source: path,
            limitDescription: "the \(total) bytes its IDX header declares (\(kind.headerSize)-byte header + \(shape) bytes)")
        guard bytes.count == total else {
            throw DatasetError(file: path, location: "offset \(bytes.count)",
                               message: "data ends after \(bytes.count) bytes, but the IDX header declares \(total) (\(kind.headerSize)-byte header + \(shape) bytes)")
        }
        return (dimensions, bytes)
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16) | (UInt32(bytes[offset + 2]) << 8) | UInt32(bytes[offset + 3])
    }

    private static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
