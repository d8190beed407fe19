import Foundation
import XCTest

/// Ctrl-C in the middle of a run writes a checkpoint and a hint; `--resume`
/// finishes the run exactly as if it had never stopped.
final class InterruptResumeTests: XCTestCase {
    /// Starts `secnn` with `arguments`, sends SIGINT once its stdout shows
    /// `marker`, and returns its exit status, stdout and stderr.
    private func interrupted(_ arguments: [String], after marker: String, in root: URL) throws -> (Int32, String, String) {
        let stdout = root.appendingPathComponent("interrupted.out"), stderr = root.appendingPathComponent("interrupted.err")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = try CLI.executable("secnn")
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline,
              !(try String(contentsOf: stdout, encoding: .utf8)).contains(marker) {
            usleep(20_000)
        }
        let signalled = Date()
        process.interrupt()
        process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5, "the run stops within 5 s of Ctrl-C")
        return (process.terminationStatus, try String(contentsOf: stdout, encoding: .utf8),
                try String(contentsOf: stderr, encoding: .utf8))
    }

    private func assertResumedRunMatchesUninterrupted(_ arguments: [String], files: [String]) throws {
        let root = try temporaryDirectory(self)
        let whole = root.appendingPathComponent("whole"), broken = root.appendingPathComponent("broken")
        let reference = try CLI.run("secnn", arguments + ["--out", whole.path])
        XCTAssertEqual(reference.status, 0, reference.transcript)

        let (status, stdout, stderr) = try interrupted(arguments + ["--out", broken.path], after: "epoch 3/", in: root)
        XCTAssertEqual(status, 130, "stdout: \(stdout)\nstderr: \(stderr)")
        XCTAssertTrue(stderr.contains("secnn train --resume \(broken.path)"), stderr)
        XCTAssertTrue(stderr.contains("interrupted in epoch"), stderr)
        let resumed = try CLI.run("secnn", ["train", "--resume", broken.path])
        XCTAssertEqual(resumed.status, 0, resumed.transcript)
        XCTAssertTrue(resumed.stdout.contains("resuming at epoch"), resumed.transcript)
        for file in files {
            let expected = try Data(contentsOf: whole.appendingPathComponent(file))
            XCTAssertTrue(try Data(contentsOf: broken.appendingPathComponent(file)) == expected,
                          "\(file) differs between the interrupted-and-resumed run and the uninterrupted one")
        }
        XCTAssertEqual(resumed.values["test_accuracy"], reference.values["test_accuracy"])
    }

    func testInterruptedTrainingResumesBitIdentically() throws {
        // Small batches: many steps per epoch, so the signal lands inside one.
        try assertResumedRunMatchesUninterrupted(
            ["train", "--epochs", "10", "--batch-size", "16", "--seed", "4"],
            files: ["last.safetensors", "best.safetensors"])
    }

    func testInterruptedGrowthRunResumesBitIdentically() throws {
        try assertResumedRunMatchesUninterrupted(
            ["train", "--epochs", "8", "--batch-size", "16", "--seed", "4", "--rule", "budget.lua",
             "--rule-arg", "cooldown=2", "--score-subset", "64"],
            files: ["last.safetensors", "best.safetensors", "ladder.json"])
    }

    /// Crops and the cosine rate come from the state alone, so they resume exactly too.
    func testInterruptedRunWithCropsSmoothingAndCosineResumesBitIdentically() throws {
        try assertResumedRunMatchesUninterrupted(
            ["train", "--epochs", "10", "--batch-size", "16", "--seed", "4", "--schedule", "cosine",
             "--crop-padding", "2", "--label-smoothing", "0.1"],
            files: ["last.safetensors", "best.safetensors"])
    }

    /// `--resume RUN --epochs N` extends a finished run: a 4-epoch growth run
    /// taken on to 7 is the 7-epoch run, checkpoints, events and ladder alike
    /// (its missed growth round after epoch 4 is held first).
    func testFinishedGrowthRunExtendsToTheLongerRun() throws {
        let root = try temporaryDirectory(self)
        let arguments = ["train", "--seed", "3", "--rule", "budget.lua", "--rule-arg", "warmup=1", "--rule-arg", "cooldown=2",
                         "--score-subset", "64", "--quiet"]
        let whole = root.appendingPathComponent("whole"), short = root.appendingPathComponent("short")
        let reference = try CLI.run("secnn", arguments + ["--epochs", "7", "--out", whole.path])
        XCTAssertEqual(reference.status, 0, reference.transcript)
        let first = try CLI.run("secnn", arguments + ["--epochs", "4", "--out", short.path])
        XCTAssertEqual(first.status, 0, first.transcript)
        // As if the run had begun before metrics.csv had a flops column (its 8th):
        // the extension keeps the file's own columns.
        let csv = short.appendingPathComponent("metrics.csv")
        let newRows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(newRows[0].split(separator: ",")[7], "flops")
        let oldRows = newRows.map {
            var fields = $0.split(separator: ",", omittingEmptySubsequences: false)
            fields.remove(at: 7)
            return fields.joined(separator: ",")
        }
        try (oldRows.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let extended = try CLI.run("secnn", ["train", "--resume", short.path, "--epochs", "7", "--quiet"])
        XCTAssertEqual(extended.status, 0, extended.transcript)
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 8, "header and 7 epochs")
        XCTAssertFalse(rows[0].contains("flops"))
        XCTAssertEqual(Set(rows.map { $0.split(separator: ",", omittingEmptySubsequences: false).count }), [10])
        XCTAssertEqual(extended.values["epochs"], "7")
        for file in ["last.safetensors", "best.safetensors", "ladder.json", "events.jsonl"] {
            XCTAssertTrue(try Data(contentsOf: short.appendingPathComponent(file))
                            == Data(contentsOf: whole.appendingPathComponent(file)), "\(file) differs from the 7-epoch run's")
        }
        XCTAssertEqual(extended.values["test_accuracy"], reference.values["test_accuracy"])
        let config = try String(contentsOf: short.appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"epochs\" : 7"), "config.json plans the new total: \(config)")
        XCTAssertGreaterThan(try XCTUnwrap(reference.values["expansions"].flatMap(Int.init)), 0, "the runs grew")

        let shorter = try CLI.run("secnn", ["train", "--resume", short.path, "--epochs", "5"])
        XCTAssertEqual(shorter.status, 64)
        XCTAssertTrue(shorter.stderr.contains("has already trained 7 epochs"), shorter.transcript)
    }

    func testResumeNamesWhatIsMissing() throws {
        let root = try temporaryDirectory(self)
        let result = try CLI.run("secnn", ["train", "--resume", root.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("config.json"), result.transcript)
        let mixed = try CLI.run("secnn", ["train", "--resume", root.path, "--rule", "paper.lua"])
        XCTAssertEqual(mixed.status, 64)
        XCTAssertTrue(mixed.stderr.contains("--resume continues a run with its own settings"), mixed.transcript)
        // The recipe flags the user gave, by name (flags left at their defaults go unmentioned).
        let recipe = try CLI.run("secnn", ["train", "--resume", root.path, "--crop-padding", "4",
                                           "--schedule", "cosine", "--label-smoothing", "0"])
        XCTAssertEqual(recipe.status, 64)
        XCTAssertTrue(recipe.stderr.contains("--crop-padding and --schedule do not go with it"), recipe.transcript)
        let others = try CLI.run("secnn", ["train", "--resume", root.path, "--lr", "0.01", "--seed", "2", "--epochs", "9"])
        XCTAssertEqual(others.status, 64)
        XCTAssertTrue(others.stderr.contains("--seed and --lr do not go with it"), others.transcript)
    }
}
