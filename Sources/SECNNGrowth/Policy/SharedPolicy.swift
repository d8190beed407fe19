import Foundation
import SECNNCore
import SECNNModel

/// A policy asked on process 0 of a data-parallel run only, its every
/// answer (or error) sent to all processes: the rule runs once, and every
/// process scores, decides and expands identically, so the replicas cannot
/// drift apart through a rule that reads the clock, keeps state, or fails
/// on one machine only.
public final class SharedPolicy: GrowthPolicy {
    public let policy: GrowthPolicy
    public let processes: any Collective

    public init(_ policy: GrowthPolicy, processes: any Collective) {
        self.policy = policy
        self.processes = processes
    }

    public var name: String { policy.name }
    public var displayPath: String { policy.displayPath }
    public var scoreMethod: NaturalScoreMethod { policy.scoreMethod }
    public var expansionLimits: ExpansionLimits { policy.expansionLimits }
    public var args: [String: String] { policy.args }

    public func when(_ context: RuleContext) throws -> Bool { try shared { try policy.when(context) } }
    public func propose(_ context: RuleContext) throws -> [Candidate] { try shared { try policy.propose(context) } }
    public func decide(_ context: RuleContext) throws -> Candidate? { try shared { try policy.decide(context) } }

    /// Process 0's answer, or its error, on every process.
    private func shared<Answer: Codable>(_ ask: () throws -> Answer) throws -> Answer {
        var outcome = Outcome<Answer>(answer: [], error: nil)
        var localError: Error?
        if processes.rank == 0 {
            do { outcome.answer = [try ask()] } catch {
                localError = error
                outcome.error = "\(error)"
            }
        }
        let bytes = processes.broadcast(processes.rank == 0 ? Array(try JSONEncoder().encode(outcome)) : [], from: 0)
        if let localError { throw localError }
        let received = try JSONDecoder().decode(Outcome<Answer>.self, from: Data(bytes))
        if let error = received.error { throw PolicyContractError(message: error) }
        guard let answer = received.answer.first else {
            throw PolicyContractError(message: "\(displayPath): process 0 sent no answer")
        }
        return answer
    }

    /// An answer (in an array, so that decide's nil survives JSON) or an error.
    private struct Outcome<Answer: Codable>: Codable {
        var answer: [Answer]
        var error: String?
    }
}
