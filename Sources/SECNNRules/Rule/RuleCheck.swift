import SECNNModel

/// Dry-runs a rule file on canned contexts (`RuleCheck.Scenario`): `when`,
/// then `propose`, then `decide` on made-up but plausible scores of what it
/// proposed. For `swift package check-rules` and `secnn check-rules`: the
/// mistakes it finds would otherwise surface epochs into a training run.
public enum RuleCheck {
    /// Every problem as `file:line: message [the context]`, each once; empty
    /// when the rule loads and answers every context within the contract.
    /// All three functions run in every context, whatever `when` answers, so
    /// `decide` is exercised even by a rule that seldom scores.
    public static func check(path: String, args: [String: String] = [:]) -> [String] {
        let rule: Rule
        do {
            rule = try Rule(named: path, args: args)
        } catch {
            return [message(error)]
        }
        var problems: [String] = [], seen: Set<String> = []
        func record(_ error: Error, in scenario: Scenario) {
            let text = message(error)
            if seen.insert(text).inserted { problems.append("\(text) [\(scenario)]") }
        }
        for scenario in Scenario.all(args: args) {
            do { _ = try rule.when(scenario.context) } catch { record(error, in: scenario) }
            var proposed = Candidate.all(blocks: scenario.context.architecture.blocks.count,
                                         widenBy: Rule.defaultWidenChannels)
            do { proposed = try rule.propose(scenario.context) } catch { record(error, in: scenario) }
            do { _ = try rule.decide(scenario.scored(proposed, by: rule)) } catch { record(error, in: scenario) }
        }
        return problems
    }

    private static func message(_ error: Error) -> String {
        (error as? RuleError)?.message ?? "\(error)"
    }
}
