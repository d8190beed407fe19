import ArgumentParser
import Foundation
import SECNNGrowth

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an HTML report of one or more runs, overlaid for comparison.",
        discussion: """
            Inline SVG plots from each run's metrics.jsonl, events.jsonl and ladder.json: accuracy and loss per \\
            epoch with the expansions marked, parameters per epoch, candidate score ratios per growth round against \\
            the rule's τ, and test accuracy against parameters for the ladder rungs.
            """)

    @Argument(help: ArgumentHelp("Run directories (secnn train --out).", valueName: "RUN"))
    var runs: [String]

    @Option(help: "The HTML file to write.")
    var out = "report.html"

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run directory") }
    }

    func run() throws {
        try reportingErrors {
            try Data(try ReportPage.html(runs: runs).utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
        }
        var output = KeyValueOutput()
        output.add("runs", runs.count)
        output.add("report", out)
        output.print()
    }
}
