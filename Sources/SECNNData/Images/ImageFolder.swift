import Dispatch
import Foundation

/// A dataset of image files, one sub-folder per class (torchvision's
/// `ImageFolder`, Keras' `image_dataset_from_directory`): class names are
/// the sub-folders' names in sorted order, their index the label. With
/// `DIR/train` and `DIR/test` sub-folders those are the two sets (the same
/// classes in both); otherwise every class's files, sorted by name, are
/// split 80/20 by a fixed seeded shuffle.
///
/// PNG and JPEG files are decoded once, in parallel, and resized
/// bilinearly to one size: `imageSize`, or the most common size among the
/// files. All greyscale gives one channel, any colour three. A file that
/// cannot be used (truncated, empty, not an image, smaller than 4×4, larger
/// than 50 megapixels) is reported by path and skipped, or with `strict`
/// fails the load; dot-files are ignored.
public struct ImageFolder: Sendable, Equatable {
    public var directory: String
    /// Height and width every image is resized to (nil: the most common size).
    public var imageSize: ImageSize?
    public var strict = false

    public init(directory: String, imageSize: ImageSize? = nil, strict: Bool = false) {
        self.directory = directory
        self.imageSize = imageSize
        self.strict = strict
    }

    /// Where each skipped file's report goes (stderr by default).
    public nonisolated(unsafe) static var report: (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One image file and its class.
    struct Entry {
        var path: String
        var label: Int
    }

    public func load() throws -> DatasetPair {
        guard FileIO.isDirectory(directory) else {
            throw DatasetError(file: directory, message: FileIO.exists(directory)
                               ? "is not a directory (expected one sub-folder of images per class)"
                               : "image folder not found (expected one sub-folder of images per class)")
        }
        let split = ["train", "test"].allSatisfy { FileIO.isDirectory(FileIO.join(directory, $0)) }
        let (train, test): ([Entry], [Entry]), classNames: [String]
        if split {
            classNames = try Self.classFolders(FileIO.join(directory, "train"))
            let testClasses = try Self.classFolders(FileIO.join(directory, "test"))
            guard testClasses == classNames else {
                throw DatasetError(file: FileIO.join(directory, "test"),
                                   message: "holds the classes \(testClasses.joined(separator: ", ")), but train/ holds "
                                       + classNames.joined(separator: ", "))
            }
            train = try Self.entries(FileIO.join(directory, "train"), classNames)
            test = try Self.entries(FileIO.join(directory, "test"), classNames)
        } else {
            classNames = try Self.classFolders(directory)
            (train, test) = Self.split(try Self.entries(directory, classNames))
        }
        var decoded = try decode(train + test)
        let size = imageSize ?? Self.mostCommonSize(decoded.compactMap { $0 })
        let channels = decoded.contains { $0?.channels == 3 } ? 3 : 1
        func dataset(_ range: Range<Int>, _ entries: [Entry]) throws -> Dataset {
            var images: [Float] = [], labels: [Int32] = []
            for (entry, image) in zip(entries, decoded[range]) {
                guard let image else { continue }
                images += image.planes(height: size.height, width: size.width, channels: channels)
                labels.append(Int32(entry.label))
            }
            return Dataset(name: "folder", images: images, labels: labels, channels: channels, height: size.height,
                           width: size.width, classes: classNames.count, classNames: classNames,
                           flipAugmentation: true)
        }
        let pair = DatasetPair(train: try dataset(0 ..< train.count, train),
                               test: try dataset(train.count ..< decoded.count, test))
        decoded = []
        for (set, name) in [(pair.train, "training"), (pair.test, "test")] where set.count == 0 {
            throw DatasetError(file: directory, message: "no usable images in the \(name) set")
        }
        return pair
    }

    /// The class sub-folders of `directory`, sorted; an error if there are none.
    static func classFolders(_ directory: String) throws -> [String] {
        let names = try FileIO.contents(directory).filter { !$0.hasPrefix(".") && FileIO.isDirectory(FileIO.join(directory, $0)) }
            .sorted()
        guard !names.isEmpty else {
            throw DatasetError(file: directory, message: "no class sub-folders (expected one sub-folder of images per class)")
        }
        return names
    }

    /// Every file of every class folder, classes in label order and files sorted by name; an empty class is an error.
    static func entries(_ directory: String, _ classNames: [String]) throws -> [Entry] {
        try classNames.enumerated().flatMap { label, name -> [Entry] in
            let folder = FileIO.join(directory, name)
            let files = try FileIO.contents(folder).filter { !$0.hasPrefix(".") }.sorted()
                .map { FileIO.join(folder, $0) }.filter { !FileIO.isDirectory($0) }
            guard !files.isEmpty else { throw DatasetError(file: folder, message: "class folder holds no files") }
            return files.map { Entry(path: $0, label: label) }
        }
    }

    /// 80/20 per class, by a shuffle with a fixed seed: the same split on every run and machine.
    static func split(_ entries: [Entry]) -> (train: [Entry], test: [Entry]) {
        var generator = SplitGenerator(state: 0x5EC_0F01D)
        var train: [Entry] = [], test: [Entry] = []
        for label in Set(entries.map(\.label)).sorted() {
            var files = entries.filter { $0.label == label }
            files.shuffle(using: &generator)
            let testCount = files.count >= 2 ? max(1, files.count / 5) : 0
            test += files.prefix(testCount)
            train += files.dropFirst(testCount)
        }
        return (train, test)
    }

    /// Each file decoded (nil where skipped), in parallel; a progress line for large folders.
    private func decode(_ entries: [Entry]) throws -> [DecodedImage?] {
        var results = [Result<DecodedImage, Error>?](repeating: nil, count: entries.count)
        let progress = entries.count >= 2000 && isatty(2) != 0
        let lock = NSLock()
        var done = 0
        results.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: max(1, ProcessInfo.processInfo.activeProcessorCount)) { worker in
                let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
                for i in stride(from: worker, to: entries.count, by: workers) {
                    slots[i] = Result { try DecodedImage.decode(try FileIO.read(entries[i].path), source: entries[i].path) }
                    guard progress else { continue }
                    lock.lock()
                    done += 1
                    if done % 500 == 0 || done == entries.count {
                        FileHandle.standardError.write(Data("\rdecoding \(directory): \(done)/\(entries.count) images".utf8))
                    }
                    lock.unlock()
                }
            }
        }
        if progress { FileHandle.standardError.write(Data("\n".utf8)) }
        return try results.map { result in
            switch result! {
            case .success(let image): return image
            case .failure(let error):
                if strict { throw error }
                Self.report("warning: \(error) (skipped)")
                return nil
            }
        }
    }

    /// The size most images have (ties: the larger area, then the taller).
    static func mostCommonSize(_ images: [DecodedImage]) -> ImageSize {
        var counts: [ImageSize: Int] = [:]
        for image in images { counts[ImageSize(height: image.height, width: image.width), default: 0] += 1 }
        return counts.max { a, b in
            (a.value, a.key.height * a.key.width, a.key.height) < (b.value, b.key.height * b.key.width, b.key.height)
        }?.key ?? ImageSize(height: 32, width: 32)
    }
}

/// An image size, written HxW (or one number for a square).
public struct ImageSize: Hashable, Sendable, CustomStringConvertible {
    public var height: Int, width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// "32" or "48x64" (height × width), each side 4 to 4096.
    public init?(_ text: String) {
        let sides = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard (1 ... 2).contains(sides.count), sides.allSatisfy({ $0.map { (4 ... 4096).contains($0) } ?? false }) else {
            return nil
        }
        (height, width) = (sides[0]!, sides.last!!)
    }

    public var description: String { "\(height)x\(width)" }
}

/// SplitMix64: a small seeded generator for the fixed split.
struct SplitGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
