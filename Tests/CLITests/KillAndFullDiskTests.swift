import Foundation
import SECNNModel
import XCTest

/// A run killed at any moment leaves loadable checkpoints, and the next
/// start removes the temporary files killed writes left behind; a full disk
/// is an error that keeps the previous file.
final class KillAndFullDiskTests: XCTestCase {
    private func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = try CLI.executable("secnn")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func testSIGKILLAtRandomMomentsNeverLeavesABrokenCheckpoint() throws {
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        var generator = SystemRandomNumberGenerator()
        var kills = 0, checked = 0
        // Many short epochs: a checkpoint is written every few tens of milliseconds.
        var arguments = ["train", "--epochs", "100000", "--batch-size", "256", "--quiet", "--out", run.path]
        for attempt in 0..<22 {
            let process = try start(arguments)
            usleep(attempt == 0 ? 600_000 : UInt32.random(in: 100_000...500_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { kills += 1 }
            for name in ["last.safetensors", "best.safetensors"] {
                XCTAssertNoThrow(try Checkpoint(contentsOf: run.appendingPathComponent(name).path),
                                 "after kill \(attempt + 1): \(name) does not load")
                checked += 1
            }
            arguments = ["train", "--resume", run.path, "--quiet"]
        }
        XCTAssertGreaterThanOrEqual(kills, 20, "runs killed mid-flight")
        XCTAssertEqual(checked, 44)

        // A temporary file of a dead process (whatever the kills left, plus one planted for certain).
        let planted = run.appendingPathComponent(".last.safetensors.tmp-\(Int32.max - 7)-abc")
        XCTAssertTrue(FileManager.default.createFile(atPath: planted.path, contents: Data([1, 2, 3])))
        let next = try start(arguments)
        usleep(400_000)
        next.interrupt()  // Ctrl-C: a clean stop with a checkpoint
        next.waitUntilExit()
        XCTAssertEqual(next.terminationStatus, 130)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "the next start removed the stale temporary files")
        XCTAssertNoThrow(try Checkpoint(contentsOf: run.appendingPathComponent("last.safetensors").path))
    }

    func testAFullDiskIsAnErrorThatKeepsThePreviousCheckpoint() throws {
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        let first = try CLI.run("secnn", ["train", "--epochs", "1", "--quiet", "--out", run.path])
        XCTAssertEqual(first.status, 0, first.transcript)
        let last = run.appendingPathComponent("last.safetensors")
        let before = try Data(contentsOf: last)
        // A file-size limit below a checkpoint's size makes its write fail with EFBIG, as a full disk
        // fails with ENOSPC; SIGXFSZ is ignored so the write returns the error instead of killing.
        let script = "trap '' XFSZ; ulimit -f 16; exec \"$0\" \"$@\""
        let result = try CLI.run(executable: URL(fileURLWithPath: "/bin/sh"),
                                 ["-c", script, try CLI.executable("secnn").path, "train", "--epochs", "2", "--quiet",
                                  "--out", run.path])
        XCTAssertNotEqual(result.status, 0, result.transcript)
        XCTAssertTrue(result.stderr.contains("not written"), result.transcript)
        XCTAssertTrue(result.stderr.contains("last.safetensors") || result.stderr.contains("best.safetensors"),
                      result.transcript)
        XCTAssertEqual(try Data(contentsOf: last), before, "the previous checkpoint is intact")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.contains(".tmp-") }, [])
    }

    /// An output directory that exists but takes no files fails before the
    /// first epoch, found by a probe file (a path under a regular file:
    /// `CLITests.testOutputUnderARegularFileFailsBeforeTraining`).
    func testAnOutputDirectoryThatCannotBeWrittenFailsAtStartUp() throws {
        let scratch = try temporaryDirectory(self)
        // Read-only for everyone (sysfs) when the machine has it, else a
        // directory without write permission (which root would ignore).
        let readOnly: String
        if FileManager.default.fileExists(atPath: "/sys/kernel"), access("/sys/kernel", W_OK) != 0 || getuid() == 0 {
            readOnly = "/sys/kernel"
        } else {
            let locked = scratch.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o555])
            readOnly = locked.path
        }
        let refused = try CLI.run("secnn", ["train", "--epochs", "50", "--rule", "paper.lua", "--out", readOnly])
        XCTAssertEqual(refused.status, 1, refused.transcript)
        XCTAssertTrue(refused.stderr.contains("output directory \(readOnly) is not writable: "), refused.transcript)
        XCTAssertFalse(refused.stdout.contains("epoch"), refused.transcript)
    }
}
