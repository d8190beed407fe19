import Foundation
import SECNNCore
import SECNNModel
import SafeTensors

/// A self-expanding training run: the paper's training recipe, and after
/// every epoch the rule decides whether and how the model grows.
///
/// Per epoch: `when(ctx)`; if yes, `propose(ctx)`, the natural scores of
/// the current model and of every proposed candidate (the rule's `score`
/// method, on a subset of training images fixed by the seed), `decide(ctx)`.
/// A chosen candidate is materialised exactly as it was scored, the best
/// checkpoint of the current size becomes a rung of the ladder, and training
/// continues on the grown model with Adam's state migrated.
///
/// A rule error (load-time errors are thrown before any training) is
/// reported and the epoch proceeds without expansion; after
/// `maxConsecutiveRuleFailures` failures in a row the run stops with
/// `RunStopped`, its checkpoints intact.
///
/// In a data-parallel run (the trainer's `processes`) the processes share
/// the scoring, process 0 alone asks the rule (`SharedPolicy`) and writes
/// the files, every process applies the same expansion, and after each
/// expansion they check that they hold the same parameters.
public final class SelfExpandingRun {
    public let trainer: Trainer
    public let rule: GrowthPolicy
    public let scoring: ScoringOptions
    public let maxConsecutiveRuleFailures: Int
    /// Armed around every call into the policy, when set.
    public var watchdog: Watchdog?
    public private(set) var history: [ExpansionRecord] = []
    public private(set) var ladder = Ladder()

    /// The subset every score is computed on, chosen once.
    private let subset: LabeledImages
    private var consecutiveFailures = 0
    /// The epoch after which the last growth round ran (0: none yet).
    private var roundsThrough = 0
    /// The best checkpoint of the current size (by validation accuracy): the
    /// next rung of the ladder.
    private var sizeBest: (checkpoint: Checkpoint, epoch: Int, accuracy: Double)?

    /// With `resuming`, the run continues from what the trainer's directory
    /// holds (`growth.json`, `size-best.safetensors`, `ladder.json`); the
    /// trainer must have been made with `Trainer(resuming:…)`. A rule that
    /// keeps state in its own Lua variables starts them afresh: rules
    /// should derive what they need from `ctx` (the stock rules do).
    ///
    /// The rule owns what it declares: its score method and its per-block
    /// limits replace those of `scoring`; `scoring`'s bounds on the whole
    /// model (parameters, training memory) stay.
    public init(trainer: Trainer, rule: GrowthPolicy, scoring: ScoringOptions = ScoringOptions(),
                maxConsecutiveRuleFailures: Int = 3, resuming: Bool = false) throws {
        guard maxConsecutiveRuleFailures >= 1 else {
            throw ModelError.invalidConfiguration("a run needs to allow at least 1 rule failure, not \(maxConsecutiveRuleFailures)")
        }
        var scoring = scoring
        scoring.fisher.method = rule.scoreMethod
        scoring.limits.maxLayersPerBlock = rule.expansionLimits.maxLayersPerBlock
        scoring.limits.maxChannelsPerBlock = rule.expansionLimits.maxChannelsPerBlock
        try scoring.validate()
        self.trainer = trainer
        self.rule = trainer.processes.map { SharedPolicy(rule, processes: $0) } ?? rule
        self.scoring = scoring
        self.maxConsecutiveRuleFailures = maxConsecutiveRuleFailures
        subset = trainer.data.train.scoringSubset(count: scoring.subsetSize, seed: scoring.seed)
        AtomicWrite.removeStaleTemporaries(in: path(Ladder.folder))
        if resuming { try restore() }
    }

    /// Trains every epoch, growing between them; the last size's best
    /// checkpoint becomes the ladder's last rung.
    ///
    /// A resumed run first holds the growth round it missed: the one after
    /// the epoch its checkpoint ends, when it stopped before that round
    /// finished, or when it had finished and was extended (`--epochs`).
    public func run(observer: GrowthObserver? = nil) throws -> TrainingSummary {
        if let missed = trainer.state.history.last, trainer.state.progress == nil, missed.epoch > roundsThrough,
           missed.epoch < trainer.configuration.epochs {
            try round(after: missed, observer: observer)
        }
        let summary = try trainer.run(observer: observer) { [self] metrics in
            try round(after: metrics, observer: observer)
        }
        if let last = trainer.state.history.last { try noteSizeBest(last) }
        try keepRung()
        return summary
    }

