import SECNNData

/// The dataset parsers on arbitrary bytes: what they accept must be a
/// consistent dataset (as many labels as images, labels among the classes,
/// pixels in [0, 1]).
enum DatasetFuzzing {
    static func cifar10Batch(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome.of { check(try Dataset.parseCIFAR10Batch(input, source: "fuzz.bin")) }
    }

    /// The input as an image file and as a label file: both headers are tried on every input.
    static func idxGzip(_ input: [UInt8]) -> FuzzOutcome {
        let outcomes = [IDX.Kind.images, .labels].map { kind in
            FuzzOutcome.of {
                let (dimensions, bytes) = try IDX.parse(compressed: input, kind: kind, source: "fuzz.gz")
                precondition(dimensions.count == kind.dimensionCount && dimensions.allSatisfy { $0 > 0 },
                             "IDX dimensions \(dimensions)")
                precondition(bytes.count == kind.headerSize + dimensions.reduce(1, *),
                             "IDX data of \(bytes.count) bytes for dimensions \(dimensions)")
            }
        }
        return FuzzOutcome.accepted(byAnyOf: outcomes, else: outcomes[0])
    }

    static func digitsCSV(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome.of { check(try Dataset.parseDigitsCSV(input, source: "fuzz.csv")) }
    }

    /// A decoded image has the size it declares, within the bounds, and becomes planes of the network's input.
    static func image(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome.of {
            let image = try DecodedImage.decode(input, source: "fuzz.img")
            precondition([1, 3].contains(image.channels) && image.width >= DecodedImage.minimumSide
                             && image.height >= DecodedImage.minimumSide
                             && image.width * image.height <= DecodedImage.maximumPixels,
                         "decoded \(image.width)×\(image.height)×\(image.channels)")
            precondition(image.pixels.count == image.width * image.height * image.channels, "pixel count")
            let planes = image.planes(height: 8, width: 8, channels: 3)
            precondition(planes.count == 192 && planes.allSatisfy { (0...1).contains($0) }, "planes outside [0, 1]")
        }
    }

    private static func check(_ dataset: Dataset) {
        precondition(dataset.count > 0 && dataset.images.count == dataset.count * dataset.imageSize,
                     "\(dataset.images.count) pixel values for \(dataset.count) images of \(dataset.imageSize)")
        precondition(dataset.labels.allSatisfy { (0..<Int32(dataset.classes)).contains($0) }, "a label out of range")
        precondition(dataset.images.allSatisfy { (0...1).contains($0) }, "a pixel outside [0, 1]")
    }
}
