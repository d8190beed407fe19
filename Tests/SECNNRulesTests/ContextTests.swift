import SECNNGrowth
import SECNNModel
import SECNNRules
import XCTest

/// The `ctx` table a rule sees, field by field, checked by the rule itself
/// (a failed Lua assert names the field).
final class ContextTests: XCTestCase {
    func testEveryFieldReachesTheRule() throws {
        let metrics = EpochMetrics(epoch: 1, trainLoss: 1.5, trainAccuracy: 0.5, validationLoss: 1.25,
                                   validationAccuracy: 0.625, learningRate: 0.002, parameters: 9024)
        let record = ExpansionRecord(epoch: 1, candidate: Candidate(block: 1, op: .widen, channels: 2),
                                     parametersBefore: 9024, parametersAfter: 10_000, ratio: 2.5,
                                     architecture: "16x1,18x1,16x1")
        let context = RuleContext(
            epoch: 2, epochs: 40, architecture: try ArchitectureSpec(parsing: "16x1,18x1,16x2"),
            scores: scores(current: 100, parameters: 11_942, noiseFloor: 0.001,
                           [(Candidate(block: 2, op: .widen, channels: 4), 150, 600)]),
            history: [record], metrics: [metrics])
        XCTAssertEqual(context.architecture.parameterCount, 11_942)
        let checker = try rule("""
            local function check(actual, expected, what)
              assert(actual == expected, ("%s is %s, expected %s"):format(what, tostring(actual), tostring(expected)))
            end
            return {
              when = function(ctx)
                check(ctx.epoch, 2, "epoch"); check(ctx.epochs, 40, "epochs")
                check(ctx.model.params, 11942, "model.params"); check(#ctx.model.blocks, 3, "#model.blocks")
                local b = ctx.model.blocks[3]
                check(b.block, 2, "blocks[3].block"); check(b.channels, 16, "blocks[3].channels"); check(b.layers, 2, "blocks[3].layers")
                check(ctx.score.method, "diag", "score.method"); check(ctx.score.value, 100, "score.value")
                check(ctx.score.params, 11942, "score.params"); check(ctx.score.per_param, 100 / 11942, "score.per_param")
                check(ctx.score.unbiased, 100 - 0.001 * 11942, "score.unbiased")
                local c = ctx.candidates[1]
                check(#ctx.candidates, 1, "#candidates")
                check(c.block, 2, "c.block"); check(c.op, "widen", "c.op"); check(c.channels, 4, "c.channels")
                check(c.score, 150, "c.score"); check(c.ratio, 1.5, "c.ratio"); check(c.delta_params, 600, "c.delta_params")
                check(c.params, 12542, "c.params"); check(c.per_param, 150 / 12542, "c.per_param")
                check(c.unbiased, 150 - 0.001 * 12542, "c.unbiased")
                -- Multiply-adds per 32x32x3 image, counted by hand: the convs at 32², 16² and 8² pixels
                -- (16·3·9·1024 + 18·16·9·256 + (16·18 + 16·16)·9·64), the 1×1 mix over 16+16 channels
                -- at 4×4 (10·32·16), fc1 (20·160) and fc2 (10·20).
                check(ctx.model.flops, 442368 + 663552 + 313344 + 5120 + 3200 + 200, "model.flops")
                -- Widening block 2 to 20: (20·18 + 20·20)·9·64 and a mix over 16+20 channels.
                check(c.flops, 442368 + 663552 + 437760 + 5760 + 3200 + 200, "c.flops")
                check(c.delta_flops, c.flops - ctx.model.flops, "c.delta_flops")
                check(math.type(c.delta_flops), "integer", "math.type(c.delta_flops)")
                local h = ctx.history[1]
                check(h.epoch, 1, "h.epoch"); check(h.block, 1, "h.block"); check(h.op, "widen", "h.op")
                check(h.channels, 2, "h.channels"); check(h.params_before, 9024, "h.params_before")
                check(h.params_after, 10000, "h.params_after"); check(h.ratio, 2.5, "h.ratio")
                check(h.architecture, "16x1,18x1,16x1", "h.architecture")
                local m = ctx.metrics[1]
                check(m.epoch, 1, "m.epoch"); check(m.train_loss, 1.5, "m.train_loss"); check(m.train_accuracy, 0.5, "m.train_accuracy")
                check(m.val_loss, 1.25, "m.val_loss"); check(m.val_accuracy, 0.625, "m.val_accuracy")
                check(m.lr, 0.002, "m.lr"); check(m.params, 9024, "m.params")
                check(math.type(ctx.epoch), "integer", "math.type(epoch)")
                return true
              end,
              decide = function(ctx) return nil end,
            }
            """)
        XCTAssertTrue(try checker.when(context))
    }

