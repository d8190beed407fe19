// CIFAR-10 in the official binary layout (cifar-10-batches-bin).

extension Dataset {
    /// The standard CIFAR-10 class names, used when `batches.meta.txt` is absent.
    static let cifar10ClassNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// Bytes per CIFAR-10 record: 1 label byte, then 1024 R, 1024 G and 1024 B bytes.
    static let cifar10RecordSize = 1 + 3 * 32 * 32

    /// Loads CIFAR-10 from `directory`, which holds the official binary files:
    /// `data_batch_1.bin` … `data_batch_5.bin` (training set, in that order) and
    /// `test_batch.bin` (test set), each a non-empty sequence of 3073-byte records
    /// (1 label byte 0..9, then the red, green and blue 32×32 planes, row-major).
    ///
    /// Class names come from `batches.meta.txt` (one per line) if it exists,
    /// otherwise `cifar10ClassNames`. Images are 3×32×32, pixels / 255,
    /// `flipAugmentation` is `true`.
    ///
    /// - Throws: `DatasetError` naming the directory or file, and the byte offset
    ///   for a bad size or label.
    static func loadCIFAR10(directory: String) throws -> DatasetPair {
        guard FileIO.exists(directory) else {
            throw DatasetError(file: directory, message: "CIFAR-10 directory not found (expected data_batch_1.bin … data_batch_5.bin and test_batch.bin in it)")
        }
        guard FileIO.isDirectory(directory) else {
            throw DatasetError(file: directory, message: "is not a directory (expected the CIFAR-10 directory cifar-10-batches-bin)")
        }
        let classNames = try cifar10ClassNames(directory: directory)
        let trainFiles = (1 ... 5).map { FileIO.join(directory, "data_batch_\($0).bin") }
        let testFile = FileIO.join(directory, "test_batch.bin")
        // Check that every file exists before reading 150 MB.
        for path in trainFiles + [testFile] where !FileIO.exists(path) {
            throw DatasetError(file: path, message: "file not found (a CIFAR-10 directory needs data_batch_1.bin … data_batch_5.bin and test_batch.bin)")
        }
        let train = try readCIFAR10Batches(trainFiles, classNames: classNames)
        let test = try readCIFAR10Batches([testFile], classNames: classNames)
        return DatasetPair(train: train, test: test)
    }

    private static func cifar10ClassNames(directory: String) throws -> [String] {
        let path = FileIO.join(directory, "batches.meta.txt")
        guard FileIO.exists(path) else { return cifar10ClassNames }
        let text = String(decoding: try FileIO.read(path), as: UTF8.self)
        let names = text.split(whereSeparator: { $0.isNewline })
            .map { $0.trimmingCharacters(in: " \t\r") }
            .filter { !$0.isEmpty }
        guard names.count == 10 else {
            throw DatasetError(file: path, message: "expected 10 class names, one per line, found \(names.count)")
        }
        return names
    }

    /// Parses one CIFAR-10 batch file held in memory (`source` names it in
    /// errors), with the standard class names.
    public static func parseCIFAR10Batch(_ bytes: [UInt8], source: String) throws -> Dataset {
        try checkCIFAR10Batch(bytes, source: source)
        return cifar10Dataset([bytes], classNames: cifar10ClassNames)
    }

    /// Reads and concatenates CIFAR-10 batch files into one dataset.
    private static func readCIFAR10Batches(_ paths: [String], classNames: [String]) throws -> Dataset {
        let files = try paths.map { path in
            let bytes = try FileIO.read(path)
            try checkCIFAR10Batch(bytes, source: path)
            return bytes
        }
        return cifar10Dataset(files, classNames: classNames)
    }

    /// Checks one batch file: a non-empty whole number of records, labels 0...9.
    private static func checkCIFAR10Batch(_ bytes: [UInt8], source: String) throws {
        let recordSize = cifar10RecordSize
        guard !bytes.isEmpty else {
            throw DatasetError(file: source, location: "offset 0",
                               message: "file is empty, expected records of 3073 bytes (1 label byte + 3072 pixel bytes)")
        }
        let extra = bytes.count % recordSize
        guard extra == 0 else {
            throw DatasetError(
                file: source, location: "offset \(bytes.count - extra)",
                message: "file size \(bytes.count) is not a multiple of the 3073-byte record size (\(extra) bytes of an incomplete record at the end)")
        }
        for offset in stride(from: 0, to: bytes.count, by: recordSize) where bytes[offset] > 9 {
            throw DatasetError(file: source, location: "offset \(offset)", message: "label \(bytes[offset]) is out of range 0..9")
        }
    }

    /// The records of checked batch files, in order, as one dataset.
    private static func cifar10Dataset(_ files: [[UInt8]], classNames: [String]) -> Dataset {
        let recordSize = cifar10RecordSize
        let imageSize = recordSize - 1
        let labels = files.flatMap { bytes in stride(from: 0, to: bytes.count, by: recordSize).map { Int32(bytes[$0]) } }
        let total = labels.count
        let images = [Float](unsafeUninitializedCapacity: total * imageSize) { destination, initialized in
            var row = 0
            for bytes in files {
                bytes.withUnsafeBufferPointer { source in
                    for record in 0 ..< bytes.count / recordSize {
                        convertBytes(source.baseAddress! + record * recordSize + 1,
                                     destination.baseAddress! + row * imageSize, count: imageSize)
                        row += 1
                    }
                }
            }
            initialized = total * imageSize
        }
        return Dataset(name: "cifar10", images: images, labels: labels, channels: 3, height: 32, width: 32,
                       classes: 10, classNames: classNames, flipAugmentation: true)
    }
}

extension Substring {
    /// The substring without leading and trailing characters from `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
