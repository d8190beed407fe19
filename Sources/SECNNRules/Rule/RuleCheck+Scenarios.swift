import Foundation
import SECNNGrowth
import SECNNModel

extension RuleCheck {
    /// A canned moment of a growth run: the context a rule sees, and made-up
    /// scores for whatever it proposes. Architectures, epochs and histories
    /// cover a run's start, its middle, blocks at the layer limit and four
    /// blocks; the ratios include some above the paper's τ = 2 so that
    /// rules take their growing branches too.
    struct Scenario: CustomStringConvertible {
        var context: RuleContext
        /// η/η_c of the proposed candidates, in turn.
        var ratios: [Double]

        var description: String {
            "epoch \(context.epoch)/\(context.epochs), \(context.architecture), \(context.history.count) expansions so far"
        }

        static func all(args: [String: String]) -> [Scenario] {
            let layer = { Candidate(block: $0, op: .layer) }
            let widen = { Candidate(block: $0, op: .widen, channels: $1) }
            return [
                // Digits, right after the first epoch.
                Scenario(start: "16x1,16x1,16x1", image: (channels: 1, side: 8), epoch: 1, of: 40, expansions: [],
                         ratios: [1.04, 0.97], args: args),
                // CIFAR-10 mid-run, after a layer and a widening.
                Scenario(start: "16x1,16x1,16x1", image: (channels: 3, side: 32), epoch: 15, of: 60,
                         expansions: [(3, layer(0)), (9, widen(1, 2))], ratios: [1.3, 2.6, 0.9, 1.1, 3.1, 0.85],
                         args: args),
                // Fashion-MNIST near the end: two blocks at the default layer limit, an expansion last epoch.
                Scenario(start: "32x10,16x10,20x2", image: (channels: 1, side: 28), epoch: 39, of: 40,
                         expansions: [(30, layer(2)), (38, widen(0, 4))], ratios: [2.2, 1.0, 1.6], args: args),
                // Four blocks on CIFAR-10, long after the last expansion.
                Scenario(start: "24x2,24x2,16x1,16x1", image: (channels: 3, side: 32), epoch: 25, of: 40,
                         expansions: [(2, layer(3)), (12, widen(2, 2))], ratios: [0.99, 1.2, 2.4, 1.05], args: args),
            ]
        }

        /// The context after replaying `expansions` (epoch, candidate) on
        /// `start`, with a metrics history that improves epoch by epoch.
        private init(start: String, image: (channels: Int, side: Int), epoch: Int, of epochs: Int,
                     expansions: [(epoch: Int, candidate: Candidate)], ratios: [Double], args: [String: String]) {
            // The canned architectures are valid by construction.
            var architecture = try! ArchitectureSpec(parsing: start, inputChannels: image.channels,
                                                     inputHeight: image.side, inputWidth: image.side)
            let startParameters = architecture.parameterCount
            var history: [ExpansionRecord] = []
            for (after, candidate) in expansions {
                let grown = architecture.applying(candidate)
                history.append(ExpansionRecord(epoch: after, candidate: candidate,
                                               parametersBefore: architecture.parameterCount,
                                               parametersAfter: grown.parameterCount, ratio: 2.1,
                                               architecture: "\(grown)"))
                architecture = grown
            }
            let metrics = (1...epoch).map { trained in
                let progress = Double(trained)
                return EpochMetrics(
                    epoch: trained, trainLoss: 0.1 + 2.2 * exp(-progress / 8),
                    trainAccuracy: 0.98 - 0.88 * exp(-progress / 6), validationLoss: 0.2 + 2.1 * exp(-progress / 9),
                    validationAccuracy: 0.95 - 0.85 * exp(-progress / 7), learningRate: 2e-3,
                    parameters: history.last { $0.epoch < trained }?.parametersAfter ?? startParameters)
            }
            context = RuleContext(epoch: epoch, epochs: epochs, architecture: architecture, history: history,
                                  metrics: metrics, args: args)
            self.ratios = ratios
        }

        /// The context with `rule`'s scores of `candidates`: η_c of a
        /// plausible size, each candidate's Δp from the architecture it would
        /// make. Those the rule's limits refuse are left out, as the real
        /// scorer leaves them out.
        func scored(_ candidates: [Candidate], by rule: Rule) -> RuleContext {
            let limits = rule.expansionLimits
            let architecture = context.architecture
            let parameters = architecture.parameterCount
            // Scores over 512 images with every parameter resolved, as the diagonal Fisher resolves them.
            func score(_ eta: Double, _ parameters: Int) -> NaturalScore {
                NaturalScore(eta: eta, parameters: parameters, effectiveParameters: Double(parameters), examples: 512)
            }
            let current = score(20 + 0.004 * Double(parameters), parameters)
            let allowed = candidates.filter { candidate in
                let block = architecture.blocks[candidate.block]
                return candidate.op == .layer
                    ? block.layers < limits.maxLayersPerBlock
                    : block.channels + candidate.channels <= limits.maxChannelsPerBlock ?? .max
            }
            let scores = allowed.enumerated().map { index, candidate in
                let grown = architecture.applying(candidate).parameterCount
                let eta = current.eta * ratios[index % ratios.count]
                return CandidateScore(candidate: candidate, score: score(eta, grown),
                                      deltaParameters: grown - parameters)
            }
            var context = context
            context.scores = ScoreReport(method: rule.scoreMethod.rawValue, current: current, candidates: scores, refused: [])
            return context
        }
    }
}
