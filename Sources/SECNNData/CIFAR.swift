// CIFAR-10 and CIFAR-100 in the official binary layouts (cifar-10-batches-bin,
// cifar-100-binary): records of label bytes, then the red, green and blue
// 32×32 planes, row-major.

/// What sets one CIFAR binary layout apart from the other.
struct CIFARLayout {
    /// The dataset's name, and how messages call it.
    let name: String, title: String
    /// Label bytes before each image, and which of them is the class.
    let labelBytes: Int, labelIndex: Int
    let classes: Int
    let trainFiles: [String], testFile: String
    /// The class names' file (one per line; optional), and the names without it.
    let namesFile: String, defaultNames: [String]

    var recordSize: Int { labelBytes + 3 * 32 * 32 }
    private var files: String { "\(trainFiles.joined(separator: ", ")) and \(testFile)" }

    static let cifar10 = CIFARLayout(
        name: "cifar10", title: "CIFAR-10", labelBytes: 1, labelIndex: 0, classes: 10,
        trainFiles: (1 ... 5).map { "data_batch_\($0).bin" }, testFile: "test_batch.bin",
        namesFile: "batches.meta.txt",
        defaultNames: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])

    /// CIFAR-100 with its 100 fine labels (each record: coarse label, fine label, image).
    static let cifar100 = CIFARLayout(
        name: "cifar100", title: "CIFAR-100", labelBytes: 2, labelIndex: 1, classes: 100,
        trainFiles: ["train.bin"], testFile: "test.bin", namesFile: "fine_label_names.txt",
        defaultNames: (0 ..< 100).map { "class \($0)" })

    /// CIFAR-100 with its 20 coarse labels (superclasses).
    static let cifar100Coarse = CIFARLayout(
        name: "cifar100-coarse", title: "CIFAR-100", labelBytes: 2, labelIndex: 0, classes: 20,
        trainFiles: ["train.bin"], testFile: "test.bin", namesFile: "coarse_label_names.txt",
        defaultNames: (0 ..< 20).map { "superclass \($0)" })

    /// Loads the training files (in order) and the test file from `directory`.
    ///
    /// - Throws: `DatasetError` naming the directory or file, and the byte
    ///   offset for a bad size or label.
    func load(directory: String) throws -> DatasetPair {
        guard FileIO.exists(directory) else {
            throw DatasetError(file: directory, message: "\(title) directory not found (expected \(files) in it)")
        }
        guard FileIO.isDirectory(directory) else {
            throw DatasetError(file: directory, message: "is not a directory (expected the \(title) binary directory)")
        }
        let classNames = try names(directory: directory)
        let trainPaths = trainFiles.map { FileIO.join(directory, $0) }
        let testPath = FileIO.join(directory, testFile)
        // Check that every file exists before reading 150 MB.
        for path in trainPaths + [testPath] where !FileIO.exists(path) {
            throw DatasetError(file: path, message: "file not found (a \(title) directory needs \(files))")
        }
        return DatasetPair(train: try read(trainPaths, classNames: classNames),
                           test: try read([testPath], classNames: classNames))
    }

    private func names(directory: String) throws -> [String] {
        let path = FileIO.join(directory, namesFile)
        guard FileIO.exists(path) else { return defaultNames }
        let text = String(decoding: try FileIO.read(path), as: UTF8.self)
        let names = text.split(whereSeparator: { $0.isNewline })
            .map { $0.trimmingCharacters(in: " \t\r") }
            .filter { !$0.isEmpty }
        guard names.count == classes else {
            throw DatasetError(file: path, message: "expected \(classes) class names, one per line, found \(names.count)")
        }
        return names
    }

    /// Reads and concatenates batch files into one dataset.
    private func read(_ paths: [String], classNames: [String]) throws -> Dataset {
        let files = try paths.map { path in
            let bytes = try FileIO.read(path)
            try check(bytes, source: path)
            return bytes
        }
        return dataset(files, classNames: classNames)
    }

    /// Checks one batch file: a non-empty whole number of records, labels in range.
    func check(_ bytes: [UInt8], source: String) throws {
        guard !bytes.isEmpty else {
            throw DatasetError(
                file: source, location: "offset 0",
                message: "file is empty, expected records of \(recordSize) bytes (\(labelBytes) label "
                    + "byte\(labelBytes == 1 ? "" : "s") + \(recordSize - labelBytes) pixel bytes)")
        }
        let extra = bytes.count % recordSize
        guard extra == 0 else {
            throw DatasetError(
                file: source, location: "offset \(bytes.count - extra)",
                message: "file size \(bytes.count) is not a multiple of the \(recordSize)-byte record size (\(extra) "
                    + "bytes of an incomplete record at the end)")
        }
        for offset in stride(from: labelIndex, to: bytes.count, by: recordSize) where Int(bytes[offset]) >= classes {
            throw DatasetError(file: source, location: "offset \(offset)",
                               message: "label \(bytes[offset]) is out of range 0..\(classes - 1)")
        }
    }

    /// The records of checked batch files, in order, as one dataset.
    func dataset(_ files: [[UInt8]], classNames: [String]) -> Dataset {
        let (recordSize, labelBytes, labelIndex) = (self.recordSize, self.labelBytes, self.labelIndex)
        let imageSize = recordSize - labelBytes
        let labels = files.flatMap { bytes in
            stride(from: labelIndex, to: bytes.count, by: recordSize).map { Int32(bytes[$0]) }
        }
        let total = labels.count
        let images = [Float](unsafeUninitializedCapacity: total * imageSize) { destination, initialized in
            var row = 0
            for bytes in files {
                bytes.withUnsafeBufferPointer { source in
                    for record in 0 ..< bytes.count / recordSize {
                        convertBytes(source.baseAddress! + record * recordSize + labelBytes,
                                     destination.baseAddress! + row * imageSize, count: imageSize)
                        row += 1
                    }
                }
            }
            initialized = total * imageSize
        }
        return Dataset(name: name, images: images, labels: labels, channels: 3, height: 32, width: 32,
                       classes: classes, classNames: classNames, flipAugmentation: true)
    }
}

