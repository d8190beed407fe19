import ArgumentParser
import Foundation
import SECNNCore
import SECNNData
import SECNNModel

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The top classes of image files (PNG or JPEG), by a trained model.",
        discussion: """
            MODEL is a checkpoint or a run directory (its best checkpoint; with --max-params, the most accurate \
            rung of its ladder within that many parameters). Each image is decoded, resized bilinearly to the \
            model's input size (colour made grey, or grey made colour, as the model needs) and normalised with \
            the statistics stored in the checkpoint, as training saw its data. Class names are the ones the \
            training data had (CIFAR's, the folders of --data folder:DIR, digits' 0–9). An image that cannot \
            be read is reported and the others are still classified; the exit status is then 1.
            """)

    @Argument(help: ArgumentHelp("A checkpoint (.safetensors) or a run directory.", valueName: "MODEL"))
    var model: String

    @Argument(help: ArgumentHelp("PNG or JPEG files.", valueName: "IMAGE"))
    var images: [String]

    @Option(help: "Classes listed per image, most probable first.")
    var top = 3

    @Option(help: "For a run: the largest parameter count allowed (its ladder's best rung within it).")
    var maxParams: Int?

    @Flag(help: "One JSON object per image: {\"image\", \"predictions\": [{\"class\", \"label\", \"probability\"}, …]}.")
    var json = false

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image file") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1, not \(top)") }
    }

    func run() throws {
        compute.apply()
        let checkpoint = try reportingErrors { try Checkpoint(contentsOf: try ModelSource(model, maxParams: maxParams).path) }
        let spec = checkpoint.network.spec
        let names = checkpoint.classNames ?? (0 ..< spec.classes).map { "class \($0)" }
        let prepared = InferenceModel(checkpoint.network)
        var failed = false
        for path in images {
            do {
                let image = try DecodedImage.decode(try readFile(path), source: path)
                let probabilities = checkpoint.classify(image, with: prepared)
                let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
                if json {
                    let line = ImagePredictions(image: path, predictions: ranked.map {
                        ImagePredictions.Prediction(class: names[$0], label: $0, probability: probabilities[$0])
                    })
                    print(String(decoding: try encoder.encode(line), as: UTF8.self))
                } else {
                    print(path)
                    for label in ranked { print(String(format: "  %.4f  %@", probabilities[label], names[label])) }
                }
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    private func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError("\(path): cannot be read (no such file, or not readable)")
        }
        return Array(data)
    }

    private var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// What --json prints per image.
    private struct ImagePredictions: Encodable {
        struct Prediction: Encodable {
            var `class`: String
            var label: Int
            var probability: Float
        }
        var image: String
        var predictions: [Prediction]
    }
}

extension Checkpoint {
    /// Class probabilities of one decoded image: resized to the model's input, normalised as in training,
    /// through `model` (this checkpoint's network, prepared), softmax.
    func classify(_ image: DecodedImage, with model: InferenceModel) -> [Float] {
        let spec = network.spec
        let planes = image.planes(height: spec.inputHeight, width: spec.inputWidth, channels: spec.inputChannels)
        let dataset = Dataset(name: dataset, images: planes, labels: [0], channels: spec.inputChannels,
                              height: spec.inputHeight, width: spec.inputWidth, classes: spec.classes,
                              classNames: (0 ..< spec.classes).map(String.init), flipAugmentation: false)
        let logits = model.logits(normalization.apply(to: dataset))
        let largest = logits.max()!
        let exponentials = logits.map { Foundation.exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }
}
