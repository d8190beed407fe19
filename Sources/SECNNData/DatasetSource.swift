// Which dataset to load, as chosen on the command line with `--data`.

/// Where a dataset comes from: the embedded digits, or a directory of CIFAR-10,
/// CIFAR-100 or Fashion-MNIST files.
public enum DatasetSource: Sendable, Equatable, CustomStringConvertible {
    /// The 8×8 digits embedded in the module (1797 samples; see `DatasetSource.load()`).
    case digits
    /// CIFAR-10 binary batches (`data_batch_1..5.bin`, `test_batch.bin`) in `directory`.
    case cifar10(directory: String)
    /// CIFAR-100 binary files (`train.bin`, `test.bin`) in `directory`: the 100
    /// fine labels, or with `coarse` the 20 superclasses.
    case cifar100(directory: String, coarse: Bool)
    /// Fashion-MNIST gzip IDX files (`train-*`, `t10k-*`) in `directory`.
    case fashionMNIST(directory: String)
    /// PNG and JPEG files, one sub-folder per class (`ImageFolder`).
    case folder(ImageFolder)

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultFashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// Parses a `--data` value: "digits", "cifar10:DIR", "cifar100:DIR", "cifar100-coarse:DIR", "fashion-mnist" (default DIR /usr/share/datasets/fashion-mnist), "fashion-mnist:DIR". Unknown names throw a DatasetError listing the accepted forms.
    public init(argument: String) throws {
        let accepted = "accepted forms: digits, cifar10:DIR, cifar100:DIR, cifar100-coarse:DIR, fashion-mnist, "
            + "fashion-mnist:DIR, folder:DIR"
        let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        let directory = parts.count > 1 ? String(parts[1]) : nil
        switch (name, directory) {
        case ("digits", nil):
            self = .digits
        case ("digits", _?):
            throw DatasetError(file: "--data", message: "\"digits\" is embedded and takes no directory; \(accepted)")
        case ("cifar10", let directory?) where !directory.isEmpty:
            self = .cifar10(directory: directory)
        case ("cifar10", _):
            throw DatasetError(file: "--data", message: "\"cifar10\" needs a directory, as cifar10:DIR; \(accepted)")
        case ("cifar100", let directory?) where !directory.isEmpty:
            self = .cifar100(directory: directory, coarse: false)
        case ("cifar100-coarse", let directory?) where !directory.isEmpty:
            self = .cifar100(directory: directory, coarse: true)
        case ("cifar100", _), ("cifar100-coarse", _):
            throw DatasetError(file: "--data", message: "\"\(name)\" needs a directory, as \(name):DIR; \(accepted)")
        case ("fashion-mnist", nil):
            self = .fashionMNIST(directory: Self.defaultFashionMNISTDirectory)
        case ("fashion-mnist", let directory?) where !directory.isEmpty:
            self = .fashionMNIST(directory: directory)
        case ("folder", let path?) where !path.isEmpty:
            // folder:DIR, or as a run records it, folder:DIR:HxW with the size the images were resized to.
            if let colon = path.lastIndex(of: ":"), let size = ImageSize(String(path[path.index(after: colon)...])) {
                self = .folder(ImageFolder(directory: String(path[..<colon]), imageSize: size))
            } else {
                self = .folder(ImageFolder(directory: path))
            }
        case ("folder", _):
            throw DatasetError(file: "--data", message: "\"folder\" needs a directory, as folder:DIR; \(accepted)")
        case ("fashion-mnist", _):
            throw DatasetError(file: "--data", message: "\"fashion-mnist:\" has an empty directory; \(accepted)")
        default:
            throw DatasetError(file: "--data", message: "unknown dataset \"\(argument)\"; \(accepted)")
        }
    }

    /// The `--data` form of this source; `DatasetSource(argument: description)` gives it back.
    public var description: String {
        switch self {
        case .digits: return "digits"
        case .cifar10(let directory): return "cifar10:\(directory)"
        case .cifar100(let directory, let coarse): return "cifar100\(coarse ? "-coarse" : ""):\(directory)"
        case .fashionMNIST(let directory): return "fashion-mnist:\(directory)"
        case .folder(let folder): return "folder:\(folder.directory)" + (folder.imageSize.map { ":\($0)" } ?? "")
        }
    }

    /// Loads the training and test sets.
    ///
    /// - digits: the embedded 1797 samples (1×8×8, pixels / 16, no flips), split
    ///   80/20 by a fixed, stratified rule: within each class, in file order, every
    ///   5th sample (position `j` with `j % 5 == 4`) goes to test, the rest to train
    ///   (1442 train, 355 test).
    /// - cifar10: `data_batch_1..5.bin` → train (50,000), `test_batch.bin` → test
    ///   (10,000); 3×32×32, pixels / 255, flips allowed.
    /// - cifar100: `train.bin` → train (50,000), `test.bin` → test (10,000);
    ///   3×32×32, pixels / 255, flips allowed; 100 fine classes or 20 coarse.
    /// - fashionMNIST: `train-*` → train (60,000), `t10k-*` → test (10,000);
    ///   1×28×28, pixels / 255, flips allowed.
    ///
    /// - Throws: `DatasetError`, one line naming the file and the byte offset or
    ///   line and column of the first problem found.
    public func load() throws -> DatasetPair {
        switch self {
        case .digits: return try Dataset.loadDigits()
        case .cifar10(let directory): return try Dataset.loadCIFAR10(directory: directory)
        case .cifar100(let directory, let coarse): return try Dataset.loadCIFAR100(directory: directory, coarse: coarse)
        case .fashionMNIST(let directory): return try Dataset.loadFashionMNIST(directory: directory)
        case .folder(let folder): return try folder.load()
        }
    }
}
