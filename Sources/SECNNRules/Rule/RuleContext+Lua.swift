import SECNNGrowth
import SECNNModel

extension RuleContext {
    /// The `ctx` table of `rules/README.md`. Blocks are numbered from 0, as
    /// everywhere else; `ctx.args` is `ruleArgs` with the context's own
    /// `args` over it.
    func luaValue(ruleArgs: [String: String]) -> LuaValue {
        let blocks = architecture.blocks.enumerated().map { index, block in
            LuaValue.record([
                "block": .integer(index), "channels": .integer(block.channels), "layers": .integer(block.layers),
            ])
        }
        let candidates = scores.map { report in
            report.candidates.map { Self.luaValue($0, current: report.current, architecture: architecture) }
        }
        var fields: [String: LuaValue] = [
            "epoch": .integer(epoch),
            "epochs": .integer(epochs),
            "model": .record([
                "params": .integer(architecture.parameterCount), "flops": .integer(architecture.multiplyAdds),
                "blocks": .array(blocks),
            ]),
            "candidates": .array(candidates ?? []),
            "history": .array(history.map(Self.luaValue)),
            "metrics": .array(metrics.map(Self.luaValue)),
            "limits": Self.luaValue(limits),
            "refused": .array((scores?.refused ?? []).map(Self.luaValue)),
            "args": .record(ruleArgs.merging(args) { $1 }.mapValues(LuaValue.init(argument:))),
        ]
        if let scores {
            var score: [String: LuaValue] = [
                "method": .string(scores.method), "value": .number(scores.current.eta),
                "params": .integer(scores.current.parameters), "per_param": .number(scores.current.perParameter),
            ]
            if let unbiased = scores.current.unbiasedEta { score["unbiased"] = .number(unbiased) }
            fields["score"] = .record(score)
        }
        return .record(fields)
    }

    /// A scored candidate, with its compute cost besides its size: the
    /// multiply-adds per image it adds (`delta_flops`, from the architecture
    /// it makes of `architecture`).
    private static func luaValue(_ scored: CandidateScore, current: NaturalScore,
                                 architecture: ArchitectureSpec) -> LuaValue {
        let flops = architecture.applying(scored.candidate).multiplyAdds
        var fields: [String: LuaValue] = [
            "block": .integer(scored.candidate.block), "op": .string(scored.candidate.op.rawValue),
            "channels": .integer(scored.candidate.channels), "score": .number(scored.score.eta),
            "ratio": .number(scored.ratio(over: current)), "delta_params": .integer(scored.deltaParameters),
            "params": .integer(scored.score.parameters), "per_param": .number(scored.score.perParameter),
            "flops": .integer(flops), "delta_flops": .integer(flops - architecture.multiplyAdds),
        ]
        if let unbiased = scored.score.unbiasedEta { fields["unbiased"] = .number(unbiased) }
        return .record(fields)
    }

    private static func luaValue(_ record: ExpansionRecord) -> LuaValue {
        .record([
            "epoch": .integer(record.epoch), "block": .integer(record.candidate.block),
            "op": .string(record.candidate.op.rawValue), "channels": .integer(record.candidate.channels),
            "params_before": .integer(record.parametersBefore), "params_after": .integer(record.parametersAfter),
            "ratio": .number(record.ratio), "architecture": .string(record.architecture),
        ])
    }

    /// Absent fields: no bound.
    private static func luaValue(_ limits: ExpansionLimits) -> LuaValue {
        var fields: [String: LuaValue] = ["layers_per_block": .integer(limits.maxLayersPerBlock)]
        if let channels = limits.maxChannelsPerBlock { fields["channels_per_block"] = .integer(channels) }
        if let parameters = limits.maxParameters { fields["max_params"] = .integer(parameters) }
        if let memory = limits.maxTrainingMemory { fields["max_memory"] = .integer(memory.bytes) }
        return .record(fields)
    }

    private static func luaValue(_ refused: RefusedCandidate) -> LuaValue {
        .record([
            "block": .integer(refused.candidate.block), "op": .string(refused.candidate.op.rawValue),
            "channels": .integer(refused.candidate.channels), "reason": .string(refused.reason),
        ])
    }

    private static func luaValue(_ metrics: EpochMetrics) -> LuaValue {
        .record([
            "epoch": .integer(metrics.epoch), "train_loss": .number(metrics.trainLoss),
            "train_accuracy": .number(metrics.trainAccuracy), "val_loss": .number(metrics.validationLoss),
            "val_accuracy": .number(metrics.validationAccuracy), "lr": .number(metrics.learningRate),
            "params": .integer(metrics.parameters),
        ])
    }
}
