import SECNNCore
import SECNNGrowth
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
            XCTAssertFalse(try rule.when(context(epoch: 4)), "\(file): warm-up 5")
            XCTAssertTrue(try rule.when(context(epoch: 5)), "\(file): warm-up 5, no expansion yet")
            XCTAssertTrue(try stockRule(file, args: ["warmup": "1"]).when(context(epoch: 1)), "\(file): warm-up 1")
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
            let modest = scores([(layer0, 125, 2_336), (widen1, 129, 1_200)])
            XCTAssertNil(try rule.decide(context(scores: modest)), "\(file): ratios 1.25 and 1.29 stay under τ = 1.3")
            XCTAssertEqual(try stockRule(file, args: ["tau": "1.2"]).decide(context(scores: modest)), widen1,
                           "\(file): τ = 1.2 takes the best ratio")
            XCTAssertNil(try stockRule(file, args: ["tau": "2"]).decide(context(scores: scores([(layer0, 190, 2_336)]))),
                         "\(file): the paper's τ = 2")
            // Ratio 2.5 at Δp = 200,000 is discounted by exp(-4) to 0.05; 1.5 at Δp = 2,336 keeps 1.5.
            let large = scores([(layer0, 250, 200_000), (layer2, 150, 2_336), (widen1, 140, 1_200)])
            XCTAssertEqual(try rule.decide(context(scores: large)), layer2, "\(file): the size discount")
        }
    }

    /// `secnn report` draws the stock τ-rules' threshold at `ReportPage.stockTau`.
    func testReportDrawsTheStockTau() throws {
        for file in ["paper.lua", "kfac.lua"] {
            let rule = try stockRule(file)
            let above = 100 * (ReportPage.stockTau + 0.01), below = 100 * (ReportPage.stockTau - 0.01)
            XCTAssertEqual(try rule.decide(context(scores: scores([(layer0, above, 2_336)]))), layer0, file)
            XCTAssertNil(try rule.decide(context(scores: scores([(layer0, below, 2_336)]))), file)
        }
    }

    /// The ratios compared are of the unbiased scores: η less its noise floor.
    func testPaperComparesUnbiasedScores() throws {
        for file in ["paper.lua", "kfac.lua"] {
            let rule = try stockRule(file)
            // η/η_c = 150/100 = 1.5, but with a floor of 0.005 per parameter: (150 − 56.8)/(100 − 45.1) = 1.70 for
            // the layer, and (130 − 51.1)/(100 − 45.1) = 1.44 for the widening: both pass, the layer is best.
            XCTAssertEqual(try rule.decide(context(scores: scores(noiseFloor: 0.005, [(layer0, 150, 2_336),
                                                                                      (widen1, 130, 1_200)]))),
                           layer0, file)
            // A raw ratio of 1.35 at Δp = 10,000 (1.34 after the size discount) would pass τ = 1.3, but with a
            // floor of 0.004 per parameter it is (135 − 76.1)/(100 − 36.1) = 0.92: nothing grows.
            XCTAssertNil(try rule.decide(context(scores: scores(noiseFloor: 0.004, [(layer2, 135, 10_000)]))), file)
            // η_c at or below its noise floor: no baseline, nothing grows.
            XCTAssertNil(try rule.decide(context(scores: scores(current: 40, noiseFloor: 0.005, [(layer0, 150, 2_336)]))),
                         file)
        }
    }

    /// Efficiency: the relative rise of the unbiased score over the relative
    /// growth of the model's multiply-adds (or parameters with per_flop=0).
    /// From 16x1,16x1,16x1 (9,024 parameters, 1,188,168 multiply-adds), a layer
    /// on block 0 adds 2,359,296, one on block 2 adds 147,456, widening block 1
    /// by 4 adds 4·16·9·256 + 16·4·9·64 = 184,320.
    func testBudgetBuysTheMostScorePerUnitOfCost() throws {
        let widen1By4 = Candidate(block: 1, op: .widen, channels: 4)
        let mixed = scores([(layer0, 130, 2_336), (layer2, 115, 2_336), (widen1By4, 118, 1_164)])
        // Per FLOP: layer0 0.30/1.986 = 0.15, layer2 0.15/0.124 = 1.21, widen1 0.18/0.155 = 1.16.
        XCTAssertEqual(try stockRule("budget.lua").decide(context(scores: mixed)), layer2)
        // Per parameter: layer0 0.30/0.259 = 1.16, layer2 0.15/0.259 = 0.58, widen1 0.18/0.129 = 1.40.
        XCTAssertEqual(try stockRule("budget.lua", args: ["per_flop": "0"]).decide(context(scores: mixed)), widen1By4)
        // Within budgets: 10,188 parameters for the widening is over 10,000; so is layer0's 11,360.
        XCTAssertNil(try stockRule("budget.lua", args: ["per_flop": "0", "budget": "10000"]).decide(context(scores: mixed)))
        // A compute budget of 1.3 million keeps every candidate out (layer2 makes 1,335,624).
        XCTAssertNil(try stockRule("budget.lua", args: ["flops": "1300000"]).decide(context(scores: mixed)))
        XCTAssertNil(try stockRule("budget.lua", args: ["min_efficiency": "1.5"]).decide(context(scores: mixed)),
                     "nothing is 1.5 times as efficient as the model")

        let rule = try stockRule("budget.lua", args: ["budget": "12000"])
        let full = try context("16x1,16x1,40x2", epoch: 6)  // 12,000 parameters or more
        XCTAssertGreaterThanOrEqual(full.architecture.parameterCount, 12_000)
        XCTAssertFalse(try rule.when(full))
        XCTAssertFalse(try rule.when(context(epoch: 4)), "warm-up 5")
        XCTAssertTrue(try rule.when(context(epoch: 8, history: [expansion(after: 5)])), "cool-down 3")
        XCTAssertFalse(try rule.when(context(epoch: 7, history: [expansion(after: 5)])))
        // Widening by a quarter of the block, an even number, at least 2.
        XCTAssertEqual(try rule.propose(context("16x1,40x10,6x2")), [
            layer0, Candidate(block: 0, op: .widen, channels: 4), Candidate(block: 1, op: .widen, channels: 10),
            layer2, Candidate(block: 2, op: .widen, channels: 2),
        ])
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