extension Dataset {
    /// Loads CIFAR-10 from `directory`, which holds the official binary files:
    /// `data_batch_1.bin` … `data_batch_5.bin` (training set, in that order) and
    /// `test_batch.bin` (test set), each a non-empty sequence of 3073-byte records
    /// (1 label byte 0..9, then the red, green and blue 32×32 planes, row-major).
    ///
    /// Class names come from `batches.meta.txt` (one per line) if it exists,
    /// otherwise the standard ones. Images are 3×32×32, pixels / 255,
    /// `flipAugmentation` is `true`.
    static func loadCIFAR10(directory: String) throws -> DatasetPair {
        try CIFARLayout.cifar10.load(directory: directory)
    }

    /// Loads CIFAR-100 from `directory` (`train.bin`, `test.bin`: 3074-byte
    /// records, the coarse label, the fine label, the image), with its 100 fine
    /// labels or, with `coarse`, its 20 superclasses; class names from
    /// `fine_label_names.txt` or `coarse_label_names.txt` if present.
    static func loadCIFAR100(directory: String, coarse: Bool) throws -> DatasetPair {
        try (coarse ? CIFARLayout.cifar100Coarse : .cifar100).load(directory: directory)
    }

    /// Parses one CIFAR-10 batch file held in memory (`source` names it in
    /// errors), with the standard class names.
    public static func parseCIFAR10Batch(_ bytes: [UInt8], source: String) throws -> Dataset {
        let layout = CIFARLayout.cifar10
        try layout.check(bytes, source: source)
        return layout.dataset([bytes], classNames: layout.defaultNames)
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
