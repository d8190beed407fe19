// Datasets as flat Float tensors, and the error type every loader throws.

/// A labelled image classification dataset held in memory.
///
/// Images are stored as one flat `[Float]` in NCHW order
/// (`count × channels × height × width`), with pixel values scaled to `[0, 1]`.
/// Image `i` occupies `images[i * imageSize ..< (i + 1) * imageSize]`, and its
/// class is `labels[i]`, in `0 ..< classes`.
public struct Dataset: Sendable {
    /// Short name of the dataset: `"digits"`, `"cifar10"`, `"cifar100"`, `"cifar100-coarse"` or `"fashion-mnist"`.
    public var name: String
    /// Pixels of all images, `count × channels × height × width` (NCHW), scaled to `[0, 1]`.
    public var images: [Float]
    /// Class label of each image, in `0 ..< classes`.
    public var labels: [Int32]
    /// Number of colour channels per image (1 for grey-scale, 3 for RGB).
    public var channels: Int
    /// Image height in pixels.
    public var height: Int
    /// Image width in pixels.
    public var width: Int
    /// Number of classes; every label is in `0 ..< classes`.
    public var classes: Int
    /// Human-readable name of each class, indexed by label (`classNames.count == classes`).
    public var classNames: [String]
    /// Whether random horizontal flips are a valid augmentation (CIFAR-10, Fashion-MNIST: yes; digits: no).
    public var flipAugmentation: Bool

    /// Number of samples (images and labels).
    public var count: Int { labels.count }
    /// Number of `Float`s per image: `channels * height * width`.
    public var imageSize: Int { channels * height * width }

    /// Creates a dataset from flat NCHW pixels and labels.
    ///
    /// - Precondition: `images.count == labels.count * channels * height * width`,
    ///   `classNames.count == classes`, and every label is in `0 ..< classes`.
    public init(
        name: String, images: [Float], labels: [Int32],
        channels: Int, height: Int, width: Int, classes: Int,
        classNames: [String], flipAugmentation: Bool
    ) {
        precondition(channels > 0 && height > 0 && width > 0, "Dataset: image dimensions must be positive")
        precondition(images.count == labels.count * channels * height * width,
                     "Dataset: \(images.count) pixels do not match \(labels.count) images of \(channels)×\(height)×\(width)")
        precondition(classNames.count == classes, "Dataset: \(classNames.count) class names for \(classes) classes")
        precondition(labels.allSatisfy { $0 >= 0 && Int($0) < classes }, "Dataset: a label is outside 0..<\(classes)")
        self.name = name
        self.images = images
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classes = classes
        self.classNames = classNames
        self.flipAugmentation = flipAugmentation
    }

    /// Returns a dataset holding the samples at `indices`, in that order
    /// (indices may repeat). All other properties are copied unchanged.
    ///
    /// - Precondition: every index is in `0 ..< count`.
    public func subset(_ indices: [Int]) -> Dataset {
        let size = imageSize
        var newImages = [Float](repeating: 0, count: indices.count * size)
        var newLabels = [Int32](repeating: 0, count: indices.count)
        images.withUnsafeBufferPointer { source in
            newImages.withUnsafeMutableBufferPointer { destination in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "Dataset.subset: index \(index) is out of range 0..<\(count)")
                    let from = source.baseAddress! + index * size
                    (destination.baseAddress! + row * size).update(from: from, count: size)
                    newLabels[row] = labels[index]
                }
            }
        }
        var result = self
        result.images = newImages
        result.labels = newLabels
        return result
    }
}

/// A training set and a test set drawn from the same source.
public struct DatasetPair: Sendable {
    /// Samples to train on.
    public var train: Dataset
    /// Held-out samples to evaluate on.
    public var test: Dataset

    /// Pairs a training set with a test set.
    public init(train: Dataset, test: Dataset) {
        self.train = train
        self.test = test
    }
}

/// A problem with a dataset file (or with a `--data` argument), as one line.
///
/// `description` reads `FILE: LOCATION: MESSAGE`, or `FILE: MESSAGE` when there is
/// no location, for example
/// `/x/data_batch_3.bin: offset 30730: label 12 is out of range 0..9` or
/// `digits.csv.gz: line 12, column 3: expected an integer 0..16, found "x"`.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file (path or embedded file name) the problem is in; `--data` for argument errors.
    public let file: String
    /// Where in the file: `"offset N"` (byte offset in the decompressed data),
    /// `"compressed offset N"` (byte offset in a gzip file), `"line L"` or
    /// `"line L, column C"` (1-based; column counts comma-separated values);
    /// `nil` when the problem concerns the whole file.
    public let location: String?
    /// What is wrong, in one line.
    public let message: String

    /// Creates an error for `file` at `location` (if any) with `message`.
    public init(file: String, location: String? = nil, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    /// `FILE: LOCATION: MESSAGE`, or `FILE: MESSAGE` without a location.
    public var description: String {
        if let location { return "\(file): \(location): \(message)" }
        return "\(file): \(message)"
    }
}
