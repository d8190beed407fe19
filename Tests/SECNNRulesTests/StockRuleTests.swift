import SECNNCore
import SECNNModel
import SECNNRules
import XCTest

/// The three stock rules of `rules/` on hand-built contexts.
final class StockRuleTests: XCTestCase {
    private let layer0 = Candidate(block: 0, op: .layer)
    private let widen1 = Candidate(block: 1, op: .widen, channels: 2)
    private let layer2 = Candidate(block: 2, op: .layer)

    func testStockRulesDeclareTheirSettings() throws {
        let expected: [(file: String, name: String, method: NaturalScoreMethod)] = [
            ("paper.lua", "paper", .diag), ("kfac.lua", "kfac", .kfac), ("budget.lua", "budget", .diag),
        ]
        for (file, name, method) in expected {
            let rule = try stockRule(file)
            XCTAssertEqual(rule.name, name, file)
            XCTAssertEqual(rule.scoreMethod, method, file)
            XCTAssertEqual(rule.expansionLimits, ExpansionLimits(maxLayersPerBlock: 10), file)
        }
        XCTAssertEqual(try stockRule("paper.lua", args: ["max_layers": "6"]).expansionLimits.maxLayersPerBlock, 6)
    }

    func testPaperAndKfacWaitForWarmupAndCooldown() throws {
        for file in ["paper.lua", "kfac.lua"] {
            let rule = try stockRule(file)
            XCTAssertTrue(try rule.when(context(epoch: 1)), "\(file): warm-up 1, no expansion yet")
            XCTAssertFalse(try stockRule(file, args: ["warmup": "3"]).when(context(epoch: 2)), "\(file): warm-up 3")
            XCTAssertFalse(try rule.when(context(epoch: 14, history: [expansion(after: 5)])), "\(file): 9 epochs after")
            XCTAssertTrue(try rule.when(context(epoch: 15, history: [expansion(after: 5)])), "\(file): 10 epochs after")
            XCTAssertTrue(try stockRule(file, args: ["cooldown": "2"]).when(context(epoch: 7, history: [expansion(after: 5)])),
                          "\(file): cool-down 2")
        }
    }

    func testPaperProposesLayersBelowTheLimitAndWidensBySize() throws {
        for file in ["paper.lua", "kfac.lua"] {
            XCTAssertEqual(try stockRule(file).propose(context("16x1,40x10,16x3")), [
                layer0, Candidate(block: 0, op: .widen, channels: 2),
                Candidate(block: 1, op: .widen, channels: 4),
                layer2, Candidate(block: 2, op: .widen, channels: 2),
            ], file)
        }
    }

    func testPaperGrowsOnlyPastTauAfterTheSizeDiscount() throws {
        for file in ["paper.lua", "kfac.lua"] {
            let rule = try stockRule(file)
            let modest = scores([(layer0, 150, 2_336), (widen1, 190, 1_200)])
            XCTAssertNil(try rule.decide(context(scores: modest)), "\(file): ratios 1.5 and 1.9 stay under τ = 2")
            XCTAssertEqual(try stockRule(file, args: ["tau": "1.2"]).decide(context(scores: modest)), widen1,
                           "\(file): τ = 1.2 takes the best ratio")
            // Ratio 2.5 at Δp = 200,000 is discounted by exp(-4) to 0.05; 2.2 at Δp = 2,346 keeps 2.2.
            let large = scores([(layer0, 250, 200_000), (layer2, 220, 2_336), (widen1, 199, 1_200)])
            XCTAssertEqual(try rule.decide(context(scores: large)), layer2, "\(file): the size discount")
        }
    }

    func testBudgetBuysTheMostScorePerParameterWithinTheBudget() throws {
        let rule = try stockRule("budget.lua", args: ["budget": "12000"])
        // Gains per parameter: layer0 0.02, layer2 0.0085 (and over the budget: 9024 + 3000 > 12000), widen1 0.0125.
        let mixed = scores([(layer0, 146.92, 2_336), (layer2, 125.5, 3_000), (widen1, 115, 1_200)])
        XCTAssertEqual(try rule.decide(context(scores: mixed)), layer0)
        let overBudget = scores([(layer2, 400, 3_000), (widen1, 115, 1_200)])
        XCTAssertEqual(try rule.decide(context(scores: overBudget)), widen1, "the best gain would exceed the budget")
        let noGain = scores([(layer0, 99, 2_336), (widen1, 100, 1_200)])
        XCTAssertNil(try rule.decide(context(scores: noGain)), "no candidate raises the score")

        let full = try context("16x1,16x1,40x2")  // 12,000 parameters or more
        XCTAssertGreaterThanOrEqual(full.architecture.parameterCount, 12_000)
        XCTAssertFalse(try rule.when(full))
        XCTAssertEqual(try rule.propose(full), [])
        XCTAssertTrue(try rule.when(context(epoch: 8, history: [expansion(after: 5)])), "cool-down 3")
        XCTAssertFalse(try rule.when(context(epoch: 7, history: [expansion(after: 5)])))
        XCTAssertEqual(try rule.propose(context()).count, 6)
    }

    func testStockRulesRejectArgsThatAreNotNumbers() {
        for file in ["paper.lua", "kfac.lua", "budget.lua"] {
            let error = assertRuleError(try stockRule(file, args: ["cooldown": "soon"]),
                                        stockRulesDirectory.appendingPathComponent(file).path + ":", prefix: true)
            XCTAssertTrue(error?.message.hasSuffix(": --rule-arg cooldown=soon: expected a number") ?? false,
                          error?.message ?? "")
        }
    }
}
