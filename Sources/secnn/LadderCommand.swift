import ArgumentParser
import Foundation
import SECNNModel
import SECNNRules

struct LadderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ladder",
        abstract: "List the checkpoint ladder of a growth run: the best checkpoint of every size.",
        discussion: "Reads RUN/ladder.json, written by `secnn train --rule`. `secnn export` copies a rung out.")

    @Argument(help: ArgumentHelp("The run directory (secnn train --out).", valueName: "RUN"))
    var directory: String

    @Flag(help: "Print ladder.json's rungs as JSON instead of the table.")
    var json = false

    func run() throws {
        let ladder = try reportingErrors { try Ladder(run: directory) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(ladder), as: UTF8.self))
            return
        }
        print("rung   params  architecture              epoch  val_acc  test_acc  file")
        for (index, rung) in ladder.rungs.enumerated() {
            print(String(format: "%4d  %7d  %-24@  %5d  %7.4f  %8.4f  %@", index + 1, rung.parameters,
                         rung.architecture, rung.epoch, rung.validationAccuracy, rung.testAccuracy,
                         (directory as NSString).appendingPathComponent(rung.file)))
        }
    }
}

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
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw RuntimeError("\(source): no such checkpoint or run directory")
            }
            var checkpointPath = source
            if isDirectory.boolValue {
                checkpointPath = (source as NSString).appendingPathComponent("best.safetensors")
                if let maxParams {
                    let ladder = try Ladder(run: source)
                    guard let rung = ladder.best(maxParameters: maxParams) else {
                        let smallest = ladder.rungs.map(\.parameters).min().map(String.init) ?? "none"
                        throw RuntimeError("\(source): no rung has at most \(maxParams) parameters (the smallest has \(smallest))")
                    }
                    checkpointPath = (source as NSString).appendingPathComponent(rung.file)
                    output.add("val_accuracy", rung.validationAccuracy)
                    output.add("test_accuracy", rung.testAccuracy)
                }
            } else if maxParams != nil {
                throw ValidationError("--max-params chooses a rung of a run's ladder; \(source) is a checkpoint file")
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

struct CheckRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-rules",
        abstract: "Load growth rules in the sandbox and dry-run them on canned contexts.",
        discussion: "Reports every problem as file:line: message and exits 1 if there is any. `swift package check-rules` runs this.")

    @Argument(help: "Rule files.")
    var files: [String]

    @Option(name: .customLong("rule-arg"), parsing: .singleValue, help: ArgumentHelp("A value for ctx.args (repeatable).", valueName: "KEY=VALUE"))
    var ruleArgs: [String] = []

    func run() throws {
        var args: [String: String] = [:]
        for pair in ruleArgs {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--rule-arg '\(pair)': expected KEY=VALUE") }
            args[parts[0]] = parts[1]
        }
        var failed = 0
        for file in files {
            let problems = RuleCheck.check(path: file, args: args)
            if problems.isEmpty { print("ok  \(file)") } else { failed += 1 }
            for problem in problems { print(problem) }
        }
        guard failed == 0 else { throw ExitCode.failure }
    }
}
