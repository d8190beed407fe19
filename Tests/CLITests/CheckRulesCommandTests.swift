import Foundation
import XCTest

/// `secnn check-rules` (what `swift package check-rules` runs).
final class CheckRulesCommandTests: XCTestCase {
    /// rules/ beside the package root.
    private var rulesFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("rules")
    }

    func testStockRulesAndTheExampleRulePass() throws {
        let examples = rulesFolder.deletingLastPathComponent().appendingPathComponent("Examples/Rules/plateau-depth.lua")
        let files = ["paper.lua", "kfac.lua", "budget.lua"].map { rulesFolder.appendingPathComponent($0).path }
            + [examples.path]
        let result = try CLI.run("secnn", ["check-rules"] + files)
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasPrefix("ok  ") }.count, 4, result.transcript)
    }

    /// Stock rules by name from any directory, as `secnn train --rule` finds them; the control rules that
    /// RESULTS.md's runs use pass too.
    func testStockRulesByNameFromAnyDirectoryAndTheControlRules() throws {
        let elsewhere = try temporaryDirectory(self)
        let byName = try CLI.run("secnn", ["check-rules", "paper.lua", "kfac", "budget.lua"], directory: elsewhere)
        XCTAssertEqual(byName.status, 0, byName.transcript)
        XCTAssertEqual(byName.stdout, "ok  paper.lua\nok  kfac\nok  budget.lua\n")
        let controls = rulesFolder.deletingLastPathComponent().appendingPathComponent("results/rules")
        let random = try CLI.run("secnn", ["check-rules", controls.appendingPathComponent("random.lua").path,
                                           "--rule-arg", "epochs=6,16", "--rule-arg", "seed=1",
                                           "--rule-arg", "widen_fraction=0.25"])
        XCTAssertEqual(random.status, 0, random.transcript)
        let matched = try CLI.run("secnn", ["check-rules", controls.appendingPathComponent("random.lua").path,
                                            "--rule-arg", "epochs=6,16", "--rule-arg", "sizes=628,2336"])
        XCTAssertEqual(matched.status, 0, matched.transcript)
        for rule in ["schedule.lua", "plateau.lua"] {
            let result = try CLI.run("secnn", ["check-rules", controls.appendingPathComponent(rule).path])
            XCTAssertEqual(result.status, 0, result.transcript)
        }
        let missing = try CLI.run("secnn", ["check-rules", "papers.lua"], directory: elsewhere)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stdout.contains("papers.lua: no such file, and no stock rule of that name"), missing.transcript)
    }

    /// The shipped binary's rule environment holds exactly the globals rules/README.md documents.
    func testTheShippedSandboxHasExactlyTheDocumentedGlobals() throws {
        let readme = try String(contentsOf: rulesFolder.appendingPathComponent("README.md"), encoding: .utf8)
        let documented = ["_G", "_VERSION", "assert", "error", "getmetatable", "ipairs", "load", "math", "next",
                          "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "select",
                          "setmetatable", "settings", "stock", "string", "table", "tonumber", "tostring", "type", "utf8",
                          "xpcall"]
        for name in documented { XCTAssertTrue(readme.contains("`\(name)`"), "rules/README.md lists `\(name)`") }
        let rule = try temporaryDirectory(self).appendingPathComponent("globals.lua")
        try """
            return {
              when = function(ctx)
                local names = {}
                for name in pairs(_G) do names[#names + 1] = name end
                table.sort(names)
                local found = table.concat(names, ",")
                if found ~= ctx.args.expected then error("globals: " .. found) end
                return true
              end,
              decide = function(ctx) return nil end,
            }
            """.write(to: rule, atomically: true, encoding: .utf8)
        let result = try CLI.run("secnn", ["check-rules", rule.path, "--rule-arg", "expected=" + documented.joined(separator: ",")])
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertTrue(result.stdout.contains("ok  "), result.transcript)
    }

    func testABrokenRuleIsReportedWithItsLine() throws {
        let rule = try temporaryDirectory(self).appendingPathComponent("broken.lua")
        try """
            return {
              decide = function(ctx)
                local best = nil
                for _, c in ipairs(ctx.candidates) do
                  if c.ratio > ctx.score.nope.value then best = c end
                end
                return best
              end,
            }
            """.write(to: rule, atomically: true, encoding: .utf8)
        let result = try CLI.run("secnn", ["check-rules", rule.path])
        XCTAssertEqual(result.status, 1, result.transcript)
        XCTAssertTrue(result.stdout.contains("broken.lua:5:"), result.transcript)
        XCTAssertFalse(result.stdout.contains("ok  "), result.transcript)
    }
}
