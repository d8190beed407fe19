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
        print("rung   params    MFLOPs  architecture              epoch  val_acc  test_acc  file")
        for (index, rung) in ladder.rungs.enumerated() {
            // %-24@ does not pad on Linux's Foundation: the column is padded here.
            let architecture = rung.architecture.padding(toLength: max(24, rung.architecture.count), withPad: " ",
                                                         startingAt: 0)
            print(String(format: "%4d  %7d  %8.2f  %@  %5d  %7.4f  %8.4f  %@", index + 1, rung.parameters,
                         Double(rung.flops) / 1e6, architecture, rung.epoch, rung.validationAccuracy, rung.testAccuracy,
                         (directory as NSString).appendingPathComponent(rung.file)))
        }
    }
}
