import Foundation
import SECNNGrowth
import SECNNModel
import SECNNRules
import XCTest

// Helpers shared by the rule tests: hand-built contexts and scores, and an
// assertion on the exact error a rule raises.

/// The stock rules of the package (`rules/`).
let stockRulesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("rules")

func stockRule(_ file: String, args: [String: String] = [:]) throws -> Rule {
    try Rule(named: stockRulesDirectory.appendingPathComponent(file).path, args: args)
}

/// A CIFAR-shaped context after `epoch` epochs of 40.
func context(_ architecture: String = "16x1,16x1,16x1", epoch: Int = 1, history: [ExpansionRecord] = [],
             scores: ScoreReport? = nil, args: [String: String] = [:]) throws -> RuleContext {
    RuleContext(epoch: epoch, epochs: 40, architecture: try ArchitectureSpec(parsing: architecture), scores: scores,
                history: history, args: args)
}

/// An expansion applied after `epoch` (the rest of the record is filler).
func expansion(after epoch: Int, _ candidate: Candidate = Candidate(block: 0, op: .layer)) -> ExpansionRecord {
    ExpansionRecord(epoch: epoch, candidate: candidate, parametersBefore: 9024, parametersAfter: 11_360, ratio: 2.5,
                    architecture: "16x2,16x1,16x1")
}

/// Scores with η_c = `current` on `parameters`, and each candidate's η and Δp.
/// The unbiased scores equal η unless `noiseFloor` (per parameter) is given:
/// then each is η − noiseFloor · its parameters.
func scores(current: Double = 100, parameters: Int = 9024, noiseFloor: Double = 0,
            _ candidates: [(candidate: Candidate, eta: Double, delta: Int)]) -> ScoreReport {
    func score(_ eta: Double, _ parameters: Int) -> NaturalScore {
        NaturalScore(eta: eta, parameters: parameters, unbiasedEta: eta - noiseFloor * Double(parameters))
    }
    return ScoreReport(method: "diag", current: score(current, parameters),
                       candidates: candidates.map {
                           CandidateScore(candidate: $0.candidate, score: score($0.eta, parameters + $0.delta),
                                          deltaParameters: $0.delta)
                       })
}

/// A rule from source text, shown as `rules/<name>.lua`.
func rule(_ source: String, name: String = "test", args: [String: String] = [:],
          limits: RuleLimits = RuleLimits(instructionsPerCall: 1_000_000, memoryBytes: 8 << 20)) throws -> Rule {
    try Rule(source: source, displayPath: "rules/\(name).lua", args: args, limits: limits)
}

/// Asserts that `body` throws a `RuleError` whose message is `message`
/// (`prefix: true`: starts with it), and returns the error for more checks.
@discardableResult
func assertRuleError<T>(_ body: @autoclosure () throws -> T, _ message: String, prefix: Bool = false,
                        file: StaticString = #filePath, line: UInt = #line) -> RuleError? {
    do {
        let value = try body()
        XCTFail("expected the error \"\(message)\", got \(value)", file: file, line: line)
    } catch let error as RuleError {
        if prefix ? !error.message.hasPrefix(message) : error.message != message {
            XCTFail("error \"\(error.message)\"; expected \(prefix ? "a message starting with " : "")\"\(message)\"",
                    file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected a RuleError, got \(error)", file: file, line: line)
    }
    return nil
}
