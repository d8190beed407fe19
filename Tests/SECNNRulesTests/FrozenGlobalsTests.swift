import SECNNGrowth
import SECNNModel
import SECNNRules
import XCTest

/// What a rule breaks in one call, the next call has intact: the standard
/// globals and the libraries cannot be replaced, and the environment holds
/// exactly the documented globals.
final class FrozenGlobalsTests: XCTestCase {
    /// `when` tries one act of vandalism (`attempt`); `propose` then needs the library intact.
    private func assertRefusedAndIntact(_ attempt: String, message: String, file: StaticString = #filePath,
                                        line: UInt = #line) throws {
        let rule = try Rule(source: """
            return {
              when = function(ctx)
                \(attempt)
                return true
              end,
              propose = function(ctx)
                assert(math.floor(2.5) == 2 and string.rep("a", 3) == "aaa" and ("x"):rep(2) == "xx")
                assert(type(pairs) == "function" and type(tostring) == "function" and table.concat({1, 2}) == "12")
                return { { block = math.floor(1.9), op = "layer" } }
              end,
              decide = function(ctx) return nil end,
            }
            """, displayPath: "rules/vandal.lua")
        let ctx = try context()
        XCTAssertThrowsError(try rule.when(ctx), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(message), "\(attempt): \(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains("rules/vandal.lua:3"), "\(error)", file: file, line: line)
        }
        XCTAssertEqual(try rule.propose(ctx), [Candidate(block: 1, op: .layer)], attempt, file: file, line: line)
    }

    func testLibrariesAndStandardGlobalsCannotBeReplaced() throws {
        try assertRefusedAndIntact("math.floor = function() return 0 end", message: "math.floor cannot be changed")
        try assertRefusedAndIntact("string.rep = nil", message: "string.rep cannot be changed")
        try assertRefusedAndIntact("table.concat = nil", message: "table.concat cannot be changed")
        try assertRefusedAndIntact("getmetatable('').__index.rep = nil", message: "attempt to index a boolean value")
        try assertRefusedAndIntact("pairs = nil", message: "pairs is a standard global")
        try assertRefusedAndIntact("math = {}", message: "math is a standard global")
        try assertRefusedAndIntact("rawset(_G, 'tostring', print)", message: "tostring is a standard global")
        try assertRefusedAndIntact("setmetatable(_G, {})", message: "cannot change a protected metatable")
    }

    func testARulesOwnGlobalsWorkAsUsual() throws {
        let rule = try Rule(source: """
            count = 0
            function bump() count = count + 1; return count end
            return {
              when = function(ctx) return bump() >= 2 end,
              decide = function(ctx) return nil end,
            }
            """, displayPath: "rules/counter.lua")
        XCTAssertFalse(try rule.when(try context()))
        XCTAssertTrue(try rule.when(try context()), "the rule's own global keeps its value between calls")
    }

    // The exact set of globals is checked on the shipped binary, against rules/README.md
    // (CheckRulesCommandTests.testTheShippedSandboxHasExactlyTheDocumentedGlobals).

    /// settings(): defaults, overrides of the same type, and errors that name the rule's line and its settings.
    func testSettingsTakeOverridesAndRefuseUnknownNames() throws {
        let source = """
            local S = settings(..., { tau = 1.3, label = "a" })
            return { name = ("%s %s"):format(S.tau, S.label), decide = function(ctx) return nil end }
            """
        XCTAssertEqual(try rule(source).name, "1.3 a")
        XCTAssertEqual(try rule(source, args: ["tau": "2", "label": "b"]).name, "2 b")
        assertRuleError(try rule(source, args: ["tua": "1.2"]),
                        "rules/test.lua:1: --rule-arg tua=1.2: the rule has no such setting (its settings: label, tau)")
        assertRuleError(try rule(source, args: ["tau": "high"]), "rules/test.lua:1: --rule-arg tau=high: expected a number")
    }

    /// stock(): a stock rule's table, run with the arguments given, to derive a rule from.
    func testStockLoadsAStockRuleToDeriveFrom() throws {
        let derived = try rule("""
            local rule = stock("paper.lua", ...)
            rule.name = "mine"
            return rule
            """, args: ["tau": "1.1"])
        XCTAssertEqual(derived.name, "mine")
        XCTAssertEqual(derived.expansionLimits.maxLayersPerBlock, 10)
        // An error inside the stock rule names the derived rule, then where in the stock one.
        assertRuleError(try rule("local r = stock('paper.lua', { tua = 1 })\nreturn r"),
                        "rules/test.lua: rules/paper.lua (built in):22: --rule-arg tua=1: the rule has no such setting "
                            + "(its settings: cooldown, lambda, large_block, max_layers, tau, warmup, widen_large, widen_small)")
        assertRuleError(try rule("local r = stock('papers.lua')\nreturn r"),
                        "rules/test.lua:1: stock: no stock rule papers.lua (stock rules: budget.lua, kfac.lua, paper.lua)")
    }
}
