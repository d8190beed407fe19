import CLua
import SECNNGrowth
import SECNNModel
import SECNNRules

/// The decoder of what a rule returns: a value built in a real sandboxed
/// state (`LuaValueProgram`), copied out across the boundary and checked as
/// `when`'s, `propose`'s and `decide`'s result for a model of 1 to 4 blocks.
/// What the checks accept must obey the contract the core relies on.
enum RuleDecisionFuzzing {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        guard let first = input.first else { return .rejected("empty input") }
        let blocks = 1 + Int(first % 4)
        let state: LuaState
        do { state = try LuaState(chunkName: "fuzz.lua", limits: RuleLimits(), printPrefix: "fuzz") } catch {
            preconditionFailure("cannot create a Lua state: \(error)")
        }
        var program = LuaValueProgram(input: input.dropFirst())
        program.build(on: state.state)
        let value = state.value(at: -1)
        secnn_lua_pop(state.state, 1)
        precondition(lua_gettop(state.state) == 0, "the copy left values on the stack")

        let returns = RuleReturns(file: "fuzz.lua", function: "decide", line: 1, blocks: blocks)
        let scored = Candidate.all(blocks: blocks, widenBy: 2)
        let outcomes: [FuzzOutcome] = [
            FuzzOutcome.of { _ = try returns.boolean(value) },
            FuzzOutcome.of {
                let candidates = try returns.candidates(value)
                precondition(Set(candidates).count == candidates.count, "duplicate candidates")
                for candidate in candidates { check(candidate, blocks: blocks) }
            },
            FuzzOutcome.of {
                if let candidate = try returns.decision(value, scored: scored) {
                    precondition(scored.contains(candidate), "decided on \(candidate), which was not scored")
                }
            },
        ]
        // Accepted by any of the three is an acceptance; otherwise the decision's error.
        return FuzzOutcome.accepted(byAnyOf: outcomes, else: outcomes[2])
    }

    private static func check(_ candidate: Candidate, blocks: Int) {
        precondition((0..<blocks).contains(candidate.block), "candidate block \(candidate.block) of \(blocks)")
        switch candidate.op {
        case .layer: precondition(candidate.channels == 0, "a layer candidate with channels")
        case .widen: precondition((1...RuleReturns.maxWidenChannels).contains(candidate.channels),
                                  "widening by \(candidate.channels) channels")
        }
    }
}