    /// The growth round after an epoch. A grown model is written to
    /// `last.safetensors` at once, before `growth.json` records the round, so
    /// that a run killed in the next epoch resumes with the model its history
    /// describes.
    private func round(after metrics: EpochMetrics, observer: GrowthObserver?) throws {
        try noteSizeBest(metrics)
        let expansions = history.count
        try grow(after: metrics, observer: observer)
        if history.count > expansions, trainer.writesFiles {
            try trainer.checkpoint().write(toPath: trainer.lastCheckpointPath)
        }
        roundsThrough = metrics.epoch
        try save()
    }

    /// The path of `ladder.json`.
    public var ladderPath: String { (trainer.directory as NSString).appendingPathComponent(Ladder.fileName) }

    private func noteSizeBest(_ metrics: EpochMetrics) throws {
        guard metrics.validationAccuracy > sizeBest?.accuracy ?? -1 else { return }
        sizeBest = (trainer.checkpoint(), metrics.epoch, metrics.validationAccuracy)
        if trainer.writesFiles { try sizeBest?.checkpoint.write(toPath: path(Self.sizeBestFile)) }
        try save()
    }

    /// The best checkpoint of the size just left becomes a rung (process 0 keeps the ladder).
    private func keepRung() throws {
        guard let best = sizeBest, trainer.writesFiles else { return }
        let test = best.checkpoint.network.evaluate(trainer.data.test)
        try ladder.add(best.checkpoint, epoch: best.epoch, validationAccuracy: best.accuracy,
                       testAccuracy: test.accuracy, run: trainer.directory)
        sizeBest = nil
        try save()
    }

    // MARK: What survives an interruption

    /// What the run remembers besides the trainer's checkpoint and the ladder.
    private struct State: Codable {
        var history: [ExpansionRecord]
        var consecutiveFailures: Int
        /// Absent in runs from before it was kept: their rounds then count as done.
        var roundsThrough: Int?
        var sizeBest: SizeBest?
        struct SizeBest: Codable { var epoch: Int, accuracy: Double }
    }

    static let stateFile = "growth.json", sizeBestFile = "size-best.safetensors"

    private func path(_ file: String) -> String { (trainer.directory as NSString).appendingPathComponent(file) }

    private func save() throws {
        guard trainer.writesFiles else { return }
        let state = State(history: history, consecutiveFailures: consecutiveFailures, roundsThrough: roundsThrough,
                          sizeBest: sizeBest.map { State.SizeBest(epoch: $0.epoch, accuracy: $0.accuracy) })
        try AtomicWrite.write(Array(try JSONEncoder().encode(state)), toPath: path(Self.stateFile))
    }

    private func restore() throws {
        let state: State = try RunFiles.read(Self.stateFile, in: trainer.directory,
                                             missing: "missing; \(trainer.directory) is not a growth run to resume",
                                             invalid: "not a growth state")
        history = state.history
        consecutiveFailures = state.consecutiveFailures
        roundsThrough = state.roundsThrough ?? trainer.state.epoch
        if FileManager.default.fileExists(atPath: path(Ladder.fileName)) { ladder = try Ladder(run: trainer.directory) }
        if let best = state.sizeBest {
            sizeBest = (try Checkpoint(contentsOf: path(Self.sizeBestFile)), best.epoch, best.accuracy)
        }
    }

