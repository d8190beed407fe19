import Foundation
import SECNNGrowth
import SECNNModel
import SECNNRules
import XCTest

/// Hostile and broken rules: each failure is a `RuleError` naming the file
/// (and line where Lua knows it), never a crash or a hang, and the same rule
/// answers the next call.
final class SandboxTests: XCTestCase {
    private let limits = RuleLimits(instructionsPerCall: 1_000_000, memoryBytes: 8 << 20)

    func testEndlessLoopExceedsTheBudgetAndTheRuleRecovers() throws {
        let looping = try rule("""
            return {
              decide = function(ctx)
                while ctx.epoch == 1 do end
                return nil
              end,
            }
            """, name: "loop")
        assertRuleError(try looping.decide(context(epoch: 1)),
                        "rules/loop.lua:3: decide exceeded its budget of 1000000 instructions")
        XCTAssertNil(try looping.decide(context(epoch: 2)))
        assertRuleError(try looping.decide(context(epoch: 1)),
                        "rules/loop.lua:3: decide exceeded its budget of 1000000 instructions")
    }

    func testPcallCannotSwallowTheBudget() throws {
        let stubborn = try rule("""
            return {
              when = function(ctx)
                for attempt = 1, 3 do
                  pcall(function() while true do end end)
                end
                return true
              end,
              decide = function(ctx) return nil end,
            }
            """, name: "stubborn")
        // pcall catches the error raised in line 5; the next instruction (line 3's loop) raises it again.
        for _ in 0..<2 {
            assertRuleError(try stubborn.when(context()),
                            "rules/stubborn.lua:3: when exceeded its budget of 1000000 instructions")
        }
    }

    func testEndlessLoopAtLoadTime() {
        assertRuleError(try rule("local n = 0\nwhile true do n = n + 1 end", name: "loop"),
                        "rules/loop.lua:2: the file's top level exceeded its budget of 1000000 instructions")
    }

    func testMemoryBombsFailCleanlyAndTheRuleRecovers() throws {
        let bomb = try rule("""
            return {
              decide = function(ctx)
                if ctx.epoch == 1 then return string.rep("x", 1 << 30) end
                if ctx.epoch == 2 then
                  local hoard = {}
                  while true do hoard[#hoard + 1] = ("y"):rep(1000) .. #hoard end
                end
                return nil
              end,
            }
            """, name: "bomb", limits: limits)
        // One allocation past the cap and an eighth fails at once, inside
        // string.rep, where Lua gives no line; growing past the cap step by
        // step stops at the next instruction, with its line.
        let messages = [1: "rules/bomb.lua: decide: rule memory limit (8 MiB) exceeded",
                        2: "rules/bomb.lua:6: decide: rule memory limit (8 MiB) exceeded"]
        for epoch in [1, 2, 1, 2] {
            assertRuleError(try bomb.decide(context(epoch: epoch)), messages[epoch]!)
            XCTAssertNil(try bomb.decide(context(epoch: 3)), "after the bomb of epoch \(epoch)")
        }
        assertRuleError(try rule("local s = ('x'):rep(1 << 30)", name: "bomb", limits: limits),
                        "rules/bomb.lua: the file's top level: rule memory limit (8 MiB) exceeded")
    }

    func testPcallCannotSwallowTheMemoryLimit() throws {
        let stubborn = try rule("""
            return {
              decide = function(ctx)
                local caught = pcall(function() local t = {} while true do t[#t + 1] = {} end end)
                return nil
              end,
            }
            """, name: "stubborn", limits: limits)
        // pcall catches the error raised in line 3's loop; the next instruction, line 4's, raises it again.
        assertRuleError(try stubborn.decide(context()), "rules/stubborn.lua:4: decide: rule memory limit (8 MiB) exceeded")
    }

    /// The rule keeps its memory at the cap between calls: Swift still
    /// builds `ctx` (its pushes never fail, or the process would abort), and
    /// the rule's own next allocation fails instead.
    func testARuleHoldingItsWholeCapStillGetsItsContext() throws {
        let hoarder = try rule("""
            local hoard
            return {
              decide = function(ctx)
                if ctx.epoch == 1 then
                  while true do hoard = { hoard } end  -- small links: fills the cap to the last few bytes
                elseif ctx.epoch == 2 then
                  return nil
                end
                hoard = nil
                return { block = ctx.model.blocks[1].block, op = "layer" }
              end,
            }
            """, name: "hoarder", limits: limits)
        let scored = scores([(Candidate(block: 0, op: .layer), 120, 2_336)])
        assertRuleError(try hoarder.decide(context(epoch: 1)), "rules/hoarder.lua:5: decide: rule memory limit (8 MiB) exceeded")
        XCTAssertNil(try hoarder.decide(context(epoch: 2, scores: scored)), "a call that allocates nothing")
        XCTAssertEqual(try hoarder.decide(context(epoch: 3, scores: scored)), Candidate(block: 0, op: .layer),
                       "once the rule lets go of its hoard")
    }

    func testRunawayRecursionIsAnError() throws {
        let recursive = try rule("""
            local function deeper(n) return 1 + deeper(n + 1) end
            local function nested() pcall(nested); error("unwound", 0) end
            return { decide = function(ctx) return deeper(1) end, when = function(ctx) nested() end }
            """, name: "recursive", limits: limits)
        assertRuleError(try recursive.decide(context()), "rules/recursive.lua:", prefix: true)
        assertRuleError(try recursive.when(context()), "rules/recursive.lua: unwound")
    }

