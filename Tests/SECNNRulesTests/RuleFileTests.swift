import Foundation
import SECNNGrowth
import SECNNModel
import SECNNRules
import XCTest

/// What a rule file must return, and the settings it declares.
final class RuleFileTests: XCTestCase {
    private let decide = "decide = function(ctx) return nil end"

    func testDefaultsAndDeclaredSettings() throws {
        let plain = try rule("return { \(decide) }", name: "plain")
        XCTAssertEqual(plain.name, "plain", "the file name without .lua")
        XCTAssertEqual(plain.scoreMethod, .diag)
        XCTAssertEqual(plain.expansionLimits, ExpansionLimits(maxLayersPerBlock: 10, maxChannelsPerBlock: 1024))
        XCTAssertTrue(try plain.when(context()), "no when: always score")
        XCTAssertEqual(try plain.propose(context("16x1,24x2")), Candidate.all(blocks: 2, widenBy: 2))

        let declared = try rule("""
            return { name = "mine", score = "kfac", limits = { layers_per_block = 4, channels_per_block = 64.0 }, \(decide) }
            """)
        XCTAssertEqual(declared.name, "mine")
        XCTAssertEqual(declared.scoreMethod, .kfac)
        XCTAssertEqual(declared.expansionLimits, ExpansionLimits(maxLayersPerBlock: 4, maxChannelsPerBlock: 64))
        XCTAssertEqual(declared.displayPath, "rules/test.lua")
    }

    func testMalformedFilesNameTheProblem() {
        let cases = [
            "return 42": "the file returned a number; expected a table with decide(ctx) (see rules/README.md)",
            "local x = 1": "the file returned nil; expected a table with decide(ctx) (see rules/README.md)",
            "return { name = 'x' }": "the returned table has no decide; expected decide = function(ctx) ... end",
            "return { decide = 3 }": "decide is a number; expected a function",
            "return { \(decide), when = 'yes' }": "when is a string; expected a function",
            "return { \(decide), propose = {} }": "propose is a table; expected a function",
            "return { \(decide), name = 3 }": "name is 3; expected a non-empty string",
            "return { \(decide), name = '' }": "name is \"\"; expected a non-empty string",
            "return { \(decide), score = 'fisher' }": "score is \"fisher\"; expected \"diag\" or \"kfac\"",
            "return { \(decide), score = true }": "score is true; expected \"diag\" or \"kfac\"",
            "return { \(decide), limits = 5 }": "limits is a number; expected a table",
            "return { \(decide), limits = { layers_per_block = 0 } }":
                "limits.layers_per_block is 0; expected a positive integer",
            "return { \(decide), limits = { channels_per_block = 2.5 } }":
                "limits.channels_per_block is 2.5; expected a positive integer",
            "return { \(decide), limits = { layer_per_block = 3 } }":
                "limits has the key \"layer_per_block\"; expected only layers_per_block and channels_per_block",
        ]
        for (source, message) in cases.sorted(by: { $0.key < $1.key }) {
            assertRuleError(try rule(source), "rules/test.lua: \(message)")
        }
    }

    func testUnreadableFilesNameThePath() throws {
        assertRuleError(try Rule(named: "/nonexistent/mine.lua"), "/nonexistent/mine.lua: no such rule file")
        assertRuleError(try Rule(named: stockRulesDirectory.path),
                        "\(stockRulesDirectory.path): cannot read the rule file")
        // The start of a precompiled chunk: not text, so refused before Lua sees it.
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-\(UUID().uuidString).lua")
        try Data([0x1B, 0x4C, 0x75, 0x61, 0x54, 0x00, 0x19, 0x93, 0x0D, 0x0A]).write(to: binary)
        defer { try? FileManager.default.removeItem(at: binary) }
        assertRuleError(try Rule(named: binary.path), "\(binary.path): not UTF-8 text (rule files are Lua source)")
    }

    func testSyntaxErrorsCarryFileAndLine() {
        let error = assertRuleError(try rule("return {\n  decide = function(ctx) return nil end\n  when = 3\n}"),
                                    "rules/test.lua:3: '}' expected (to close '{' at line 1) near 'when'")
        XCTAssertNil(error?.traceback, "Lua reports syntax errors without running anything")
    }

    func testErrorsSpellOutLongPathsLuaAbbreviates() {
        let path = "experiments/" + String(repeating: "nested/", count: 10) + "mine.lua"
        assertRuleError(try Rule(source: "return {\n  decide = nil + 1 }", displayPath: path),
                        "\(path):2: attempt to perform arithmetic on a nil value")
    }
}
