import Foundation
import SECNNCore
import SECNNGrowth
import SECNNModel

/// A growth rule: a Lua file that decides when, where and how the network
/// grows (`rules/README.md` has the contract), loaded into its own sandbox.
///
/// Every call checks what the rule returned; everything that goes wrong,
/// from a syntax error to an endless loop or a memory bomb, is a thrown
/// `RuleError` naming the file, and the rule can be called again afterwards.
/// Not thread-safe: use a rule from one thread at a time.
public final class Rule {
    /// The path errors show, e.g. `rules/paper.lua`.
    public let displayPath: String
    /// The rule's `name`, or the file name without its extension.
    public let name: String
    /// Which natural score the core computes for the rule (`score`).
    public let scoreMethod: NaturalScoreMethod
    /// How far the rule lets blocks grow (`limits`).
    public let expansionLimits: ExpansionLimits
    /// The `--rule-arg` pairs: the file's `...` when it loads, and `ctx.args` in every call.
    public let args: [String: String]
    /// Channels a widen candidate adds when the rule has no `propose`.
    public static let defaultWidenChannels = 2

    private let lua: LuaState
    private let definition: RuleDefinition

    /// Runs `source` (text only) in a fresh sandbox and checks the table it
    /// returns. `displayPath` is what errors show.
    public init(source: String, displayPath: String, args: [String: String] = [:],
                limits: RuleLimits = RuleLimits()) throws {
        self.displayPath = displayPath
        self.args = args
        let defaultName = URL(fileURLWithPath: displayPath).deletingPathExtension().lastPathComponent
        let module: LuaModule
        do {
            lua = try LuaState(chunkName: displayPath, limits: limits, printPrefix: defaultName)
            module = try lua.run(source, argument: .record(args.mapValues(LuaValue.init(argument:))),
                                 what: "the file's top level")
        } catch let error as LuaError {
            throw RuleError(file: displayPath, error)
        }
        definition = try RuleDefinition(module, defaultName: defaultName, file: displayPath)
        name = definition.name
        scoreMethod = definition.scoreMethod
        expansionLimits = definition.limits
        lua.printPrefix = name
    }

    /// Loads the rule `name`: a file, or a stock rule (`RuleSource.resolve`).
    public convenience init(named name: String, args: [String: String] = [:],
                            limits: RuleLimits = RuleLimits()) throws {
        let (source, displayPath) = try RuleSource.resolve(name)
        try self.init(source: source, displayPath: displayPath, args: args, limits: limits)
    }

    /// Whether to score this epoch (`when`; true without one).
    public func when(_ context: RuleContext) throws -> Bool {
        guard let function = definition.when else { return true }
        return try returns(of: "when", function, context).boolean(call(function, "when", context))
    }

    /// The candidates to score (`propose`; without one, every block with
    /// both ops, widening by `defaultWidenChannels`). Empty: score nothing.
    public func propose(_ context: RuleContext) throws -> [Candidate] {
        guard let function = definition.propose else {
            return Candidate.all(blocks: context.architecture.blocks.count, widenBy: Self.defaultWidenChannels)
        }
        return try returns(of: "propose", function, context).candidates(call(function, "propose", context))
    }

    /// The expansion to apply (`decide`): one of `context.scores`'
    /// candidates, or nil for none.
    public func decide(_ context: RuleContext) throws -> Candidate? {
        let scored = context.scores?.candidates.map(\.candidate) ?? []
        return try returns(of: "decide", definition.decide, context)
            .decision(call(definition.decide, "decide", context), scored: scored)
    }

    private func call(_ function: LuaFunction, _ what: String, _ context: RuleContext) throws -> LuaValue {
        do {
            return try lua.call(function, argument: context.luaValue(ruleArgs: args), what: what)
        } catch let error as LuaError {
            throw RuleError(file: displayPath, error)
        }
    }

    private func returns(of what: String, _ function: LuaFunction, _ context: RuleContext) -> RuleReturns {
        RuleReturns(file: displayPath, function: what, line: function.line, blocks: context.architecture.blocks.count)
    }
}

extension RuleError {
    init(file: String, _ error: LuaError) {
        self.init(file: file, message: error.message, traceback: error.traceback)
    }
}
