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
