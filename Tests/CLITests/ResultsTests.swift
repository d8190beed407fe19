import Foundation
import XCTest
import _SECNNTestSupport

/// `results/make_results.py`, the generator of RESULTS.md: on a small
/// fixture of real runs (a growth run with two seeds, its K-FAC twin and a fixed one on digits) its tables
/// carry the runs' own figures, and regenerating gives the same bytes; on
/// the committed results/ it reproduces the committed RESULTS.md.
final class ResultsTests: XCTestCase {
    private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    private static let script = repository.appendingPathComponent("results/make_results.py")

    /// Debian's Python with matplotlib (`make test` installs python3-matplotlib).
    private func python() throws -> URL {
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        let probe = try CLI.run(executable: python, ["-c", "import matplotlib"])
        guard probe.status == 0 else {
            throw unavailable("/usr/bin/python3 cannot import matplotlib: `apt-get install -y python3-matplotlib` "
                          + "(make test installs it) to regenerate RESULTS.md")
        }
        return python
    }

    private func generate(_ python: URL, runs: URL, out: URL, plots: URL) throws -> CommandResult {
        try CLI.run(executable: python, [Self.script.path, "--runs", runs.path, "--out", out.path, "--plots", plots.path])
    }

    func testTablesCarryTheRunsFiguresAndRegenerateIdentically() throws {
        let python = try python()
        let root = try temporaryDirectory(self)
        let runs = root.appendingPathComponent("runs/digits")
        let policy = ["--rule-arg", "warmup=1", "--rule-arg", "cooldown=2", "--rule-arg", "tau=1.05"]
        let growth = ["--rule", "paper.lua"] + policy
        for (name, arguments) in [("grown", growth), ("grown-seed-1", growth + ["--seed", "1"]),
                                  ("grown-kfac", ["--rule", "kfac.lua"] + policy), ("fixed", ["--arch", "16x1,16x1,16x1"])] {
            let train = try CLI.run("secnn", ["train", "--epochs", "6", "--score-subset", "64", "--quiet", "--out",
                                              runs.appendingPathComponent(name).path] + arguments)
            XCTAssertEqual(train.status, 0, train.transcript)
        }
        // An intermediate rung's architecture from scratch: the rung beside what its size can do.
        let ladder = try JSONSerialization.jsonObject(
            with: Data(contentsOf: runs.appendingPathComponent("grown/ladder.json"))) as! [String: Any]
        let rungs = ladder["rungs"] as! [[String: Any]]
        XCTAssertGreaterThan(rungs.count, 2, "the fixture run grew at least twice")
        let rung = rungs[1], rungArchitecture = rung["architecture"] as! String
        let scratch = try CLI.run("secnn", ["train", "--epochs", "6", "--score-subset", "64", "--quiet", "--arch", rungArchitecture,
                                            "--out", runs.appendingPathComponent("rung-2-scratch").path])
        XCTAssertEqual(scratch.status, 0, scratch.transcript)
        let out = root.appendingPathComponent("RESULTS.md"), plots = root.appendingPathComponent("plots")
        let first = try generate(python, runs: root.appendingPathComponent("runs"), out: out, plots: plots)
        XCTAssertEqual(first.status, 0, first.transcript)
        let text = try String(contentsOf: out, encoding: .utf8)

        for name in ["grown", "fixed"] {
            let run = runs.appendingPathComponent(name)
            let rows = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            // The first epoch with the best validation accuracy.
            let best = rows.reduce(rows[0]) { ($1["val_accuracy"] as! Double) > ($0["val_accuracy"] as! Double) ? $1 : $0 }
            let summary = try JSONSerialization.jsonObject(
                with: Data(contentsOf: run.appendingPathComponent("summary.json"))) as! [String: Any]
            let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("| `\(name)` |") }, text)
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            XCTAssertEqual(cells[5], "6", "epochs")
            XCTAssertEqual(cells[11], String(format: "%.1f%%", 100 * (best["val_accuracy"] as! Double)), "best accuracy")
            XCTAssertEqual(cells[12], grouped(best["params"] as! Int), "params at best")
            XCTAssertEqual(cells[13], String(format: "%.1f%%", 100 * (summary["test_accuracy"] as! Double)))
            XCTAssertEqual(cells[14], "`\(summary["arch"] as! String)`")
        }
        XCTAssertTrue(text.contains("**`grown`**"), "a ladder table for the growth run")
        XCTAssertFalse(text.contains("**`fixed`**"), "none for the fixed run")
        let comparison = try XCTUnwrap(text.components(separatedBy: "### Growth against fixed architectures (digits)").last)
        XCTAssertTrue(comparison.contains("| `grown` | grown |") && comparison.contains("| `fixed` |"),
                      "the growth run beside the fixed one")
        let rungRow = String(format: "| `grown` | rung 2 | `%@` | %@ |", rungArchitecture, grouped(rung["parameters"] as! Int))
        XCTAssertTrue(comparison.contains(rungRow), "\(rungRow) in\n\(comparison)")
        XCTAssertTrue(comparison.contains("| `rung-2-scratch` | its rung 2's architecture | `\(rungArchitecture)` |"), comparison)
        // The start architecture from scratch, for as many epochs: the grown run's best less its best.
        let (grownBest, fixedBest) = try (bestAccuracy(of: runs.appendingPathComponent("grown")),
                                          bestAccuracy(of: runs.appendingPathComponent("fixed")))
        let fixedRow = try XCTUnwrap(comparison.split(separator: "\n").first { $0.hasPrefix("| `fixed` | its start architecture |") },
                                     comparison)
        XCTAssertTrue(fixedRow.hasSuffix(String(format: "| %+.1f |", 100 * (grownBest - fixedBest))), String(fixedRow))
        // The two seeds of the growth run side by side: their best accuracies, mean and spread.
        let bests = try ["grown", "grown-seed-1"].map { try bestAccuracy(of: runs.appendingPathComponent($0)) }
        let seeds = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("| paper.lua | paper | held out | 6 |") },
                                  text)
        let seedCells = seeds.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(seedCells[4], "0, 1")
        XCTAssertEqual(seedCells[5], bests.map { String(format: "%.1f%%", 100 * $0) }.joined(separator: ", "))
        XCTAssertEqual(seedCells[6], String(format: "%.1f%%", 100 * (bests[0] + bests[1]) / 2))
        XCTAssertEqual(seedCells[7], String(format: "%.1f", 100 * abs(bests[0] - bests[1])))
        // The K-FAC run beside its diagonal twin: each with what its events say it grew.
        let kfacTable = try XCTUnwrap(text.components(separatedBy: "### Diagonal against K-FAC (digits)").last)
        for (name, method) in [("grown", "diag"), ("grown-kfac", "kfac")] {
            let events = try self.events(of: runs.appendingPathComponent(name))
            let grown = events.filter { $0["outcome"] as? String == "expanded" }.map { event -> String in
                let choice = event["choice"] as! [String: Any]
                let block = choice["block"] as! Int
                return "\(event["epoch"] as! Int): " + (choice["op"] as! String == "layer"
                    ? "layer \(block)" : "+\(choice["channels"] as! Int) ch \(block)")
            }
            XCTAssertTrue(kfacTable.contains("| 0 | `\(name)` | \(method) | \(grown.isEmpty ? "—" : grown.joined(separator: ", ")) |"),
                          "\(name): \(grown) in\n\(kfacTable)")
        }
        // What the score ranked first at each scored epoch, against what the rule applied.
        let events = try self.events(of: runs.appendingPathComponent("grown"))
        let scored = events.filter { $0["scores"] != nil && ($0["ratios"] as? [Double])?.isEmpty == false }
        let firsts = scored.map { event -> String in
            let ratios = event["ratios"] as! [Double]
            let candidates = (event["scores"] as! [String: Any])["candidates"] as! [[String: Any]]
            return kind(candidates[ratios.firstIndex(of: ratios.max()!)!]["candidate"] as! [String: Any])
        }
        let applied = events.filter { $0["outcome"] as? String == "expanded" }.map { kind($0["choice"] as! [String: Any]) }
        XCTAssertFalse(applied.isEmpty)
        let preferenceRow = "| `grown` | paper.lua | diag | \(scored.count) | \(counted(firsts)) | \(counted(applied)) |"
        XCTAssertTrue(text.contains(preferenceRow), "\(preferenceRow) in\n\(text)")
        for plot in ["digits-accuracy-vs-params.png", "digits-accuracy-vs-flops.png"] {
            let bytes = try Data(contentsOf: plots.appendingPathComponent(plot))
            XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(plot) is a PNG")
            XCTAssertTrue(text.contains("(plots/\(plot))"), "RESULTS.md shows \(plot)")
        }

        // The same directories give the same bytes.
        let again = root.appendingPathComponent("again"), againPlots = again.appendingPathComponent("plots")
        try FileManager.default.createDirectory(at: again, withIntermediateDirectories: true)
        let second = try generate(python, runs: root.appendingPathComponent("runs"),
                                  out: again.appendingPathComponent("RESULTS.md"), plots: againPlots)
        XCTAssertEqual(second.status, 0, second.transcript)
        XCTAssertEqual(try Data(contentsOf: again.appendingPathComponent("RESULTS.md")), try Data(contentsOf: out))
        for plot in ["digits-accuracy-vs-params.png", "digits-accuracy-vs-flops.png"] {
            XCTAssertEqual(try Data(contentsOf: againPlots.appendingPathComponent(plot)),
                           try Data(contentsOf: plots.appendingPathComponent(plot)), plot)
        }
    }

    private func bestAccuracy(of run: URL) throws -> Double {
        try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            .map { $0["val_accuracy"] as! Double }.max()!
    }

    private func events(of run: URL) throws -> [[String: Any]] {
        try String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// A candidate by what it does and where: "layer 0", "widen 2".
    private func kind(_ candidate: [String: Any]) -> String {
        "\(candidate["op"] as! String) \(candidate["block"] as! Int)"
    }

    /// "label: count, …", the most frequent first, ties by label.
    private func counted(_ labels: [String]) -> String {
        Dictionary(labels.map { ($0, 1) }, uniquingKeysWith: +).sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            .map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }

    /// 12345 → "12,345".
    private func grouped(_ value: Int) -> String {
        let digits = String(value)
        return digits.enumerated().map { index, digit in
            (index > 0 && (digits.count - index) % 3 == 0 ? "," : "") + String(digit)
        }.joined()
    }

    /// RESULTS.md is generated, not typed: regenerating it from results/ gives the committed file.
    func testCommittedResultsRegenerateExactly() throws {
        let python = try python()
        let root = try temporaryDirectory(self)
        let out = root.appendingPathComponent("RESULTS.md"), plots = root.appendingPathComponent("results/plots")
        let result = try generate(python, runs: Self.repository.appendingPathComponent("results"), out: out, plots: plots)
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8),
                       try String(contentsOf: Self.repository.appendingPathComponent("RESULTS.md"), encoding: .utf8),
                       "RESULTS.md differs from what results/make_results.py writes: run `make results`")
    }
}