    /// ctx.limits: the rule's per-block limits and the run's bounds (absent when there is none);
    /// ctx.refused: the candidates the bounds refused, with why.
    func testLimitsAndRefusedCandidatesReachTheRule() throws {
        var report = scores([(Candidate(block: 0, op: .layer), 150, 2336)])
        report.refused = [RefusedCandidate(candidate: Candidate(block: 1, op: .widen, channels: 512),
                                           reason: "past the bound")]
        let bounded = RuleContext(epoch: 2, epochs: 40, architecture: try ArchitectureSpec(parsing: "16x1,16x1,16x1"),
                                  scores: report,
                                  limits: ExpansionLimits(maxLayersPerBlock: 4, maxChannelsPerBlock: 64,
                                                          maxParameters: 20_000,
                                                          maxTrainingMemory: .init(bytes: 1 << 30, batchSize: 512)))
        let checker = try rule("""
            return {
              decide = function(ctx)
                local l, r = ctx.limits, ctx.refused
                assert(l.layers_per_block == 4 and l.channels_per_block == 64, "per-block limits")
                assert(l.max_params == 20000 and l.max_memory == 1 << 30, "the run's bounds")
                assert(#r == 1 and r[1].block == 1 and r[1].op == "widen" and r[1].channels == 512, "refused")
                assert(r[1].reason == "past the bound", "refused reason")
                assert(#ctx.candidates == 1, "a refused candidate is not among the scored")
                return nil
              end,
            }
            """)
        XCTAssertNil(try checker.decide(bounded))
        let unbounded = try rule("""
            return {
              decide = function(ctx)
                assert(ctx.limits.max_params == nil and ctx.limits.max_memory == nil, "no bounds: absent")
                assert(ctx.limits.channels_per_block == 1024, "the default channel bound")
                assert(#ctx.refused == 0, "nothing refused")
                return nil
              end,
            }
            """)
        XCTAssertNil(try unbounded.decide(try context(scores: scores([]))))
    }

    func testArgsArriveAsNumbersOrStringsInTheFileAndInCtx() throws {
        let source = """
            local args = ...
            local function kinds(a)
              return table.concat({ math.type(a.n), math.type(a.tau), type(a.label), tostring(a.label), tostring(a.tau) }, " ")
            end
            return {
              name = kinds(args),
              when = function(ctx) return kinds(ctx.args) == kinds(args) end,
              decide = function(ctx) error(ctx.args.label, 0) end,
            }
            """
        let args = ["n": "3", "tau": "1.5", "label": "0x1z"]
        let rule = try rule(source, args: args)
        XCTAssertEqual(rule.name, "integer float string 0x1z 1.5")
        XCTAssertTrue(try rule.when(context()), "ctx.args converts the same way")
        // RuleContext.args go over the rule's own.
        assertRuleError(try rule.decide(context(args: ["label": "from the context"])), "rules/test.lua: from the context")
    }

    func testCandidatesAndScoreAreAbsentBeforeScoring() throws {
        let rule = try rule("""
            return {
              propose = function(ctx)
                assert(ctx.score == nil and #ctx.candidates == 0 and #ctx.history == 0 and #ctx.metrics == 0)
                return { { block = #ctx.model.blocks - 1, op = "layer" } }
              end,
              decide = function(ctx) return nil end,
            }
            """)
        XCTAssertEqual(try rule.propose(context("16x1,16x1,16x1,16x1")), [Candidate(block: 3, op: .layer)],
                       "blocks are numbered from 0")
    }
}
