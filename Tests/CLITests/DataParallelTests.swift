import Foundation
import SECNNModel
import XCTest
import _SECNNTestSupport

/// `mpirun -np 2 secnn …` on localhost against one process: the same
/// first step, the same scores, the same growth, and a job that ends
/// cleanly when one of its processes dies or fails.
final class DataParallelTests: XCTestCase {
    private static let mpirun = "/usr/bin/mpirun"

    /// `mpirun` with two processes of one thread each, as CI runs it (as root, on 2 cores).
    private func twoProcesses(_ arguments: [String], deadline: TimeInterval = 300) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: Self.mpirun) else {
            throw unavailable("Open MPI's mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
        }
        let secnn = try CLI.executable("secnn").path
        return try runWithDeadline(Self.mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", "2", secnn]
                                       + arguments + ["--threads", "1"], deadline: deadline)
    }

    private func oneProcess(_ arguments: [String]) throws -> CommandResult {
        let result = try CLI.run("secnn", arguments + ["--threads", "1"])
        XCTAssertEqual(result.status, 0, result.transcript)
        return result
    }

    /// Runs `path`, failing the test (and killing the job) if it has not ended by `deadline` seconds.
    private func runWithDeadline(_ path: String, _ arguments: [String], deadline: TimeInterval) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let scratch = try temporaryDirectory(self, "secnn-mpi-output")
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let end = Date().addingTimeInterval(deadline)
        while process.isRunning, Date() < end { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("\(path) \(arguments.joined(separator: " ")) did not end within \(deadline) s")
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                             stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    private func metrics(_ run: URL) throws -> [[String: Double]] {
        try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) }
    }

    func testTheFirstStepsLossAndGradientsAreOneProcesss() throws {
        let directory = try temporaryDirectory(self)
        let (alone, shared) = (directory.appendingPathComponent("alone"), directory.appendingPathComponent("shared"))
        // One batch holds the whole training set (1,298 digits): epoch 1 is one step, its loss the step's.
        let arguments = ["train", "--data", "digits", "--epochs", "1", "--batch-size", "2048", "--seed", "5"]
        _ = try oneProcess(arguments + ["--out", alone.path])
        let result = try twoProcesses(arguments + ["--out", shared.path])
        XCTAssertEqual(result.status, 0, result.transcript)

        let (lossAlone, lossShared) = (try metrics(alone)[0]["train_loss"]!, try metrics(shared)[0]["train_loss"]!)
        XCTAssertEqual(lossShared, lossAlone, accuracy: 1e-5 * lossAlone)
        // After one Adam step the first moment is (1 − β₁)·g: the step's gradient, tensor by tensor.
        let (a, b) = (try Checkpoint(contentsOf: alone.appendingPathComponent("last.safetensors").path),
                      try Checkpoint(contentsOf: shared.appendingPathComponent("last.safetensors").path))
        let (slotsAlone, slotsShared) = (try XCTUnwrap(a.optimizer?.slots), try XCTUnwrap(b.optimizer?.slots))
        XCTAssertEqual(Set(slotsAlone.keys), Set(a.network.parameterPaths))
        // Relative to the whole gradient's scale: some tensors' gradients vanish in exact arithmetic (a bias
        // before a batch norm), and what is left of them is rounding in either run.
        let scale = slotsAlone.values.flatMap(\.firstMoment).map(abs).max()!
        for (path, slot) in slotsAlone {
            let (g, h) = (slot.firstMoment, try XCTUnwrap(slotsShared[path]).firstMoment)
            XCTAssertGreaterThan(g.map(abs).max()!, 0, "\(path): no gradient")
            let worst = zip(g, h).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(path): gradients differ by \(worst) (largest \(scale))")
        }
        // Batch norm's running statistics come from the global batch too.
        for (x, y) in zip(a.network.state.tensor("blocks.0.layers.0.bn.running_var").scalars,
                          b.network.state.tensor("blocks.0.layers.0.bn.running_var").scalars) {
            XCTAssertEqual(y, x, accuracy: 1e-5 * x)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: shared.appendingPathComponent("config.json")))
        XCTAssertEqual((config as? [String: Any])?["processes"] as? Int, 2)
    }

    /// --no-sync-bn: each process normalises its own share, so the first step differs from one process's;
    /// the run records the choice and trains.
    func testPerProcessBatchNormIsAChoiceTheRunRecords() throws {
        let directory = try temporaryDirectory(self)
        let (synchronised, own) = (directory.appendingPathComponent("sync"), directory.appendingPathComponent("own"))
        let arguments = ["train", "--data", "digits", "--epochs", "3", "--batch-size", "256", "--seed", "5"]
        XCTAssertEqual(try twoProcesses(arguments + ["--out", synchronised.path]).status, 0)
        let result = try twoProcesses(arguments + ["--no-sync-bn", "--out", own.path])
        XCTAssertEqual(result.status, 0, result.transcript)
        let (a, b) = (try metrics(synchronised), try metrics(own))
        XCTAssertNotEqual(a[0]["train_loss"], b[0]["train_loss"], "shard statistics normalise differently")
        XCTAssertTrue(b.allSatisfy { $0["val_loss"]!.isFinite })
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: own.appendingPathComponent("config.json")))
        XCTAssertEqual((config as? [String: Any])?["sync_batch_norm"] as? Bool, false)
        let refused = try CLI.run("secnn", ["train", "--resume", own.path, "--no-sync-bn"])
        XCTAssertNotEqual(refused.status, 0, refused.transcript)
    }

    func testScoresAreOneProcesss() throws {
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        _ = try oneProcess(["train", "--data", "digits", "--epochs", "2", "--out", run.path])
        let checkpoint = run.appendingPathComponent("last.safetensors").path
        for method in ["diag", "kfac"] {
            let arguments = ["score", checkpoint, "--data", "digits", "--score", method, "--json"]
            let alone = try oneProcess(arguments), shared = try twoProcesses(arguments)
            XCTAssertEqual(shared.status, 0, shared.transcript)
            let (x, y) = (try scores(alone.stdout), try scores(shared.stdout))
            XCTAssertEqual(x.count, 7)
            XCTAssertEqual(x.count, y.count)
            for (s, t) in zip(x, y) { XCTAssertEqual(t, s, accuracy: 1e-5 * s, "\(method): \(x) against \(y)") }
        }
    }

    /// η_c, then every candidate's η, from `secnn score --json`.
    private func scores(_ json: String) throws -> [Double] {
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let candidates = try XCTUnwrap(report["candidates"] as? [[String: Any]])
        return [try XCTUnwrap(report["score"] as? Double)] + candidates.compactMap { $0["score"] as? Double }
    }

    func testAGrowthRunGrowsAsInOneProcessAndResumesInOne() throws {
        let directory = try temporaryDirectory(self)
        let (alone, shared) = (directory.appendingPathComponent("alone"), directory.appendingPathComponent("shared"))
        // Scored after every epoch, so that a short run grows several times.
        let arguments = ["train", "--data", "digits", "--epochs", "4", "--rule", "budget.lua",
                         "--rule-arg", "warmup=1", "--rule-arg", "cooldown=1"]
        _ = try oneProcess(arguments + ["--out", alone.path])
        let result = try twoProcesses(arguments + ["--out", shared.path])
        XCTAssertEqual(result.status, 0, result.transcript)

        let (grownAlone, grownShared) = (try expansions(alone), try expansions(shared))
        XCTAssertGreaterThanOrEqual(grownAlone.count, 2, "the one-process run should grow")
        XCTAssertEqual(grownShared, grownAlone)
        let (last, lastShared) = (try metrics(alone).last!, try metrics(shared).last!)
        XCTAssertEqual(lastShared["val_accuracy"]!, last["val_accuracy"]!, accuracy: 0.01)
        XCTAssertEqual(lastShared["params"], last["params"])
        // The run directory holds what a one-process run's does, written once.
        let files = { (run: URL) in Set(try FileManager.default.contentsOfDirectory(atPath: run.path)) }
        XCTAssertEqual(try files(shared), try files(alone))

        let resumed = try oneProcess(["train", "--resume", shared.path, "--epochs", "6"])
        XCTAssertEqual(resumed.values["epochs"], "6", resumed.transcript)
        XCTAssertEqual(try metrics(shared).count, 6)
    }

    /// Every expansion as (epoch, choice) from events.jsonl.
    private func expansions(_ run: URL) throws -> [String] {
        try String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { line -> String? in
                let event = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                guard event?["outcome"] as? String == "expanded", let choice = event?["choice"] as? [String: Any] else {
                    return nil
                }
                return "epoch \(event!["epoch"]!): \(choice["op"]!) block \(choice["block"]!) +\(choice["channels"]!)"
            }
    }

    func testAKilledProcessEndsTheJobWithACheckpointToResume() throws {
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        guard FileManager.default.isExecutableFile(atPath: Self.mpirun) else {
            throw unavailable("Open MPI's mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
        }
        let job = Thread { [self] in
            let result = try? twoProcesses(["train", "--data", "digits", "--epochs", "500", "--out", run.path])
            Self.record(result)
        }
        job.start()
        // Once an epoch has been written, kill process 1 mid-training.
        let metricsFile = run.appendingPathComponent("metrics.jsonl").path
        let start = Date()
        while (try? String(contentsOfFile: metricsFile, encoding: .utf8))?.contains("\n") != true {
            XCTAssertLessThan(Date().timeIntervalSince(start), 120, "the job never finished an epoch")
            usleep(50_000)
        }
        let victim = try XCTUnwrap(Self.process(rank: 1, commandContaining: run.path), "no process of rank 1")
        let killed = Date()
        kill(victim, SIGKILL)
        while Self.finished == nil, Date().timeIntervalSince(killed) < 30 { usleep(50_000) }
        let result = try XCTUnwrap(Self.finished, "the job did not end within 30 s of its process 1 being killed")
        XCTAssertLessThan(Date().timeIntervalSince(killed), 10)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue((result.stdout + result.stderr).contains("rank 1"), result.transcript)
        let evaluated = try CLI.run("secnn", ["eval", run.appendingPathComponent("last.safetensors").path,
                                              "--data", "digits"])
        XCTAssertEqual(evaluated.status, 0, evaluated.transcript)
    }

    nonisolated(unsafe) private static var finished: CommandResult?
    private static func record(_ result: CommandResult?) { finished = result }

    /// The pid of the MPI process of `rank` whose command line contains `text`.
    private static func process(rank: Int, commandContaining text: String) -> pid_t? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                  let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let words = String(decoding: command, as: UTF8.self).split(separator: "\0")
            guard words.first?.hasSuffix("secnn") == true, words.contains(where: { $0 == text }) else { continue }
            if String(decoding: environment, as: UTF8.self).split(separator: "\0")
                .contains(where: { $0 == "OMPI_COMM_WORLD_RANK=\(rank)" }) { return pid }
        }
        return nil
    }

    func testAProcessThatCannotReadTheDataEndsTheJobWithItsError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.mpirun) else {
            throw unavailable("Open MPI's mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
        }
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        let secnn = try CLI.executable("secnn").path
        // Process 1 alone is given a dataset that is not there; process 0 starts training and must not wait forever.
        let script = """
            if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then data=cifar10:/nonexistent-secnn-data; else data=digits; fi
            exec "\(secnn)" train --data "$data" --epochs 50 --threads 1 --out "\(run.path)"
            """
        let result = try runWithDeadline(Self.mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", "2",
                                                       "/bin/sh", "-c", script], deadline: 60)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("error: process 1 of 2: /nonexistent-secnn-data"), result.transcript)
    }
}
