import Foundation
import XCTest

/// The programs in Examples/ run and do what their comments say.
final class ExamplesTests: XCTestCase {
    func testSwiftPolicyGrowsWithinItsBudgetAndInferReadsItsLadder() throws {
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        let policy = try CLI.run("swift-policy", [run.path])
        XCTAssertEqual(policy.status, 0, policy.transcript)
        let grown = policy.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        XCTAssertFalse(grown.isEmpty, "the Swift policy expanded: \(policy.transcript)")
        XCTAssertTrue(grown.allSatisfy { $0.contains("widen") }, policy.transcript)
        let final = try XCTUnwrap(policy.stdout.split(separator: "\n").first { $0.hasPrefix("final:") }, policy.transcript)
        let parameters = try XCTUnwrap(final.split(separator: " ").firstIndex(of: "with").map { Int(final.split(separator: " ")[$0 + 1]) } ?? nil)
        XCTAssertLessThanOrEqual(parameters, 8_000, "the budget holds: \(final)")

        let infer = try CLI.run("infer", [run.path])
        XCTAssertEqual(infer.status, 0, infer.transcript)
        let line = try XCTUnwrap(infer.stdout.split(separator: "\n").first { $0.hasPrefix("accuracy ") }, infer.transcript)
        let words = line.split(separator: " ")
        XCTAssertEqual(words[1], words.last?.dropLast(), "infer's accuracy equals the ladder's: \(line)")
    }

    func testGrowDigitsGrowsAndListsItsLadder() throws {
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        let result = try CLI.run("grow-digits", ["paper.lua", run.path])
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertTrue(result.stdout.contains("grew:"), result.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("ladder.json").path))
        let rungs = result.stdout.split(separator: "\n").filter { $0.contains(" parameters  ") }
        XCTAssertGreaterThanOrEqual(rungs.count, 2, result.transcript)
    }
}
