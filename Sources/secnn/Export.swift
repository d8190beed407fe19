import ArgumentParser
import Foundation
import SECNNGrowth
import SECNNModel

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model: a checkpoint, a run's best, or the best rung of its ladder within a budget.",
        discussion: """
            SOURCE is a checkpoint file or a run directory. For a run, --max-params chooses the most accurate \
            rung (validation accuracy) with at most that many parameters; without it, the run's best.safetensors. \
            --format onnx writes an ONNX model (opset 13) for inference; its input is the normalised image \
            (the metadata has the normalisation).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case safetensors, onnx }

    @Argument(help: ArgumentHelp("A checkpoint (.safetensors) or a run directory.", valueName: "SOURCE"))
    var source: String

    @Option(help: "For a run: the largest parameter count allowed (its ladder's best rung within it).")
    var maxParams: Int?

    @Option(help: "safetensors (a secnn checkpoint, the default) or onnx.")
    var format: Format = .safetensors

    @Option(help: "Where to write the model.")
    var out: String

    func run() throws {
        var output = KeyValueOutput()
        try reportingErrors {
            let model = try ModelSource(source, maxParams: maxParams)
            let checkpointPath = model.path
            if let rung = model.rung {
                output.add("val_accuracy", rung.validationAccuracy)
                output.add("test_accuracy", rung.testAccuracy)
            }
            let checkpoint = try Checkpoint(contentsOf: checkpointPath)
            switch format {
            case .safetensors: try checkpoint.write(toPath: out)
            case .onnx: try checkpoint.writeONNX(toPath: out, producerVersion: SECNN.version)
            }
            output.add("params", checkpoint.network.parameterCount)
            output.add("arch", checkpoint.network.spec.description)
            output.add("from", checkpointPath)
        }
        output.add("format", format.rawValue)
        output.add("checkpoint", out)
        output.print()
    }
}
