import ArgumentParser
import Foundation
import SECNNCore
import SECNNData
import SECNNDistributed
import SECNNGrowth
import SECNNModel
import SECNNRules

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a SECNN network with the paper's recipe.",
        discussion: """
            Prints one line per epoch and ends with key=value lines (params=, flops=, \
            test_accuracy=, checkpoint=, …), also kept as OUT/summary.json. The checkpoint with the best \
            validation accuracy is OUT/best.safetensors; OUT/last.safetensors \
            holds the latest epoch.

            With --rule the model grows while it trains: after each epoch the \
            rule (a Lua file, or a stock rule: paper.lua, kfac.lua, budget.lua) \
            decides whether to add a layer or channels to a block. Each \
            expansion prints a line; OUT/ladder.json and OUT/ladder/ keep the \
            best checkpoint of every size (`secnn ladder OUT`).

            OUT also gets config.json, rule.lua, metrics.jsonl/.csv and \
            events.jsonl (`secnn report OUT`). Ctrl-C stops after the current \
            batch with a checkpoint; `secnn train --resume OUT` continues exactly.

            Started by an MPI launcher (`mpirun -np N secnn train …`, or srun), the \
            N processes train one model data-parallel: each computes its share of \
            every --batch-size batch, with --threads threads, and they sum the \
            gradients and the batch-norm statistics (docs/distributed.md). Process \
            0 prints and writes OUT.
            """)

    @OptionGroup var dataOptions: DataOptions

    @Option(help: ArgumentHelp("Blocks as CHANNELSxLAYERS, comma-separated (the paper's start model is 16x1,16x1,16x1).",
                               valueName: "SPEC"))
    var arch = "16x1,16x1,16x1"

    @Option(help: """
        Epochs to train (default 30). With --resume: the total to reach, extending a finished or \
        interrupted run; the result is the run started with that many epochs, except under \
        --schedule cosine (whose rate depends on the total) and for rules that read ctx.epochs.
        """)
    var epochs: Int?

    @Option(help: "Seed for initialisation, data order, augmentation and dropout; the same seed and thread count give the same run.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Run directory: checkpoints, config.json, metrics, events, ladder (default: runs/RULE-DATE-TIME, or runs/train-DATE-TIME).", valueName: "DIR"))
    var out: String?

    @Option(help: "Images per optimisation step.")
    var batchSize = 512

    @Option(help: ArgumentHelp("Adam's learning rate: where --schedule starts (plateau halves it after --patience "
                               + "epochs without validation improvement)."))
    var lr = 2e-3

    @Option(help: "Epochs without a new best validation accuracy before the learning rate halves (--schedule plateau).")
    var patience = 15

    @Option(help: "L1 penalty on all parameters.")
    var l1 = 1e-5

    @Option(help: ArgumentHelp(
        "Random crops: shift each training image by up to N pixels, zero border "
            + "(4 is usual for 32×32; 0, the paper's, turns it off).",
        valueName: "N"))
    var cropPadding = 0

    @Option(help: ArgumentHelp(
        "Label smoothing: train against (1-E)·onehot + E/classes (0.1 is usual; 0, the paper's, turns it off). "
            + "Validation and test losses stay plain.",
        valueName: "E"))
    var labelSmoothing = 0.0

    @Option(help: ArgumentHelp(
        "Learning-rate schedule: plateau (the paper's: halve after --patience epochs without improvement) "
            + "or cosine (fall every step from --lr to 0 at the end of the last epoch).",
        valueName: "plateau|cosine"))
    var schedule = LearningRateSchedule.plateau

    @Option(help: ArgumentHelp(
        "Validation data: a fraction of the training set held out by the seed (default 0.1), or 'test' to validate on the test set as the paper does.",
        valueName: "FRACTION|test"))
    var valSplit = "0.1"

    @Option(help: ArgumentHelp(
        "Growth rule: a Lua file, or a stock rule by name (paper.lua, kfac.lua, budget.lua). Without it the architecture stays fixed.",
        valueName: "FILE"))
    var rule: String?

    @OptionGroup var ruleArgs: RuleArgOptions

    @Option(help: "Consecutive epochs a rule may fail (each proceeds without expansion) before the run stops.")
    var ruleFailures = 3

    @Option(help: "Training images the growth scores are computed on (chosen once by the seed).")
    var scoreSubset = 512

    @Option(help: "Seconds one call into the rule may take before the run stops (resumable): the backstop for what the instruction budget cannot see.")
    var ruleTimeout = 60.0

    @Option(help: ArgumentHelp("Parameters the model may grow to: larger candidates are refused before scoring (default: no bound).",
                               valueName: "N"))
    var maxParams: Int?

    @Option(help: ArgumentHelp(
        "Memory training the grown model may need, by secnn's estimate at --batch-size, e.g. 8G or 512M: larger "
            + "candidates are refused before scoring (default: half of physical memory).",
        valueName: "SIZE"))
    var maxMemory: MemorySize?

    @Option(help: ArgumentHelp(
        """
        Continue the run in DIR with its own settings (config.json, rule.lua, last.safetensors): an interrupted \
        one, or with --epochs N a finished one up to N epochs; --threads may change.
        """,
        valueName: "DIR"))
    var resume: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Data-parallel runs (mpirun): batch norm over the global batch, whatever the number of processes "
            + "(the default), or with --no-sync-bn over each process's share (fewer small sums per step; the "
            + "running statistics averaged after every epoch)."))
    var syncBn = true

    @Flag(help: "Print only the final summary.")
    var quiet = false

    @Flag(help: "Print JSON lines instead of text: an object per epoch, growth round, expansion and rule error, then the summary.")
    var json = false

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, not \(epochs)") }
        guard batchSize >= 2 else {
            throw ValidationError("--batch-size must be at least 2 (batch norm needs 2 examples), not \(batchSize)")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, not \(lr)") }
        guard patience >= 1 else { throw ValidationError("--patience must be at least 1, not \(patience)") }
        guard l1 >= 0, l1.isFinite else { throw ValidationError("--l1 must be at least 0, not \(l1)") }
        guard (0...16).contains(cropPadding) else {
            throw ValidationError("--crop-padding must be between 0 and 16 pixels, not \(cropPadding)")
        }
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw ValidationError("--label-smoothing must be at least 0 and below 1, not \(labelSmoothing)")
        }
        // The syntax and the blocks now; whether the image survives the pooling needs the data (in run()).
        do { _ = try ArchitectureSpec(parsing: arch, inputHeight: .max, inputWidth: .max) } catch {
            throw ValidationError("--arch: \(error)")
        }
        _ = try validationSource()
        _ = try dataOptions.source()
        _ = try ruleArgs.parsed()
        guard ruleFailures >= 1 else { throw ValidationError("--rule-failures must be at least 1, not \(ruleFailures)") }
        guard ruleTimeout > 0, ruleTimeout.isFinite else {
            throw ValidationError("--rule-timeout must be a positive number of seconds, not \(ruleTimeout)")
        }
        guard scoreSubset >= 1 else { throw ValidationError("--score-subset must be at least 1, not \(scoreSubset)") }
        if let maxParams, maxParams < 1 { throw ValidationError("--max-params must be at least 1, not \(maxParams)") }
        if quiet, json { throw ValidationError("--quiet and --json do not go together") }
        if rule == nil, !ruleArgs.isEmpty, resume == nil { throw ValidationError("--rule-arg needs --rule") }
        if resume != nil {
            // The flags that would change the run, as far as they differ from their defaults
            // (--epochs extends the run; --threads, --rule-timeout and the output flags apply as given).
            let recipe = TrainingConfiguration()
            let flags: [(String, Bool)] = [("--data", dataOptions.data != "digits"), ("--arch", arch != "16x1,16x1,16x1"),
                         ("--seed", seed != recipe.seed), ("--batch-size", batchSize != recipe.batchSize),
                         ("--lr", lr != recipe.learningRate), ("--patience", patience != recipe.patience),
                         ("--l1", l1 != recipe.l1), ("--val-split", valSplit != "0.1"),
                         ("--rule", rule != nil), ("--rule-arg", !ruleArgs.isEmpty), ("--out", out != nil),
                         ("--rule-failures", ruleFailures != 3), ("--score-subset", scoreSubset != 512),
                         ("--crop-padding", cropPadding != recipe.cropPadding),
                         ("--label-smoothing", labelSmoothing != recipe.labelSmoothing),
                         ("--schedule", schedule != recipe.schedule), ("--max-params", maxParams != nil),
                         ("--max-memory", maxMemory != nil), ("--no-sync-bn", !syncBn),
                         ("--image-size", dataOptions.imageSize != nil),
                         ("--strict-images", dataOptions.strictImages)]
            let given = flags.filter(\.1).map(\.0)
            if let last = given.last {
                let list = given.count == 1 ? last : given.dropLast().joined(separator: ", ") + " and " + last
                throw ValidationError("--resume continues a run with its own settings; \(list) "
                                      + (given.count == 1 ? "does" : "do") + " not go with it")
            }
        }
    }


    /// Loads the rule before any training, so a broken rule costs nothing.
    private func loadRule() throws -> (rule: Rule, source: String)? {
        guard let rule else { return nil }
        let (source, displayPath) = try RuleSource.resolve(rule)
        return (try Rule(source: source, displayPath: displayPath, args: try ruleArgs.parsed()), source)
    }

    /// `config.json`'s content.
    private func runConfiguration(_ pair: DatasetPair, _ spec: ArchitectureSpec, _ configuration: TrainingConfiguration,
                                  rule: (rule: Rule, source: String)?) throws -> RunFiles.Configuration {
        RunFiles.Configuration(
            commandLine: CommandLine.arguments, version: SECNN.version, threads: compute.threads,
            data: try dataOptions.recorded(pair), dataset: pair.train.name, datasetChecksum: RunData.checksum(pair),
            architecture: spec.description, training: configuration, rule: rule?.rule.displayPath,
            ruleChecksum: rule.map { RunFiles.checksum($0.source) }, ruleArgs: try ruleArgs.parsed(),
            ruleFailures: ruleFailures, scoreSubset: scoreSubset, maxParams: maxParams,
            maxMemory: (maxMemory ?? .halfOfPhysicalMemory).bytes, processes: processes?.size,
            syncBatchNorm: syncBn ? nil : false)
    }


    /// Text (live on a terminal), JSON lines, or nothing (also on every process of a data-parallel run but 0).
    private func printer() -> GrowthObserver? {
        guard speaks else { return nil }
        return json ? JSONEventPrinter() : quiet ? nil : GrowthPrinter()
    }

    /// Progress lines, unless --quiet or --json.
    private func say(_ line: String) {
        if speaks, !quiet, !json { print(line) }
    }

    /// Whether this process prints and writes the run's files: process 0 of a data-parallel run, or the only one.
    private var speaks: Bool { (processes?.rank ?? 0) == 0 }

    private var processes: MPIProcesses? { DataParallel.processes }

    /// What a run needs: the trainer, the rule, the record files (process 0's) and the settings.
    private struct Session {
        var trainer: Trainer
        var rule: Rule?
        var files: RunFiles?
        var settings: RunFiles.Configuration
    }

    private func newSession(_ configuration: TrainingConfiguration) throws -> Session {
        let loaded = try loadRule()
        let pair = try dataOptions.source().load()
        let data = TrainingData(pair, validation: configuration.validation, seed: seed)
        // Checked against the data's image size, so only now; still a usage error.
        let spec: ArchitectureSpec
        do { spec = try data.architecture(arch) } catch { throw ValidationError("--arch: \(error)") }
        let directory = out ?? defaultRunDirectory(rule: loaded?.rule.name)
        let trainer = try Trainer(data: data, spec: spec, configuration: configuration, directory: directory,
                                  processes: processes)
        let settings = try runConfiguration(pair, spec, configuration, rule: loaded)
        let files = !speaks ? nil : RunFiles(directory: directory, configuration: settings, ruleSource: loaded?.source,
                                             forwardingTo: printer())
        return Session(trainer: trainer, rule: loaded?.rule, files: files, settings: settings)
    }

    /// The run in `directory` as its files left it, checked against its data.
    private func resumedSession(_ directory: String) throws -> Session {
        var settings = try RunFiles.Configuration(run: directory)
        var checkpoint = try Checkpoint(contentsOf: (directory as NSString).appendingPathComponent("last.safetensors"))
        if let epochs {
            let trained = checkpoint.training?.epoch ?? 0
            guard epochs >= trained else {
                throw ValidationError("--epochs \(epochs): \(directory) has already trained \(trained) epochs")
            }
            checkpoint.configuration?.epochs = epochs
            settings.training.epochs = epochs
            try settings.write(run: directory)
        }
        let pair = try RunData.load(settings, run: directory)
        let configuration = checkpoint.configuration ?? settings.training
        let data = TrainingData(pair, validation: configuration.validation, seed: configuration.seed)
        let trainer = try Trainer(resuming: checkpoint, data: data, directory: directory, processes: processes)
        var rule: Rule?
        if settings.rule != nil {
            let path = (directory as NSString).appendingPathComponent("rule.lua")
            guard FileManager.default.fileExists(atPath: path) else {
                throw RuntimeError("\(path): the run's rule is missing")
            }
            rule = try Rule(named: path, args: settings.ruleArgs)
        }
        let files = !speaks ? nil : RunFiles(directory: directory, configuration: settings, ruleSource: nil,
                                             resuming: true, forwardingTo: printer())
        return Session(trainer: trainer, rule: rule, files: files, settings: settings)
    }

    private func validationSource() throws -> ValidationSource {
        if valSplit == "test" { return .testSet }
        guard let fraction = Double(valSplit), fraction > 0, fraction < 1 else {
            throw ValidationError("--val-split must be a fraction between 0 and 1 or 'test', not '\(valSplit)'")
        }
        return .split(fraction: fraction)
    }

    func run() throws {
        try DataParallel.run(train)
    }

    private func train() throws {
        compute.apply()
        var configuration = TrainingConfiguration()
        configuration.epochs = epochs ?? 30
        configuration.batchSize = batchSize
        configuration.learningRate = lr
        configuration.patience = patience
        configuration.l1 = l1
        configuration.cropPadding = cropPadding
        configuration.labelSmoothing = labelSmoothing
        configuration.schedule = schedule
        configuration.seed = seed
        configuration.validation = try validationSource()

        Interruption.install()
        var growth: SelfExpandingRun?
        let summary = try reportingErrors { () -> TrainingSummary in
            let session = try resume.map(resumedSession) ?? newSession(configuration)
            if let processes {
                let differing = processes.processesDiffering(from: Array(session.settings.datasetChecksum.utf8))
                guard differing.isEmpty else {
                    throw RuntimeError("process\(differing.count == 1 ? "" : "es") "
                                       + "\(differing.map(String.init).joined(separator: ", ")) loaded other data than "
                                       + "process 0 from \(session.settings.data) (dataset checksums differ)")
                }
            }
            let trainer = session.trainer
            trainer.stopRequested = { Interruption.requested }
            trainer.synchronisedBatchNorm = session.settings.syncBatchNorm ?? true
            let data = trainer.data, spec = trainer.network.spec
            say("\(resume == nil ? "training" : "resuming at epoch \(trainer.state.epoch + 1):") \(spec) "
                  + "(\(spec.parameterCount) parameters) on \(data.name): \(data.train.count) train, "
                  + "\(data.validation.count) validation (\(trainer.configuration.validation)), \(data.test.count) test; "
                  + "\(compute.threads) threads\(processes.map { " in each of \($0.size) processes" } ?? ""); "
                + "checkpoints in \(trainer.directory)")
            do {
                guard let rule = session.rule else { return try trainer.run(observer: session.files) }
                say("growing with \(rule.name) (\(rule.displayPath)), \(rule.scoreMethod.rawValue) score on "
                      + "\(session.settings.scoreSubset) images")
                // Runs from before the bounds were recorded get the default memory bound.
                let limits = ExpansionLimits(
                    maxParameters: session.settings.maxParams,
                    maxTrainingMemory: .init(bytes: session.settings.maxMemory ?? MemorySize.halfOfPhysicalMemory.bytes,
                                             batchSize: trainer.configuration.batchSize))
                let run = try SelfExpandingRun(
                    trainer: trainer, rule: rule,
                    scoring: ScoringOptions(subsetSize: session.settings.scoreSubset, limits: limits,
                                            seed: trainer.configuration.seed),
                    maxConsecutiveRuleFailures: session.settings.ruleFailures, resuming: resume != nil)
                run.watchdog = Watchdog(seconds: ruleTimeout) { [directory = trainer.directory] rule, function, seconds in
                    FileHandle.standardError.write(Data(
                        ("\(rule): \(function) ran for \(seconds) s without returning (the instruction budget cannot "
                         + "see time inside a library call, e.g. a pathological string pattern); the run stopped with "
                         + "its checkpoints intact. Continue it with: secnn train --resume \(directory)\n").utf8))
                    Foundation.exit(3)
                }
                growth = run
                return try run.run(observer: session.files)
            } catch let interrupted as TrainingInterrupted {
                FileHandle.standardError.write(Data("\(interrupted)\n".utf8))
                throw ExitCode(130)
            }
        }
        // The figures without the machine's paths: OUT/summary.json, for scripts and results/.
        var figures = KeyValueOutput()
        figures.add("params", summary.parameters)
        figures.add("flops", summary.architecture.multiplyAdds)
        figures.add("arch", summary.architecture.description)
        figures.add("epochs", summary.epochs)
        figures.add("best_epoch", summary.bestEpoch)
        figures.add("val_accuracy", summary.bestValidationAccuracy)
        figures.add("test_accuracy", summary.test.accuracy)
        figures.add("test_loss", summary.test.loss)
        figures.add("seconds", summary.seconds)
        if let growth {
            figures.add("rule", growth.rule.name)
            figures.add("expansions", growth.history.count)
        }
        if let processes {
            // Process 0's share of the communication: time in the sums (waiting for the others included), bytes.
            figures.add("processes", processes.size)
            figures.add("allreduce_seconds", processes.sumSeconds)
            figures.add("allreduce_bytes", processes.sumBytes)
            figures.add("allreduce_calls", processes.sumCalls)
        }
        guard speaks else { return }
        let directory = (summary.bestCheckpoint as NSString).deletingLastPathComponent
        RunFiles.writeSummary(figures.json() + "\n", directory: directory)

        var output = KeyValueOutput()
        if json { output.add("event", "summary") }
        for (key, value) in figures.pairs { output.add(key, value) }
        output.add("checkpoint", summary.bestCheckpoint)
        output.add("last_checkpoint", summary.lastCheckpoint)
        if let growth { output.add("ladder", growth.ladderPath) }
        if json { print(output.json()) } else { output.print() }
    }

    /// runs/RULE-DATE-TIME (runs/train-DATE-TIME without a rule).
    private func defaultRunDirectory(rule: String?) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let name = (rule ?? "train").map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
        return "runs/\(String(name))-\(formatter.string(from: Date()))"
    }

}
extension LearningRateSchedule: ExpressibleByArgument {}
