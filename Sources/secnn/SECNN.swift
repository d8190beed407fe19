import ArgumentParser

@main
struct SECNN: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "secnn",
        abstract: "Self-expanding convolutional neural networks: train, evaluate and benchmark.",
        discussion: """
            Start with `secnn train` (the embedded digits set, no download), then \
            `secnn eval runs/NAME/best.safetensors --data digits`.
            """,
        version: version,
        subcommands: [Train.self, Evaluate.self, Predict.self, Score.self, LadderCommand.self, Export.self, Report.self, CheckRules.self, Bench.self, Version.self])
}
