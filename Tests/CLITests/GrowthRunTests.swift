import Foundation
import XCTest

/// `secnn train --rule` end to end: growth, the ladder, export, rules edited
/// between runs, and rules that fail.
final class GrowthRunTests: XCTestCase {
    private struct LadderFile: Decodable {
        struct Rung: Decodable {
            var file: String, parameters: Int, architecture: String, epoch: Int
            var validationAccuracy: Double, testAccuracy: Double
        }
        var rungs: [Rung]
    }

    private func ladder(_ run: URL) throws -> LadderFile {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(LadderFile.self, from: Data(contentsOf: run.appendingPathComponent("ladder.json")))
    }

    private func writeRule(_ body: String, to url: URL) throws {
        try body.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A rule that always picks one fixed candidate (every epoch, no cooldown).
    private func alwaysRule(block: Int, op: String) -> String {
        """
        return {
          name = "always-\(op)-\(block)",
          propose = function(ctx)
            return { { block = \(block), op = "\(op)", channels = \(op == "widen" ? 2 : 0) } }
          end,
          decide = function(ctx) return ctx.candidates[1] end,
        }
        """
    }

    func testEditingTheRuleFileBetweenRunsChangesTheGrowth() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("mine.lua")
        var architectures: [[String]] = []
        for (name, block, op) in [("widen", 2, "widen"), ("layer", 1, "layer")] {
            try writeRule(alwaysRule(block: block, op: op), to: rule)
            let out = root.appendingPathComponent(name)
            let result = try CLI.run("secnn", ["train", "--epochs", "3", "--rule", rule.path, "--score-subset", "64",
                                               "--out", out.path])
            XCTAssertEqual(result.status, 0, result.transcript)
            XCTAssertEqual(result.values["expansions"], "2", result.transcript)
            XCTAssertEqual(result.values["rule"], "always-\(op)-\(block)")
            XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasPrefix("expand") }.count, 2, result.transcript)
            architectures.append(try ladder(out).rungs.map(\.architecture))
        }
        XCTAssertEqual(architectures[0], ["16x1,16x1,16x1", "16x1,16x1,18x1", "16x1,16x1,20x1"])
        XCTAssertEqual(architectures[1], ["16x1,16x1,16x1", "16x1,16x2,16x1", "16x1,16x3,16x1"])
    }

    func testARunRecordsItsConfigurationRuleMetricsAndRounds() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("every-other.lua")
        let source = """
            return {
              when = function(ctx) return ctx.epoch % 2 == 1 end,
              propose = function(ctx) return { { block = 2, op = "widen", channels = 2 } } end,
              decide = function(ctx) return ctx.candidates[1] end,
            }
            """
        try writeRule(source, to: rule)
        let out = root.appendingPathComponent("run")
        let result = try CLI.run("secnn", ["train", "--epochs", "4", "--rule", rule.path, "--score-subset", "32",
                                           "--out", out.path])
        XCTAssertEqual(result.status, 0, result.transcript)
        func text(_ name: String) throws -> String { try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8) }
        XCTAssertEqual(try text("rule.lua"), source)
        let config = try JSONSerialization.jsonObject(with: Data(try text("config.json").utf8)) as? [String: Any]
        XCTAssertEqual(config?["rule"] as? String, rule.path)
        XCTAssertEqual((config?["command_line"] as? [String])?.suffix(2), ["--out", out.path])
        XCTAssertEqual(config?["dataset"] as? String, "digits")
        XCTAssertEqual((config?["dataset_checksum"] as? String)?.count, 16)
        XCTAssertEqual(try text("metrics.jsonl").split(separator: "\n").count, 4)
        XCTAssertEqual(try text("metrics.csv").split(separator: "\n").count, 5, "header and 4 epochs")
        let outcomes = try text("events.jsonl").split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["outcome"] as? String
        }
        XCTAssertEqual(outcomes, ["expanded", "not_scored", "expanded"], "a round after every epoch but the last")
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(try text("events.jsonl").split(separator: "\n")[0].utf8)) as? [String: Any])
        let scores = try XCTUnwrap(first["scores"] as? [String: Any])
        let current = try XCTUnwrap((scores["current"] as? [String: Any])?["eta"] as? Double)
        let candidate = try XCTUnwrap(((scores["candidates"] as? [[String: Any]])?.first?["score"] as? [String: Any])?["eta"] as? Double)
        let ratio = try XCTUnwrap((first["ratios"] as? [Double])?.first)
        XCTAssertEqual(ratio, candidate / current, accuracy: 1e-12, "events.jsonl carries each candidate's ratio")
        let unbiased = try XCTUnwrap((scores["current"] as? [String: Any])?["unbiased_eta"] as? Double)
        XCTAssertLessThan(unbiased, current, "η less its sampling floor")

        // Every row carries the run's wall time so far, rising; summary.json the printed figures.
        let elapsed = try text("metrics.jsonl").split(separator: "\n").map {
            try XCTUnwrap((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["elapsed_s"] as? Double)
        }
        XCTAssertEqual(elapsed, elapsed.sorted())
        XCTAssertGreaterThan(elapsed[0], 0)
        // …and the model's compute: the widenings after epochs 1 and 3 show in the next rows, in both files.
        let flops = try text("metrics.jsonl").split(separator: "\n").map {
            try XCTUnwrap((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["flops"] as? Int)
        }
        XCTAssertLessThan(flops[0], flops[1])
        XCTAssertEqual(flops[1], flops[2])
        XCTAssertLessThan(flops[2], flops[3])
        let csv = try text("metrics.csv").split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let flopsColumn = try XCTUnwrap(csv[0].firstIndex(of: "flops"))
        XCTAssertEqual(csv.dropFirst().map { Int($0[flopsColumn]) }, flops)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try text("summary.json").utf8))
            as? [String: Any])
        XCTAssertEqual((summary["test_accuracy"] as? Double).map { String(format: "%.6g", $0) }, result.values["test_accuracy"])
        XCTAssertEqual(summary["arch"] as? String, result.values["arch"])
        XCTAssertEqual(summary["flops"] as? Int, Int(result.values["flops"] ?? ""))
        XCTAssertEqual(summary["flops"] as? Int, flops.last, "the last row's model is the one summarised")
        XCTAssertEqual(summary["expansions"] as? Int, 2)
        XCTAssertNil(summary["checkpoint"], "no machine paths in summary.json")
    }

    func testJSONAndQuietOutput() throws {
        let root = try temporaryDirectory(self)
        let json = try CLI.run("secnn", ["train", "--epochs", "3", "--rule", "budget.lua", "--rule-arg", "cooldown=1",
                                         "--score-subset", "32", "--json", "--out", root.appendingPathComponent("a").path])
        XCTAssertEqual(json.status, 0, json.transcript)
        let events = try json.stdout.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
        XCTAssertEqual(events.compactMap { $0["event"] as? String }.filter { $0 == "epoch" }.count, 3)
        XCTAssertEqual(events.compactMap { $0["event"] as? String }.filter { $0 == "round" }.count, 2)
        XCTAssertEqual(events.last?["event"] as? String, "summary")
        XCTAssertNotNil(events.last?["test_accuracy"] as? Double)
        let quiet = try CLI.run("secnn", ["train", "--epochs", "2", "--quiet", "--out", root.appendingPathComponent("b").path])
        XCTAssertEqual(quiet.status, 0, quiet.transcript)
        XCTAssertTrue(quiet.stdout.split(separator: "\n").allSatisfy { $0.contains("=") && !$0.contains(" ") },
                      "only key=value lines: \(quiet.stdout)")
    }

    func testSeededGrowthRunsAreBitIdentical() throws {
        let root = try temporaryDirectory(self)
        func run(_ name: String) throws -> (Data, String) {
            let out = root.appendingPathComponent(name)
            let result = try CLI.run("secnn", ["train", "--epochs", "4", "--seed", "5", "--rule", "budget.lua",
                                               "--rule-arg", "cooldown=1", "--rule-arg", "warmup=1", "--score-subset", "64",
                                               "--out", out.path])
            XCTAssertEqual(result.status, 0, result.transcript)
            return (try Data(contentsOf: out.appendingPathComponent("last.safetensors")), result.values["arch"] ?? "")
        }
        let (first, firstArch) = try run("a"), (second, secondArch) = try run("b")
        XCTAssertNotEqual(firstArch, "16x1,16x1,16x1", "the run grew")
        XCTAssertEqual(firstArch, secondArch)
        XCTAssertTrue(first == second, "two growth runs with seed 5 wrote different last.safetensors")
    }

    /// A rule that widens block 0 by 512 channels every epoch is stopped by the memory bound before its
    /// model is built (not by the kernel's OOM killer): the refusal names the expansion and the bound,
    /// events.jsonl keeps it, and the run finishes. By 1024 it never grows at all.
    func testMemoryBoundStopsARunawayRule() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("runaway.lua")
        try writeRule("""
            return {
              name = "runaway",
              propose = function(ctx) return { { block = 0, op = "widen", channels = 512 } } end,
              decide = function(ctx) return ctx.candidates[1] end,
            }
            """, to: rule)
        let out = root.appendingPathComponent("run")
        let result = try CLI.run("secnn", ["train", "--epochs", "3", "--rule", rule.path, "--score-subset", "32",
                                           "--max-memory", "512M", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertEqual(result.values["expansions"], "1", result.transcript)
        XCTAssertEqual(result.values["arch"], "528x1,16x1,16x1")
        XCTAssertTrue(result.stdout.contains("refused epoch 2  cannot widen block 0 by 512 channels: training "
                                             + "1040x1,16x1,16x1 at batch 512 would need about "), result.transcript)
        XCTAssertTrue(result.stdout.contains("MiB, past the bound of 512 MiB (--max-memory)"), result.transcript)
        let events = try String(contentsOf: out.appendingPathComponent("events.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let refused = try XCTUnwrap(((events[1]["scores"] as? [String: Any])?["refused"] as? [[String: Any]])?.first)
        XCTAssertTrue((refused["reason"] as? String)?.hasSuffix("(--max-memory)") == true, "\(refused)")
        let config = try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["max_memory"] as? Int, 1 << 29, "recorded for --resume")

        try writeRule("""
            return {
              propose = function(ctx) return { { block = 0, op = "widen", channels = 1024 } } end,
              decide = function(ctx) return ctx.candidates[1] end,
            }
            """, to: rule)
        let wider = try CLI.run("secnn", ["train", "--epochs", "2", "--rule", rule.path, "--score-subset", "32",
                                          "--max-memory", "512M", "--out", root.appendingPathComponent("wider").path])
        XCTAssertEqual(wider.status, 0, wider.transcript)
        XCTAssertEqual(wider.values["expansions"], "0", wider.transcript)
        XCTAssertTrue(wider.stdout.contains("refused epoch 1  cannot widen block 0 by 1024 channels: training "
                                            + "1040x1,16x1,16x1 at batch 512 would need about "), wider.transcript)

        let resumed = try CLI.run("secnn", ["train", "--resume", out.path, "--max-memory", "2G"])
        XCTAssertEqual(resumed.status, 64)
        XCTAssertTrue(resumed.stderr.contains("--max-memory does not go with it"), resumed.transcript)
    }

    func testLadderAndExportWithinABudget() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("grow.lua")
        try writeRule(alwaysRule(block: 0, op: "widen"), to: rule)
        let out = root.appendingPathComponent("run")
        let train = try CLI.run("secnn", ["train", "--epochs", "3", "--rule", rule.path, "--score-subset", "64",
                                          "--out", out.path])
        XCTAssertEqual(train.status, 0, train.transcript)
        let rungs = try ladder(out).rungs
        XCTAssertEqual(rungs.count, 3)
        XCTAssertEqual(rungs.map(\.parameters), rungs.map(\.parameters).sorted())
        for rung in rungs {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(rung.file).path), rung.file)
        }

        let list = try CLI.run("secnn", ["ladder", out.path])
        XCTAssertEqual(list.status, 0, list.transcript)
        for rung in rungs { XCTAssertTrue(list.stdout.contains(rung.architecture), list.transcript) }

        // ladder.json's keys are snake_case like the run's other files; `--json` prints the file.
        let file = out.appendingPathComponent("ladder.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        let keys = Set(try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["rungs"]
            as? [[String: Any]]).flatMap(\.keys))
        XCTAssertEqual(keys, ["architecture", "epoch", "file", "flops", "parameters", "test_accuracy", "validation_accuracy"])
        let json = try CLI.run("secnn", ["ladder", out.path, "--json"])
        XCTAssertEqual(json.status, 0, json.transcript)
        XCTAssertEqual(json.stdout, text)
        // A ladder written before (camelCase keys) still reads.
        try text.replacingOccurrences(of: "test_accuracy", with: "testAccuracy")
            .replacingOccurrences(of: "validation_accuracy", with: "validationAccuracy")
            .write(to: file, atomically: true, encoding: .utf8)
        let older = try CLI.run("secnn", ["ladder", out.path])
        XCTAssertEqual(older.stdout, list.stdout, older.transcript)

        let budget = rungs[1].parameters
        let exported = root.appendingPathComponent("small.safetensors")
        let export = try CLI.run("secnn", ["export", out.path, "--max-params", String(budget), "--out", exported.path])
        XCTAssertEqual(export.status, 0, export.transcript)
        let chosen = try XCTUnwrap(rungs.prefix(2).max { $0.validationAccuracy < $1.validationAccuracy })
        XCTAssertEqual(export.values["params"], String(chosen.parameters))
        let eval = try CLI.run("secnn", ["eval", exported.path])
        XCTAssertEqual(eval.status, 0, eval.transcript)
        let accuracy = try XCTUnwrap(eval.values["test_accuracy"].flatMap(Double.init))
        XCTAssertEqual(accuracy, chosen.testAccuracy, accuracy: 1e-6, "eval gives the accuracy the ladder lists (to the 6 digits it prints)")

        let none = try CLI.run("secnn", ["export", out.path, "--max-params", "100", "--out", exported.path])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no rung has at most 100 parameters"), none.transcript)
    }

    /// `secnn ladder RUN --finetune N`: every rung trains N more epochs at
    /// its own size; a rung never ends below where the run left it, and its
    /// fine-tuned checkpoint evaluates to the test accuracy listed.
    func testLadderFinetuneContinuesEveryRungAtItsSize() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("grow.lua")
        try writeRule(alwaysRule(block: 2, op: "widen"), to: rule)
        let out = root.appendingPathComponent("run")
        let train = try CLI.run("secnn", ["train", "--epochs", "3", "--rule", rule.path, "--score-subset", "64",
                                          "--quiet", "--out", out.path])
        XCTAssertEqual(train.status, 0, train.transcript)
        let rungs = try ladder(out).rungs
        let tuned = try CLI.run("secnn", ["ladder", out.path, "--finetune", "2"])
        XCTAssertEqual(tuned.status, 0, tuned.transcript)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("ladder-finetuned.json"))) as? [String: Any])
        let tunedRungs = try XCTUnwrap(json["rungs"] as? [[String: Any]])
        XCTAssertEqual(tunedRungs.count, rungs.count)
        for (rung, row) in zip(rungs, tunedRungs) {
            XCTAssertEqual(row["architecture"] as? String, rung.architecture)
            // (JSONSerialization and JSONDecoder may read the last digit differently.)
            let before = try XCTUnwrap(row["validation_accuracy_before"] as? Double)
            XCTAssertEqual(before, rung.validationAccuracy, accuracy: 1e-12)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(row["validation_accuracy"] as? Double), before)
            let folder = out.appendingPathComponent((try XCTUnwrap(row["file"] as? String) as NSString).deletingLastPathComponent)
            let epochs = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").count
            XCTAssertEqual(epochs, 2, "two more epochs at \(rung.architecture)")
            let eval = try CLI.run("secnn", ["eval", out.appendingPathComponent(row["file"] as! String).path])
            XCTAssertEqual(eval.values["arch"], rung.architecture, eval.transcript)
            XCTAssertEqual(try XCTUnwrap(eval.values["test_accuracy"].flatMap(Double.init)),
                           try XCTUnwrap(row["test_accuracy"] as? Double), accuracy: 1e-6)
        }
        XCTAssertEqual(tuned.stdout.split(separator: "\n").count, rungs.count + 1, "a header and a row per rung")
        let bad = try CLI.run("secnn", ["ladder", out.path, "--finetune", "0"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--finetune must be at least 1 epoch"), bad.transcript)
    }

    func testARuleThatFailsAtRunTimeIsReportedAndTheRunContinues() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("flaky.lua")
        // Fails in decide after epoch 1, works after epoch 2.
        try writeRule("""
            return {
              propose = function(ctx) return { { block = 0, op = "widen", channels = 2 } } end,
              decide = function(ctx)
                if ctx.epoch == 1 then error("not yet") end
                return ctx.candidates[1]
              end,
            }
            """, to: rule)
        let out = root.appendingPathComponent("run")
        let result = try CLI.run("secnn", ["train", "--epochs", "3", "--rule", rule.path, "--score-subset", "32",
                                           "--out", out.path])
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertTrue(result.stderr.contains("flaky.lua:4"), result.transcript)
        XCTAssertTrue(result.stderr.contains("not yet"), result.transcript)
        XCTAssertEqual(result.values["expansions"], "1", result.transcript)
    }

    func testARuleThatKeepsFailingStopsTheRunWithCheckpointsIntact() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("broken.lua")
        try writeRule("return { decide = function(ctx) return { block = 7, op = \"layer\" } end }", to: rule)
        let out = root.appendingPathComponent("run")
        let result = try CLI.run("secnn", ["train", "--epochs", "6", "--rule", rule.path, "--rule-failures", "2",
                                           "--score-subset", "32", "--out", out.path])
        XCTAssertEqual(result.status, 1, result.transcript)
        XCTAssertTrue(result.stderr.contains("failed 2 epochs in a row"), result.transcript)
        XCTAssertTrue(result.stderr.contains("block 7"), result.transcript)
        let eval = try CLI.run("secnn", ["eval", out.appendingPathComponent("last.safetensors").path])
        XCTAssertEqual(eval.status, 0, "the last checkpoint loads: \(eval.transcript)")
    }

    /// The wall-clock watchdog: a pathological pattern runs inside one C call, where the instruction budget is blind.
    func testARuleStuckInALibraryCallStopsTheRunResumably() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("stuck.lua")
        try writeRule("""
            return {
              propose = function(ctx) return { { block = 0, op = "layer" } } end,
              decide = function(ctx)
                string.find(string.rep("a", 40000), ".-.-.-.-b")
                return nil
              end,
            }
            """, to: rule)
        let out = root.appendingPathComponent("run")
        let start = Date()
        let result = try CLI.run("secnn", ["train", "--epochs", "3", "--rule", rule.path, "--rule-timeout", "1",
                                           "--score-subset", "32", "--out", out.path])
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        XCTAssertEqual(result.status, 3, result.transcript)
        XCTAssertTrue(result.stderr.contains("stuck.lua: decide ran for 1.0 s without returning"), result.transcript)
        XCTAssertTrue(result.stderr.contains("secnn train --resume \(out.path)"), result.transcript)
        let eval = try CLI.run("secnn", ["eval", out.appendingPathComponent("last.safetensors").path])
        XCTAssertEqual(eval.status, 0, "the checkpoint of the epoch before is intact: \(eval.transcript)")
    }

    func testARuleThatFailsToLoadStopsBeforeTraining() throws {
        let root = try temporaryDirectory(self)
        let rule = root.appendingPathComponent("syntax.lua")
        try writeRule("return {\n  decide = function(ctx) return nil end,\n  when = function(ctx) return true\n}", to: rule)
        let out = root.appendingPathComponent("run")
        let result = try CLI.run("secnn", ["train", "--epochs", "2", "--rule", rule.path, "--out", out.path])
        XCTAssertEqual(result.status, 1, result.transcript)
        XCTAssertTrue(result.stderr.contains("syntax.lua:"), result.transcript)
        XCTAssertFalse(result.stdout.contains("epoch 1/2"), "no training before the rule loads: \(result.transcript)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("last.safetensors").path))
    }

    func testStockRulesRunFromAnyDirectory() throws {
        let root = try temporaryDirectory(self)
        for rule in ["paper.lua", "kfac.lua", "budget.lua"] {
            let out = root.appendingPathComponent(rule)
            let result = try CLI.run("secnn", ["train", "--epochs", "2", "--rule", rule, "--score-subset", "32",
                                               "--out", out.path], directory: root)
            XCTAssertEqual(result.status, 0, "\(rule): \(result.transcript)")
            XCTAssertNotNil(result.values["expansions"], result.transcript)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("ladder.json").path))
        }
        let missing = try CLI.run("secnn", ["train", "--rule", "nope.lua", "--out", root.appendingPathComponent("x").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no stock rule of that name"), missing.transcript)
    }
}