    func testDangerousGlobalsAreUnavailable() {
        let cases = [
            "io.open('/etc/passwd')": "io is not available to rules: it reads and writes files",
            "os.execute('true')": "os is not available to rules: it runs programs and reaches files, the clock and the environment",
            "require('os')": "require is not available to rules: it loads code, C libraries included, from disk",
            "package.loadlib('x', 'y')": "package is not available to rules: it loads code, C libraries included, from disk",
            "dofile('/etc/passwd')": "dofile is not available to rules: it runs files",
            "loadfile('/etc/passwd')": "loadfile is not available to rules: it reads files",
            "debug.sethook()": "debug is not available to rules: it reaches past every other limit (hooks, the registry, other functions' locals)",
            "collectgarbage('stop')": "collectgarbage is not available to rules: a rule that stopped the collector would run into its memory cap",
            "coroutine.wrap(print)": "coroutine is not available to rules: a rule runs to completion in each call",
            "undefined_helper()": "undeclared global 'undefined_helper'",
        ]
        for (call, message) in cases.sorted(by: { $0.key < $1.key }) {
            let hostile = try? rule("return {\n  decide = function(ctx)\n    \(call)\n  end,\n}", name: "hostile")
            assertRuleError(try hostile?.decide(context()), "rules/hostile.lua:3: \(message)")
            assertRuleError(try rule("local x = \(call)", name: "hostile"), "rules/hostile.lua:1: \(message)")
        }
    }

    func testBinaryChunksAreRefused() throws {
        let binary = "\u{1B}LuaT\u{0}\u{19}\u{93}\r\n\u{1A}\n\u{4}\u{8}\u{8}"
        assertRuleError(try rule(binary, name: "binary"),
                        "rules/binary.lua: attempt to load a binary chunk (mode is 't')")
        let loader = try rule("""
            return {
              when = function(ctx)
                local chunk, message = load(ctx.args.chunk, "=chunk", "b")
                assert(chunk == nil, "a binary chunk loaded")
                error(message, 0)
              end,
              decide = function(ctx) return nil end,
            }
            """, name: "loader")
        assertRuleError(try loader.when(context(args: ["chunk": binary])),
                        "rules/loader.lua: attempt to load a binary chunk (mode is 't')")
    }

    func testLoadCompilesTextIntoTheSandbox() throws {
        let loader = try rule("""
            return {
              when = function(ctx) return load("return 6 * 7")() == 42 and string.dump == nil and ("").dump == nil end,
              decide = function(ctx) return load("return io")() end,
            }
            """, name: "loader")
        XCTAssertTrue(try loader.when(context()), "load compiles text; string.dump is gone, also through the string metatable")
        assertRuleError(try loader.decide(context()), "rules/loader.lua: [string \"return io\"]:1: io is not available to rules: it reads and writes files")
    }

    func testFinalizersAreRefused() {
        assertRuleError(try rule("setmetatable({}, { __gc = function() while true do end end })", name: "finalizer"),
                        "rules/finalizer.lua:1: setmetatable: rules cannot set __gc finalizers")
    }

    func testRuntimeErrorsCarryFileLineAndTraceback() throws {
        let broken = try rule("""
            local function helper(ctx)
              return ctx.model.nothing.channels
            end
            return { decide = function(ctx) local block = helper(ctx); return block end }
            """, name: "broken")
        let error = assertRuleError(try broken.decide(context()),
                                    "rules/broken.lua:2: attempt to index a nil value (field 'nothing')")
        let traceback = error?.traceback ?? ""
        XCTAssertTrue(traceback.hasPrefix("stack traceback:"), traceback)
        XCTAssertTrue(traceback.contains("rules/broken.lua:2: in upvalue 'helper'"), traceback)
        XCTAssertTrue(traceback.contains("rules/broken.lua:4: in function <rules/broken.lua:4>"), traceback)
        XCTAssertEqual(error?.description, "\(error?.message ?? "")\n\(traceback)")
    }

    func testErrorObjectsThatAreNotStrings() throws {
        let thrower = try rule("""
            return {
              decide = function(ctx) error(setmetatable({}, { __tostring = function() while true do end end })) end,
              when = function(ctx) error(42) end,
            }
            """, name: "thrower")
        assertRuleError(try thrower.decide(context()), "rules/thrower.lua: (error object is a table value)")
        assertRuleError(try thrower.when(context()), "rules/thrower.lua: 42")  // error() adds no place to numbers
    }

    func testPrintWritesToStderrAfterTheRuleName() throws {
        let output = try capturingStandardError {
            let chatty = try rule("""
                print("loading", 1)
                return { name = "chatty", decide = function(ctx) print("epoch", ctx.epoch, nil) end }
                """, name: "chatty-file")
            _ = try chatty.decide(context(epoch: 7))
        }
        XCTAssertEqual(output, "chatty-file: loading\t1\nchatty: epoch\t7\tnil\n", "the file name until the rule has declared its name")
    }

    /// What `body` writes to file descriptor 2.
    private func capturingStandardError(_ body: () throws -> Void) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-stderr-\(UUID().uuidString)")
        try Data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let capture = try FileHandle(forWritingTo: url)
        let saved = dup(2)
        dup2(capture.fileDescriptor, 2)
        defer {
            dup2(saved, 2)
            close(saved)
        }
        try body()
        try capture.close()
        return try String(contentsOf: url, encoding: .utf8)
    }
}
