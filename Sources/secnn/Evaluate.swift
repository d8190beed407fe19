import ArgumentParser
import SECNNModel

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on a dataset's test set.",
        discussion: "Uses the normalisation stored in the checkpoint, so it prints the test accuracy training reported.")

    @Argument(help: "A checkpoint written by `secnn train` (.safetensors).")
    var checkpoint: String

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Images per forward pass.")
    var batchSize = 512

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, not \(batchSize)") }
        _ = try dataOptions.source()
    }

    func run() throws {
        compute.apply()
        let (loaded, result) = try reportingErrors { () -> (Checkpoint, EvaluationResult) in
            let loaded = try Checkpoint(contentsOf: checkpoint)
            let test = try dataOptions.source().load().test
            try ensure(test, fits: loaded.network.spec, checkpoint: checkpoint)
            let images = TrainingData.prepare(test, loaded.normalization)
            return (loaded, loaded.network.evaluate(images, batchSize: batchSize))
        }
        var output = KeyValueOutput()
        output.add("params", loaded.network.parameterCount)
        output.add("arch", loaded.network.spec.description)
        output.add("images", result.count)
        output.add("test_accuracy", result.accuracy)
        output.add("test_loss", result.loss)
        output.add("checkpoint", checkpoint)
        output.print()
    }
}
