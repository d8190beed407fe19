import ArgumentParser
import Foundation
import SECNNGrowth
import SECNNModel

struct LadderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ladder",
        abstract: "List the checkpoint ladder of a growth run: the best checkpoint of every size.",
        discussion: """
            Reads RUN/ladder.json, written by `secnn train --rule`. `secnn export` copies a rung out.

            A rung is the best checkpoint of a size, often trained for only one cool-down. With \
            --finetune N every rung trains N more epochs at its own size, with the run's recipe and \
            data, in RUN/ladder-finetuned/rung-K/; RUN/ladder-finetuned.json and the table then show \
            each rung's validation accuracy before and after, and the fine-tuned test accuracy.
            """)

    @Argument(help: ArgumentHelp("The run directory (secnn train --out).", valueName: "RUN"))
    var directory: String

    @Flag(help: "Print ladder.json's rungs as JSON instead of the table.")
    var json = false

    @Option(help: ArgumentHelp("Train every rung N more epochs at its own size first.", valueName: "N"))
    var finetune: Int?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if let finetune, finetune < 1 { throw ValidationError("--finetune must be at least 1 epoch, not \(finetune)") }
        if finetune != nil, json { throw ValidationError("--finetune prints its table; --json does not go with it") }
    }

    func run() throws {
        let ladder = try reportingErrors { try Ladder(run: directory) }
        if let finetune {
            compute.apply()
            let tuned = try reportingErrors { () -> FinetunedLadder in
                let settings = try RunFiles.Configuration(run: directory)
                let pair = try RunData.load(settings, run: directory)
                let data = TrainingData(pair, validation: settings.training.validation, seed: settings.training.seed)
                return try FinetunedLadder.finetune(ladder, run: directory, settings: settings, epochs: finetune,
                                                    data: data)
            }
            print("rung   params    MFLOPs  architecture              val_before  val_after  test_after  file")
            for rung in tuned.rungs {
                print(String(format: "%4d  %7d  %8.2f  %@  %10.4f  %9.4f  %10.4f  %@", rung.rung, rung.parameters,
                             Double(rung.flops) / 1e6, padded(rung.architecture), rung.validationAccuracyBefore,
                             rung.validationAccuracy, rung.testAccuracy,
                             (directory as NSString).appendingPathComponent(rung.file)))
            }
            return
        }
        if json {
            print(String(decoding: try ladder.json().dropLast(), as: UTF8.self))
            return
        }
        print("rung   params    MFLOPs  architecture              epoch  val_acc  test_acc  file")
        for (index, rung) in ladder.rungs.enumerated() {
            print(String(format: "%4d  %7d  %8.2f  %@  %5d  %7.4f  %8.4f  %@", index + 1, rung.parameters,
                         Double(rung.flops) / 1e6, padded(rung.architecture), rung.epoch, rung.validationAccuracy,
                         rung.testAccuracy,
                         (directory as NSString).appendingPathComponent(rung.file)))
        }
    }

    /// The architecture column, 24 wide (%-24@ does not pad on Linux's Foundation).
    private func padded(_ architecture: String) -> String {
        architecture.padding(toLength: max(24, architecture.count), withPad: " ", startingAt: 0)
    }
}
