import SECNNModel

/// Checks what one call of `when`, `propose` or `decide` returned against
/// the contract and the model it was asked about. Messages name the file,
/// the line the function's definition starts on, and the function:
/// `rules/mine.lua:42: decide returned block 7, the model has 3 blocks`.
package struct RuleReturns {
    let file: String
    let function: String
    let line: Int?
    /// Blocks of the model the call saw.
    let blocks: Int

    package init(file: String, function: String, line: Int?, blocks: Int) {
        (self.file, self.function, self.line, self.blocks) = (file, function, line, blocks)
    }

    /// Channels one widening may add: far past any useful step, and small
    /// enough that a stray number (`1e9`) never reaches the core, whose
    /// shape arithmetic would overflow.
    package static let maxWidenChannels = 1024

    private func failure(_ text: String) -> RuleError {
        RuleError(file: file, message: "\(file)\(line.map { ":\($0)" } ?? ""): \(function) returned \(text)")
    }

    /// What `when` returned: a boolean, nothing else.
    package func boolean(_ value: LuaValue) throws -> Bool {
        guard case .boolean(let flag) = value else { throw failure("\(value.typeDescription); expected a boolean") }
        return flag
    }

    /// What `propose` returned: an array of candidates, duplicates dropped.
    package func candidates(_ value: LuaValue) throws -> [Candidate] {
        guard case .table(let table) = value else {
            throw failure("\(value.typeDescription); expected an array of candidates")
        }
        guard let elements = table.sequence else {
            throw failure("a table that is not an array (it has \(table.nonSequenceKey ?? "other keys")); "
                          + "expected an array of candidates such as { {block = 0, op = \"layer\"} }")
        }
        var candidates: [Candidate] = []
        for (index, element) in elements.enumerated() {
            guard case .table = element else {
                throw failure(
                    "\(element.typeDescription) as candidate \(index + 1); expected a table with block and op")
            }
            let candidate = try candidate(element)
            if !candidates.contains(candidate) { candidates.append(candidate) }
        }
        return candidates
    }

    /// What `decide` returned: nil, or one of the candidates that were scored.
    package func decision(_ value: LuaValue, scored: [Candidate]) throws -> Candidate? {
        switch value {
        case .nil: return nil
        case .table:
            let candidate = try candidate(value)
            guard scored.contains(candidate) else { throw failure("a candidate that was not scored (\(candidate))") }
            return candidate
        default: throw failure("\(value.typeDescription); expected nil or a candidate table")
        }
    }

    /// A `{block=, op=, channels=}` table: block in range, a known op, and
    /// for `widen` a positive channel count (ignored for `layer`).
    private func candidate(_ value: LuaValue) throws -> Candidate {
        let block = value["block"], op = value["op"], channels = value["channels"]
        guard block != .nil else { throw failure("a candidate without block; expected an integer from 0") }
        guard let index = block.exactInteger else { throw failure("block \(block.literal); expected an integer") }
        guard (0..<blocks).contains(index) else {
            let hint = index == blocks ? " (numbered from 0)" : ""
            throw failure("block \(index), the model has \(blocks) blocks\(hint)")
        }
        guard case .string(let name) = op, let operation = Expansion.Operation(rawValue: name) else {
            let what = op == .nil ? "a candidate without op" : "op \(op.literal)"
            throw failure("\(what); expected \"layer\" or \"widen\"")
        }
        guard operation == .widen else { return Candidate(block: index, op: .layer) }
        guard channels != .nil else {
            throw failure("widen block \(index) without channels; expected a positive integer")
        }
        guard let count = channels.exactInteger, count > 0 else {
            throw failure("channels \(channels.literal) for widen block \(index); expected a positive integer")
        }
        guard count <= Self.maxWidenChannels else {
            throw failure("channels \(count) for widen block \(index); at most \(Self.maxWidenChannels) per expansion")
        }
        return Candidate(block: index, op: .widen, channels: count)
    }
}
