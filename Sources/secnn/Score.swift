import ArgumentParser
import Foundation
import SECNNCore
import SECNNModel

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a checkpoint's natural expansion score and every candidate's.",
        discussion: """
            η = gᵀF⁻¹g on a fixed subset of training images (chosen by the seed), with batch norm in eval mode. \
            The numbers are exactly those a growth rule receives: η of the current model (η_c), and for every \
            block the model with one more layer and the model with --widen more channels, with their parameter \
            growth Δp, η/η_c and η/P. Under an MPI launcher (`mpirun -np N secnn score …`) the N processes \
            share the subset and sum its statistics: the same scores, sooner.
            """)

    @Argument(help: "A checkpoint written by `secnn train` (.safetensors).")
    var checkpoint: String

    @OptionGroup var dataOptions: DataOptions

    @Option(name: .customLong("score"), help: "Fisher approximation: diag (per-example diagonal) or kfac (KFC/K-FAC).")
    var method: NaturalScoreMethod = .diag

    @Option(help: "Training images to score on.")
    var subset = 512

    @Option(help: "Channels a widen candidate adds.")
    var widen = 2

    @Option(help: "Added to each diagonal Fisher entry.")
    var epsilon = NaturalScoreSettings().epsilon

    @Option(help: "Tikhonov damping of the Kronecker factors (kfac).")
    var damping = NaturalScoreSettings().damping

    @Option(help: "Standard deviation of the noise on new weights.")
    var noise = 1e-4

    @Option(help: "Seed of the subset and of the candidates' noise (default: the checkpoint's training seed).")
    var seed: UInt64?

    @Option(help: "Images per forward/backward pass (memory, not the result).")
    var chunk = 128

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "Also print where the scoring time went, by phase (profile_<phase>_s).")
    var profile = false

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if json && profile { throw ValidationError("--profile prints key=value lines after the table; use it without --json") }
        _ = try dataOptions.source()
        guard widen >= 1 else { throw ValidationError("--widen must be at least 1 channel, not \(widen)") }
        do { try options(seed: 0).validate() } catch { throw ValidationError("\(error)") }
    }

    private func options(seed: UInt64) -> ScoringOptions {
        ScoringOptions(fisher: NaturalScoreSettings(method: method, epsilon: epsilon, damping: damping),
                       subsetSize: subset, chunkSize: chunk, noise: noise, seed: seed)
    }

    func run() throws {
        try DataParallel.run(score)
    }

    /// Under an MPI launcher the processes share the subset; process 0 prints.
    private func score() throws {
        compute.apply()
        var scoringSeconds = 0.0
        let phases = profile ? ScoringProfile() : nil
        let (loaded, report) = try reportingErrors { () -> (Checkpoint, ScoreReport) in
            let loaded = try Checkpoint(contentsOf: checkpoint)
            let configuration = loaded.configuration ?? TrainingConfiguration()
            let pair = try dataOptions.source().load()
            try ensure(pair.train, fits: loaded.network.spec, checkpoint: checkpoint)
            // The training split of the run that wrote the checkpoint: same validation hold-out, same seed.
            let data = TrainingData(pair, validation: configuration.validation, seed: configuration.seed)
            let scorer = try CandidateScorer(options: options(seed: seed ?? configuration.seed), training: data.train,
                                             processes: DataParallel.processes)
            let candidates = Candidate.all(blocks: loaded.network.spec.blocks.count, widenBy: widen)
            let start = Date()
            let report = try scorer.score(loaded.network, candidates: candidates, profile: phases)
            scoringSeconds = Date().timeIntervalSince(start)
            return (loaded, report)
        }
        guard (DataParallel.processes?.rank ?? 0) == 0 else { return }
        if json {
            print(try String(decoding: ScoreReportJSON(report).encoded(), as: UTF8.self))
            return
        }
        print(ScoreTable(report).text)
        var output = KeyValueOutput()
        output.add("arch", loaded.network.spec.description)
        output.add("score", report.method)
        output.add("params", report.current.parameters)
        output.add("eta_c", report.current.eta)
        output.add("eta_c_per_param", report.current.perParameter)
        output.add("scoring_seconds", scoringSeconds)
        if let phases {
            for phase in ScoringPhase.allCases { output.add("profile_\(phase.rawValue)_s", phases.seconds[phase] ?? 0) }
        }
        output.print()
    }
}
extension NaturalScoreMethod: ExpressibleByArgument {}
