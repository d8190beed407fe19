import SECNNCore
import SECNNData

/// A dataset split into train / validation / test and normalised with the
/// training part's per-channel statistics.
public struct TrainingData: Sendable {
    public var train: LabeledImages
    public var validation: LabeledImages
    public var test: LabeledImages
    public var normalization: Normalization
    public var name: String
    public var classes: Int
    /// Each label's name (CIFAR's batches.meta, the folders of an image folder, digits 0–9).
    public var classNames: [String]
    public var flipAugmentation: Bool

    /// With `.split(fraction:)`, a seeded random `fraction` of the training
    /// set is held out for validation (the same for the same seed); with
    /// `.testSet`, validation uses the test set, as the paper does.
    public init(_ pair: DatasetPair, validation source: ValidationSource, seed: UInt64) {
        var trainIndices = Array(0..<pair.train.count)
        var validationIndices: [Int] = []
        if case .split(let fraction) = source {
            var generator = SeededGenerator(seed: seed).derived(2)
            trainIndices.shuffle(using: &generator)
            let held = max(1, Int((Double(pair.train.count) * fraction).rounded()))
            validationIndices = Array(trainIndices.prefix(held)).sorted()
            trainIndices = Array(trainIndices.dropFirst(held)).sorted()
        }
        let normalization = Normalization(of: pair.train, indices: trainIndices)
        let train = Self.prepare(pair.train, normalization)
        let test = Self.prepare(pair.test, normalization)
        self.train = Self.select(train, trainIndices)
        self.validation = validationIndices.isEmpty ? test : Self.select(train, validationIndices)
        self.test = test
        self.normalization = normalization
        name = pair.train.name
        classes = pair.train.classes
        classNames = pair.train.classNames
        flipAugmentation = pair.train.flipAugmentation
    }

    /// Architecture `blocks` for this data's image shape and class count.
    public func architecture(_ text: String) throws -> ArchitectureSpec {
        try ArchitectureSpec(parsing: text, inputChannels: train.channels, inputHeight: train.height,
                             inputWidth: train.width, classes: classes)
    }

    /// A dataset's images normalised as `normalization` says (e.g. a checkpoint's).
    public static func prepare(_ dataset: Dataset, _ normalization: Normalization) -> LabeledImages {
        LabeledImages(images: normalization.apply(to: dataset), labels: dataset.labels,
                      channels: dataset.channels, height: dataset.height, width: dataset.width)
    }

    private static func select(_ data: LabeledImages, _ indices: [Int]) -> LabeledImages {
        let (tensor, labels) = data.batch(indices[...])
        return LabeledImages(images: tensor.scalars, labels: labels, channels: data.channels, height: data.height,
                             width: data.width)
    }
}
