import Foundation
import XCTest

/// `secnn score` end to end: the table, the JSON a rule's numbers come
/// from, and its errors.
final class ScoreCommandTests: XCTestCase {
    private struct Report: Decodable {
        struct Row: Decodable {
            var block: Int, op: String, channels: Int, score: Double, ratio: Double, score_per_param: Double
            var delta_params: Int, params: Int
        }
        var method: String, score: Double, score_per_param: Double, params: Int
        var candidates: [Row]
    }

    private func trainedCheckpoint() throws -> String {
        let out = try temporaryDirectory(self).appendingPathComponent("run")
        let train = try CLI.run("secnn", ["train", "--epochs", "3", "--seed", "2", "--out", out.path])
        XCTAssertEqual(train.status, 0, train.transcript)
        return out.appendingPathComponent("best.safetensors").path
    }

    func testScoreJSONHasEveryCandidateWithConsistentNumbers() throws {
        let checkpoint = try trainedCheckpoint()
        for method in ["diag", "kfac"] {
            let result = try CLI.run("secnn", ["score", checkpoint, "--score", method, "--subset", "200", "--widen", "4",
                                               "--json"])
            XCTAssertEqual(result.status, 0, result.transcript)
            let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
            XCTAssertEqual(report.method, method)
            XCTAssertEqual(report.params, 5736)
            XCTAssertTrue(report.score.isFinite && report.score > 0, "\(method): η_c = \(report.score)")
            XCTAssertEqual(report.score_per_param, report.score / 5736, accuracy: 1e-12)
            XCTAssertEqual(report.candidates.map { "\($0.block)\($0.op)" },
                           ["0layer", "0widen", "1layer", "1widen", "2layer", "2widen"])
            for row in report.candidates {
                XCTAssertTrue(row.score.isFinite && row.score > 0, "\(method) \(row.block) \(row.op): η = \(row.score)")
                XCTAssertEqual(row.ratio, row.score / report.score, accuracy: 1e-9 * row.ratio)
                XCTAssertEqual(row.params, 5736 + row.delta_params)
                XCTAssertEqual(row.channels, row.op == "widen" ? 4 : 0)
            }
            // 16 → 16 identity conv (no bias) and its batch norm's γ, β.
            XCTAssertEqual(report.candidates[0].delta_params, 16 * 16 * 9 + 2 * 16)
        }
    }

    func testTableAndSummaryMatchTheJSON() throws {
        let checkpoint = try trainedCheckpoint()
        let table = try CLI.run("secnn", ["score", checkpoint, "--subset", "64"])
        XCTAssertEqual(table.status, 0, table.transcript)
        XCTAssertEqual(table.values["params"], "5736")
        XCTAssertEqual(table.values["score"], "diag")
        let rows = table.stdout.split(separator: "\n").filter { $0.contains("layer") || $0.contains("widen") }
        XCTAssertEqual(rows.count, 6, table.transcript)
        let json = try CLI.run("secnn", ["score", checkpoint, "--subset", "64", "--json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        let summary = try XCTUnwrap(table.values["eta_c"].flatMap(Double.init))
        XCTAssertEqual(summary, report.score, accuracy: 1e-5 * report.score, "the same subset and seed give the same η_c")
    }

    func testProfilePrintsEveryPhase() throws {
        let checkpoint = try trainedCheckpoint()
        let result = try CLI.run("secnn", ["score", checkpoint, "--score", "kfac", "--subset", "64", "--profile"])
        XCTAssertEqual(result.status, 0, result.transcript)
        let phases = ["materialise", "forward", "backward", "conv_input_factor", "conv_output_factor",
                      "conv_gradient_moments", "other_layers", "solve"]
        let seconds = try phases.map { try XCTUnwrap(result.values["profile_\($0)_s"].flatMap(Double.init), $0) }
        XCTAssertTrue(seconds.allSatisfy { $0 > 0 }, result.transcript)
        let total = try XCTUnwrap(result.values["scoring_seconds"].flatMap(Double.init))
        XCTAssertLessThanOrEqual(seconds.reduce(0, +), total, result.transcript)
        let json = try CLI.run("secnn", ["score", checkpoint, "--json", "--profile"])
        XCTAssertEqual(json.status, 64)
        XCTAssertTrue(json.stderr.contains("--profile"), json.transcript)
    }

    func testBadInputIsNamed() throws {
        let missing = try CLI.run("secnn", ["score", "/nonexistent/best.safetensors"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/best.safetensors"), missing.transcript)
        let method = try CLI.run("secnn", ["score", "x.safetensors", "--score", "fisher"])
        XCTAssertEqual(method.status, 64)
        XCTAssertTrue(method.stderr.contains("fisher"), method.transcript)
        let subset = try CLI.run("secnn", ["score", "x.safetensors", "--subset", "0"])
        XCTAssertEqual(subset.status, 64)
        XCTAssertTrue(subset.stderr.contains("subset"), subset.transcript)
    }
}
