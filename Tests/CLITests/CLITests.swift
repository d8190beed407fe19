import Foundation
import XCTest

/// End-to-end: the built `secnn` binary, its output and its exit codes.
final class CLITests: XCTestCase {
    /// `secnn train` on the embedded digits, and `secnn eval` of its best checkpoint.
    func testTrainDigitsThenEvalReportsTheSameTestAccuracy() throws {
        let out = try temporaryDirectory(self).appendingPathComponent("run")
        let train = try CLI.run("secnn", ["train", "--data", "digits", "--epochs", "3", "--out", out.path, "--seed", "1"])
        XCTAssertEqual(train.status, 0, train.transcript)

        let epochLines = train.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        XCTAssertEqual(epochLines.map { String($0.prefix(9)) }, ["epoch 1/3", "epoch 2/3", "epoch 3/3"], train.transcript)
        for line in epochLines {
            for key in ["loss=", "train_acc=", "val_loss=", "val_acc=", "lr=", "params=5736"] {
                XCTAssertTrue(line.contains(key), "epoch line lacks \(key): \(line)")
            }
        }

        let values = train.values
        XCTAssertEqual(values["params"], "5736", "digits (1x8x8) with 16x1,16x1,16x1")
        XCTAssertEqual(values["epochs"], "3")
        let accuracy = try XCTUnwrap(values["test_accuracy"].flatMap(Double.init), train.transcript)
        XCTAssertTrue((0...1).contains(accuracy), "test_accuracy \(accuracy) outside [0, 1]")
        let checkpoint = try XCTUnwrap(values["checkpoint"], train.transcript)
        XCTAssertEqual(URL(fileURLWithPath: checkpoint).standardizedFileURL,
                       out.appendingPathComponent("best.safetensors").standardizedFileURL)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), "checkpoint=\(checkpoint) does not exist")
        XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(values["last_checkpoint"])))

        let eval = try CLI.run("secnn", ["eval", checkpoint, "--data", "digits"])
        XCTAssertEqual(eval.status, 0, eval.transcript)
        XCTAssertEqual(eval.values["test_accuracy"], values["test_accuracy"], "eval must reproduce training's figure exactly")
        XCTAssertEqual(eval.values["test_loss"], values["test_loss"])
        XCTAssertEqual(eval.values["params"], "5736")
        XCTAssertEqual(eval.values["arch"], "16x1,16x1,16x1")
        XCTAssertEqual(eval.values["images"], "355", "the digits test split")
    }

    /// The same seed and thread count give the same file, byte for byte; another seed does not.
    func testSameSeedGivesBitIdenticalCheckpoints() throws {
        let root = try temporaryDirectory(self)
        func train(_ name: String, seed: Int) throws -> Data {
            let out = root.appendingPathComponent(name)
            let result = try CLI.run("secnn", ["train", "--epochs", "2", "--seed", String(seed), "--threads", "2",
                                               "--out", out.path])
            XCTAssertEqual(result.status, 0, result.transcript)
            return try Data(contentsOf: out.appendingPathComponent("best.safetensors"))
        }
        let first = try train("a", seed: 7), second = try train("b", seed: 7), other = try train("c", seed: 8)
        XCTAssertFalse(first.isEmpty)
        XCTAssertTrue(first == second, "two runs with seed 7 wrote different best.safetensors (\(first.count) and "
            + "\(second.count) bytes, first difference at byte \(zip(first, second).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1))")
        XCTAssertNotEqual(first, other, "seeds 7 and 8 wrote the same checkpoint")
    }

    /// The recipe options beside the paper's on digits: the cosine rate falls
    /// from --lr (epoch 1) to half of it (epoch 2 of 2 starts at t = ½), and
    /// config.json records the options.
    func testCosineScheduleWithCropsAndLabelSmoothing() throws {
        let out = try temporaryDirectory(self).appendingPathComponent("run")
        let train = try CLI.run("secnn", ["train", "--data", "digits", "--epochs", "2", "--seed", "1",
                                          "--schedule", "cosine", "--crop-padding", "2", "--label-smoothing", "0.1",
                                          "--out", out.path])
        XCTAssertEqual(train.status, 0, train.transcript)
        let rates = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { line -> Double in
                let row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return try XCTUnwrap((row["lr"] as? NSNumber)?.doubleValue, String(line))
            }
        XCTAssertEqual(rates.count, 2, train.transcript)
        XCTAssertEqual(rates.first ?? 0, 2e-3, accuracy: 1e-15)
        XCTAssertEqual(rates.last ?? 0, 1e-3, accuracy: 1e-15)
        XCTAssertLessThan(rates.last ?? 1, rates.first ?? 0, "epoch 2's rate is below epoch 1's")
        let config = try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8)
            .filter { !$0.isWhitespace }
        for fragment in [#""crop_padding":2"#, #""label_smoothing":0.1"#, #""schedule":"cosine""#] {
            XCTAssertTrue(config.contains(fragment), "config.json lacks \(fragment):\n\(config)")
        }
    }

    // MARK: - Bad input: exit codes and messages

    /// Usage errors exit 64 (EX_USAGE), run-time errors 1; both name the problem on stderr (`Error: …`).
    private func assertFails(_ arguments: [String], status: Int32, mentions fragments: [String],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLI.run("secnn", arguments)
        XCTAssertEqual(result.status, status, "secnn \(arguments.joined(separator: " "))\n\(result.transcript)",
                       file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(result.stderr.contains(fragment),
                          "stderr of secnn \(arguments.joined(separator: " ")) lacks \"\(fragment)\":\n\(result.stderr)",
                          file: file, line: line)
        }
        XCTAssertFalse(result.stdout.contains("test_accuracy="), "a failed run printed results", file: file, line: line)
    }

    func testMalformedArchitectureIsAUsageError() throws {
        let out = try temporaryDirectory(self).appendingPathComponent("run")
        try assertFails(["train", "--arch", "16x1,abc", "--out", out.path], status: 64,
                        mentions: ["--arch", "block 2 is 'abc'", "CHANNELSxLAYERS"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "a rejected run created its output directory")
    }

    func testArchitectureTooDeepForTheImagesIsAUsageError() throws {
        // Four blocks halve 8x8 digits to nothing.
        try assertFails(["train", "--arch", "8x1,8x1,8x1,8x1", "--out", try temporaryDirectory(self).path], status: 64,
                        mentions: ["--arch", "halve a 8x8 image to nothing"])
    }

    func testMissingCIFARDirectoryNamesThePath() throws {
        try assertFails(["train", "--data", "cifar10:/nonexistent", "--out", try temporaryDirectory(self).path],
                        status: 1, mentions: ["Error: ", "/nonexistent"])
    }

    func testUnknownDatasetIsAUsageError() throws {
        try assertFails(["train", "--data", "nosuch"], status: 64, mentions: ["unknown dataset \"nosuch\"", "cifar10:DIR"])
    }

    func testValidationSplitOutOfRangeIsAUsageError() throws {
        try assertFails(["train", "--val-split", "2"], status: 64, mentions: ["--val-split", "'2'"])
    }

    func testRecipeOptionsOutOfRangeAreUsageErrors() throws {
        try assertFails(["train", "--crop-padding=-1"], status: 64, mentions: ["--crop-padding", "-1"])
        try assertFails(["train", "--crop-padding", "17"], status: 64, mentions: ["--crop-padding", "17"])
        try assertFails(["train", "--label-smoothing", "1"], status: 64, mentions: ["--label-smoothing", "1.0"])
        try assertFails(["train", "--schedule", "linear"], status: 64, mentions: ["--schedule", "linear"])
    }

    func testZeroEpochsIsAUsageError() throws {
        let out = try temporaryDirectory(self).appendingPathComponent("run")
        try assertFails(["train", "--epochs", "0", "--out", out.path], status: 64, mentions: ["--epochs must be at least 1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    func testEvalOfMissingCheckpointNamesTheFile() throws {
        let missing = try temporaryDirectory(self).appendingPathComponent("absent.safetensors").path
        try assertFails(["eval", missing, "--data", "digits"], status: 1, mentions: ["Error: ", missing])
    }

    func testEvalOfTruncatedCheckpointNamesTheFileAndAnOffset() throws {
        let directory = try temporaryDirectory(self)
        let checkpoint = try trainedDigitsCheckpoint(in: directory)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        let truncated = directory.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: truncated)

        let result = try CLI.run("secnn", ["eval", truncated.path, "--data", "digits"])
        XCTAssertEqual(result.status, 1, result.transcript)
        XCTAssertTrue(result.stderr.contains(truncated.path), "the message names the file:\n\(result.stderr)")
        XCTAssertNotNil(result.stderr.range(of: #"offset \d+"#, options: .regularExpression),
                        "the message names an offset:\n\(result.stderr)")
    }

    func testEvalOfATextFileIsRejected() throws {
        let text = try temporaryDirectory(self).appendingPathComponent("notes.txt")
        try Data("These are not the weights you are looking for.\n".utf8).write(to: text)
        try assertFails(["eval", text.path, "--data", "digits"], status: 1, mentions: ["Error: ", text.path, "header"])
    }

    func testOutputUnderARegularFileFailsBeforeTraining() throws {
        let directory = try temporaryDirectory(self)
        let blocker = directory.appendingPathComponent("file")
        try Data("keep me\n".utf8).write(to: blocker)
        let result = try CLI.run("secnn", ["train", "--epochs", "1", "--out", blocker.appendingPathComponent("run").path])
        XCTAssertEqual(result.status, 1, result.transcript)
        XCTAssertTrue(result.stderr.contains(
            "output directory \(blocker.path)/run cannot be created: \(blocker.path) is a file, not a directory"), result.stderr)
        XCTAssertFalse(result.stdout.contains("epoch 1/1"), "training started:\n\(result.stdout)")
        XCTAssertEqual(try Data(contentsOf: blocker), Data("keep me\n".utf8), "the blocking file was changed")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["file"], "something was written")
    }

    // MARK: - bench, help

    func testBenchPrintsThroughputMemoryAndJSON() throws {
        let result = try CLI.run("secnn", ["bench", "--arch", "8x1,8x1", "--batch", "16", "--steps", "2", "--warmup", "0",
                                           "--threads", "1"])
        XCTAssertEqual(result.status, 0, result.transcript)
        let values = result.values
        for key in ["train_images_per_s", "eval_images_per_s", "peak_rss_mib"] {
            let value = try XCTUnwrap(values[key].flatMap(Double.init), "no numeric \(key)= in\n\(result.stdout)")
            XCTAssertGreaterThan(value, 0, key)
        }
        XCTAssertEqual(values["spec"], "8x1,8x1")
        XCTAssertEqual(values["batch"], "16")
        let last = try XCTUnwrap(result.stdout.split(separator: "\n").last)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
                                 "the last line is not a JSON object: \(last)")
        XCTAssertEqual(json["spec"] as? String, "8x1,8x1")
        XCTAssertEqual((json["batch"] as? NSNumber)?.intValue, 16)
        XCTAssertNotNil(json["train_images_per_s"] as? NSNumber, "train_images_per_s is a number in the JSON")
        XCTAssertNotNil(json["peak_rss_mib"] as? NSNumber)
    }

    func testHelpMentionsEveryTrainFlag() throws {
        let top = try CLI.run("secnn", ["--help"])
        XCTAssertEqual(top.status, 0, top.transcript)
        for subcommand in ["train", "eval", "bench", "version"] {
            XCTAssertTrue(top.stdout.contains(subcommand), "secnn --help does not list \(subcommand):\n\(top.stdout)")
        }
        let train = try CLI.run("secnn", ["train", "--help"])
        XCTAssertEqual(train.status, 0, train.transcript)
        for flag in ["--data", "--arch", "--epochs", "--seed", "--out", "--batch-size", "--lr", "--val-split",
                     "--threads", "--crop-padding", "--label-smoothing", "--schedule"] {
            XCTAssertTrue(train.stdout.contains(flag), "secnn train --help does not mention \(flag):\n\(train.stdout)")
        }
    }

    // MARK: - The example program

    /// `Examples/TrainDigits`, built as `train-digits` beside `secnn`.
    func testTrainDigitsExample() throws {
        let out = try temporaryDirectory(self).appendingPathComponent("example")
        let result = try CLI.run("train-digits", ["2", out.path])
        XCTAssertEqual(result.status, 0, result.transcript)
        let epochLines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        XCTAssertEqual(epochLines.count, 2, result.stdout)
        XCTAssertTrue(epochLines.first?.hasPrefix("epoch 1/2") == true, result.stdout)
        XCTAssertEqual(result.values["params"], "5736")
        let accuracy = try XCTUnwrap(result.values["test_accuracy"].flatMap(Double.init), result.stdout)
        XCTAssertTrue((0...1).contains(accuracy))
        XCTAssertEqual(result.values["checkpoint"], out.appendingPathComponent("best.safetensors").path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("best.safetensors").path))

        let usage = try CLI.run("train-digits", ["zero"])
        XCTAssertEqual(usage.status, 64, usage.transcript)
        XCTAssertTrue(usage.stderr.contains("usage: train-digits"), usage.stderr)
    }
}

/// Trains one epoch on digits into `directory/run` and returns `best.safetensors`.
func trainedDigitsCheckpoint(in directory: URL, seed: Int = 3) throws -> String {
    let out = directory.appendingPathComponent("run")
    let result = try CLI.run("secnn", ["train", "--epochs", "1", "--seed", String(seed), "--out", out.path])
    guard result.status == 0 else { throw CLIError("secnn train failed:\n\(result.transcript)") }
    return out.appendingPathComponent("best.safetensors").path
}
