import Foundation
import SECNNGrowth
import SECNNRules
import XCTest

/// The dry run behind `check-rules`.
final class RuleCheckTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-rulecheck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    private func write(_ source: String, to name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testStockRulesPass() throws {
        for (file, args) in [("paper.lua", ["tau": "1.1"]), ("kfac.lua", ["tau": "1.1"]), ("budget.lua", ["budget": "15000"])] {
            let path = stockRulesDirectory.appendingPathComponent(file).path
            XCTAssertEqual(RuleCheck.check(path: path), [], file)
            XCTAssertEqual(RuleCheck.check(path: path, args: args), [], file)
        }
    }

    func testBrokenRuleIsReportedWithFileAndLine() throws {
        let path = try write("""
            return {
              propose = function(ctx)
                return { { block = 3, op = "layer" } }
              end,
              decide = function(ctx)
                local last = ctx.history[#ctx.history]
                return last.nothing.block
              end,
            }
            """, to: "broken.lua")
        XCTAssertEqual(RuleCheck.check(path: path), [
            "\(path):2: propose returned block 3, the model has 3 blocks (numbered from 0) [epoch 1/40, 16x1,16x1,16x1, 0 expansions so far]",
            "\(path):7: attempt to index a nil value (local 'last') [epoch 1/40, 16x1,16x1,16x1, 0 expansions so far]",
            "\(path):7: attempt to index a nil value (field 'nothing') [epoch 15/60, 16x2,18x1,16x1, 2 expansions so far]",
        ])
    }

    func testUnloadableRuleIsOneProblem() throws {
        let path = try write("return {\n  decide = function(ctx) return nil\n}", to: "syntax.lua")
        let problems = RuleCheck.check(path: path)
        XCTAssertEqual(problems.count, 1, "\(problems)")
        XCTAssertTrue(problems.first?.hasPrefix("\(path):3: 'end' expected (to close 'function' at line 2)") ?? false, "\(problems)")
        XCTAssertEqual(RuleCheck.check(path: directory.appendingPathComponent("missing.lua").path),
                       ["\(directory.appendingPathComponent("missing.lua").path): no such rule file"])
    }
}