    private func grow(after metrics: EpochMetrics, observer: GrowthObserver?) throws {
        var context = RuleContext(epoch: metrics.epoch, epochs: trainer.configuration.epochs,
                                  architecture: trainer.network.spec, history: history,
                                  metrics: trainer.state.history, limits: scoring.limits, args: rule.args)
        var round = GrowthRound(epoch: metrics.epoch, outcome: .notScored)
        let scorer = try scorer(epoch: metrics.epoch)
        do {
            try decide(&context, &round, scorer)
            consecutiveFailures = 0
        } catch let failure as PolicyFailure {
            let error = failure.error
            consecutiveFailures += 1
            round.outcome = .ruleFailed
            round.error = "\(error)"
            observer?.round(round)
            observer?.ruleFailed(epoch: metrics.epoch, error: error, consecutiveFailures: consecutiveFailures)
            guard consecutiveFailures < maxConsecutiveRuleFailures else {
                throw RunStopped(rule: rule.displayPath, failures: consecutiveFailures, lastError: error,
                                 directory: trainer.directory)
            }
            return
        }
        observer?.round(round)
        guard let candidate = round.choice, let report = round.scores else { return }
        try apply(candidate, report: report, epoch: metrics.epoch, scorer: scorer, observer: observer)
    }

    /// when → propose → score → decide, noting each step's outcome in
    /// `round`. The policy's errors come out as `PolicyFailure`, the
    /// scoring's as themselves.
    private func decide(_ context: inout RuleContext, _ round: inout GrowthRound, _ scorer: CandidateScorer) throws {
        guard try asked("when", { try rule.when(context) }) else { return }
        let candidates = try asked("propose") { try rule.propose(context) }
        guard !candidates.isEmpty else {
            round.outcome = .nothingProposed
            return
        }
        let report = try scorer.score(trainer.network, candidates: candidates)
        context.scores = report
        round.scores = report
        round.outcome = .declined
        guard let choice = try asked("decide", { try rule.decide(context) }) else { return }
        // A Lua rule checks this itself; a Swift policy is held to the same contract here.
        guard report.candidates.contains(where: { $0.candidate == choice }) else {
            throw PolicyFailure(error: PolicyContractError(
                message: "\(rule.displayPath): decide returned \(choice), which was not scored"))
        }
        round.choice = choice
        round.outcome = .expanded
    }

    /// An error the policy threw, told apart from the run's own.
    private struct PolicyFailure: Error { var error: Error }

    private func asked<R>(_ function: String, _ call: () throws -> R) throws -> R {
        do {
            guard let watchdog else { return try call() }
            return try watchdog.guarding(rule.displayPath, function, call)
        } catch {
            throw PolicyFailure(error: error)
        }
    }

    /// The scorer of one epoch: the fixed subset, and the noise of new
    /// weights drawn from a seed of this epoch (so expansions differ).
    private func scorer(epoch: Int) throws -> CandidateScorer {
        var options = scoring
        options.seed = scoring.seed &+ UInt64(epoch) &* 0x9E37_79B9
        return try CandidateScorer(options: options, subset: subset, processes: trainer.processes)
    }

    private func apply(_ candidate: Candidate, report: ScoreReport, epoch: Int, scorer: CandidateScorer,
                       observer: GrowthObserver?) throws {
        // The scored model, rebuilt (scores keep no networks): the same seed, the same calibration.
        let (grown, expansion) = try scorer.materialise(candidate, on: trainer.network)
        let scored = report.candidates.first(where: { $0.candidate == candidate })!  // checked in `decide`
        try keepRung()
        try trainer.apply(grown, expansion)
        try trainer.checkReplicas(after: "the expansion at epoch \(epoch) (\(candidate))")
        let record = ExpansionRecord(epoch: epoch, candidate: candidate, parametersBefore: expansion.parametersBefore,
                                     parametersAfter: expansion.parametersAfter,
                                     ratio: scored.ratio(over: report.current), architecture: grown.spec.description)
        history.append(record)
        observer?.expanded(record)
    }
}

/// A policy's answer the contract does not allow (a Lua rule reports its own, as `RuleError`).
public struct PolicyContractError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A growth run stopped because its rule kept failing.
public struct RunStopped: Error, CustomStringConvertible {
    public var rule: String
    public var failures: Int
    public var lastError: Error
    public var directory: String

    public var description: String {
        "\(rule) failed \(failures) epochs in a row; the run stopped (its checkpoints in \(directory) are intact). "
            + "Last error: \(lastError)"
    }
}
