import SECNNGrowth
import SECNNModel
import SECNNRules
import XCTest

/// What a rule breaks in one call, the next call has intact: the standard
/// globals and the libraries cannot be replaced, and the environment holds
/// exactly the documented globals.
final class FrozenGlobalsTests: XCTestCase {
    /// `when` tries one act of vandalism (`attempt`); `propose` then needs the library intact.
    private func assertRefusedAndIntact(_ attempt: String, message: String, file: StaticString = #filePath,
                                        line: UInt = #line) throws {
        let rule = try Rule(source: """
            return {
              when = function(ctx)
                \(attempt)
                return true
              end,
              propose = function(ctx)
                assert(math.floor(2.5) == 2 and string.rep("a", 3) == "aaa" and ("x"):rep(2) == "xx")
                assert(type(pairs) == "function" and type(tostring) == "function" and table.concat({1, 2}) == "12")
                return { { block = math.floor(1.9), op = "layer" } }
              end,
              decide = function(ctx) return nil end,
            }
            """, displayPath: "rules/vandal.lua")
        let ctx = try context()
        XCTAssertThrowsError(try rule.when(ctx), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(message), "\(attempt): \(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains("rules/vandal.lua:3"), "\(error)", file: file, line: line)
        }
        XCTAssertEqual(try rule.propose(ctx), [Candidate(block: 1, op: .layer)], attempt, file: file, line: line)
    }

    func testLibrariesAndStandardGlobalsCannotBeReplaced() throws {
        try assertRefusedAndIntact("math.floor = function() return 0 end", message: "math.floor cannot be changed")
        try assertRefusedAndIntact("string.rep = nil", message: "string.rep cannot be changed")
        try assertRefusedAndIntact("table.concat = nil", message: "table.concat cannot be changed")
        try assertRefusedAndIntact("getmetatable('').__index.rep = nil", message: "attempt to index a boolean value")
        try assertRefusedAndIntact("pairs = nil", message: "pairs is a standard global")
        try assertRefusedAndIntact("math = {}", message: "math is a standard global")
        try assertRefusedAndIntact("rawset(_G, 'tostring', print)", message: "tostring is a standard global")
        try assertRefusedAndIntact("setmetatable(_G, {})", message: "cannot change a protected metatable")
    }

    func testARulesOwnGlobalsWorkAsUsual() throws {
        let rule = try Rule(source: """
            count = 0
            function bump() count = count + 1; return count end
            return {
              when = function(ctx) return bump() >= 2 end,
              decide = function(ctx) return nil end,
            }
            """, displayPath: "rules/counter.lua")
        XCTAssertFalse(try rule.when(try context()))
        XCTAssertTrue(try rule.when(try context()), "the rule's own global keeps its value between calls")
    }

    func testTheEnvironmentHoldsExactlyTheDocumentedGlobals() throws {
        let documented = ["_G", "_VERSION", "assert", "error", "getmetatable", "ipairs", "load", "math", "next",
                          "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "select",
                          "setmetatable", "string", "table", "tonumber", "tostring", "type", "utf8", "xpcall"]
        let rule = try Rule(source: """
            local args = ...
            return {
              when = function(ctx)
                local names = {}
                for name in pairs(_G) do names[#names + 1] = name end
                table.sort(names)
                local found = table.concat(names, ",")
                if found ~= ctx.args.expected then error("globals: " .. found) end
                return true
              end,
              decide = function(ctx) return nil end,
            }
            """, displayPath: "rules/globals.lua", args: ["expected": documented.joined(separator: ",")])
        XCTAssertTrue(try rule.when(try context(args: ["expected": documented.joined(separator: ",")])))
    }
}
