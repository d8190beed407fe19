import ArgumentParser
import Foundation
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
        abstract: "Copy the most accurate rung of a growth run's ladder within a parameter budget.",
        discussion: "Chooses by validation accuracy among the rungs with at most --max-params parameters; the copy is a checkpoint `secnn eval` loads.")

    @Argument(help: ArgumentHelp("The run directory (secnn train --out).", valueName: "RUN"))
    var directory: String

    @Option(help: "The largest parameter count allowed.")
    var maxParams: Int

    @Option(help: "Where to write the checkpoint (.safetensors).")
    var out: String

    func run() throws {
        let rung = try reportingErrors { () -> Ladder.Rung in
            let ladder = try Ladder(run: directory)
            guard let rung = ladder.best(maxParameters: maxParams) else {
                let smallest = ladder.rungs.map(\.parameters).min().map(String.init) ?? "none"
                throw RuntimeError("\(directory): no rung has at most \(maxParams) parameters (the smallest has \(smallest))")
            }
            try ladder.export(rung, run: directory, to: out)
            return rung
        }
        var output = KeyValueOutput()
        output.add("params", rung.parameters)
        output.add("arch", rung.architecture)
        output.add("val_accuracy", rung.validationAccuracy)
        output.add("test_accuracy", rung.testAccuracy)
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
