import ArgumentParser
import SECNNRules

struct CheckRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-rules",
        abstract: "Load growth rules in the sandbox and dry-run them on canned contexts.",
        discussion: "Reports every problem as file:line: message and exits 1 if there is any. `swift package check-rules` runs this.")

    @Argument(help: "Rule files.")
    var files: [String]

    @OptionGroup var ruleArgs: RuleArgOptions

    func validate() throws { _ = try ruleArgs.parsed() }

    func run() throws {
        let args = try ruleArgs.parsed()
        var failed = 0
        for file in files {
            let problems = RuleCheck.check(path: file, args: args)
            if problems.isEmpty { print("ok  \(file)") } else { failed += 1 }
            for problem in problems { print(problem) }
        }
        guard failed == 0 else { throw ExitCode.failure }
    }
}
