import SECNNGrowth
import SECNNModel
import SECNNRules
import XCTest

/// Every kind of malformed value `when`, `propose` and `decide` can return,
/// each with its message, on one rule object that answers correctly between
/// failures (a failure leaves the rule usable).
final class ReturnValidationTests: XCTestCase {
    /// `ctx.args.case` picks what every function returns.
    private static let source = """
        local cases = {
          block7 = { block = 7, op = "layer" }, block3 = { block = 3, op = "layer" },
          block_minus = { block = -1, op = "layer" }, fraction = { block = 1.5, op = "layer" },
          string_block = { block = "0", op = "layer" }, no_block = { op = "layer" },
          deepen = { block = 0, op = "deepen" }, no_op = { block = 0 }, number_op = { block = 0, op = 3 },
          negative = { block = 0, op = "widen", channels = -2 }, zero = { block = 0, op = "widen", channels = 0 },
          fractional = { block = 0, op = "widen", channels = 2.5 }, no_channels = { block = 0, op = "widen" },
          huge = { block = 0, op = "widen", channels = 5000 }, unscored = { block = 1, op = "widen", channels = 3 },
          float_block = { block = 1.0, op = "layer" }, layer_channels = { block = 0, op = "layer", channels = 7 },
          text = "yes", number = 3, yes = true, empty = {},
          array = { { block = 0, op = "layer" }, { block = 0, op = "layer" }, { block = 2, op = "widen", channels = 4 } },
          mixed = { { block = 0, op = "layer" }, 5 },
          hole = { [1] = { block = 0, op = "layer" }, [3] = { block = 1, op = "layer" } },
          boolean_key = { [true] = 1 },
          bad_element = { { block = 0, op = "widen", channels = -2 } },
        }
        return {
          when = function(ctx) return cases[ctx.args.case] end,
          propose = function(ctx) return cases[ctx.args.case] end,
          decide = function(ctx) return cases[ctx.args.case] end,
        }
        """
    private var rule: Rule!
    private let scored = scores([(Candidate(block: 0, op: .layer), 120, 2_336), (Candidate(block: 1, op: .layer), 110, 2_336),
                                 (Candidate(block: 0, op: .widen, channels: 2), 105, 1_200)])

    override func setUpWithError() throws {
        rule = try SECNNRulesTests.rule(Self.source, name: "returns")
    }

    /// `rules/returns.lua:<line of the function's definition>: <function> returned <what>`.
    private func place(_ function: String) -> String {
        let line = Self.source.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("\(function) = function") }.map { $0 + 1 } ?? 0
        return "rules/returns.lua:\(line): \(function) returned"
    }

    private func with(_ name: String) throws -> RuleContext {
        try context(scores: scored, args: ["case": name])
    }

    func testDecideRejectsEveryMalformedCandidateAndStaysUsable() throws {
        let expected = [
            "block7": "block 7, the model has 3 blocks",
            "block3": "block 3, the model has 3 blocks (numbered from 0)",
            "block_minus": "block -1, the model has 3 blocks",
            "fraction": "block 1.5; expected an integer",
            "string_block": "block \"0\"; expected an integer",
            "no_block": "a candidate without block; expected an integer from 0",
            "deepen": "op \"deepen\"; expected \"layer\" or \"widen\"",
            "no_op": "a candidate without op; expected \"layer\" or \"widen\"",
            "number_op": "op 3; expected \"layer\" or \"widen\"",
            "negative": "channels -2 for widen block 0; expected a positive integer",
            "zero": "channels 0 for widen block 0; expected a positive integer",
            "fractional": "channels 2.5 for widen block 0; expected a positive integer",
            "no_channels": "widen block 0 without channels; expected a positive integer",
            "huge": "channels 5000 for widen block 0; at most 1024 per expansion",
            "unscored": "a candidate that was not scored (widen block 1 by 3)",
            "text": "a string; expected nil or a candidate table",
            "yes": "a boolean; expected nil or a candidate table",
        ]
        for (name, message) in expected.sorted(by: { $0.key < $1.key }) {
            assertRuleError(try rule.decide(with(name)), "\(place("decide")) \(message)")
            XCTAssertEqual(try rule.decide(with("float_block")), Candidate(block: 1, op: .layer), "after \(name)")
        }
        XCTAssertEqual(try rule.decide(with("layer_channels")), Candidate(block: 0, op: .layer))
        XCTAssertNil(try rule.decide(with("nothing")))
    }

    func testDecideOnlyPicksScoredCandidates() throws {
        var unscored = try with("float_block")
        unscored.scores = nil
        assertRuleError(try rule.decide(unscored), "\(place("decide")) a candidate that was not scored (layer on block 1)")
    }

    func testWhenMustReturnABoolean() throws {
        XCTAssertTrue(try rule.when(with("yes")))
        assertRuleError(try rule.when(with("text")), "\(place("when")) a string; expected a boolean")
        assertRuleError(try rule.when(with("nothing")), "\(place("when")) nil; expected a boolean")
        assertRuleError(try rule.when(with("number")), "\(place("when")) a number; expected a boolean")
        XCTAssertTrue(try rule.when(with("yes")))
    }

    func testProposeMustReturnAnArrayOfValidCandidates() throws {
        let array = "expected an array of candidates such as { {block = 0, op = \"layer\"} }"
        let expected = [
            "text": "a string; expected an array of candidates",
            "nothing": "nil; expected an array of candidates",
            "block7": "a table that is not an array (it has the key \"block\"); \(array)",
            "hole": "a table that is not an array (it has the key 3); \(array)",
            "boolean_key": "a table that is not an array (it has a boolean key); \(array)",
            "mixed": "a number as candidate 2; expected a table with block and op",
            "bad_element": "channels -2 for widen block 0; expected a positive integer",
        ]
        for (name, message) in expected.sorted(by: { $0.key < $1.key }) {
            assertRuleError(try rule.propose(with(name)), "\(place("propose")) \(message)")
            XCTAssertEqual(try rule.propose(with("empty")), [], "after \(name)")
        }
        XCTAssertEqual(try rule.propose(with("array")),
                       [Candidate(block: 0, op: .layer), Candidate(block: 2, op: .widen, channels: 4)],
                       "duplicates are dropped, order kept")
    }
}
