import Foundation
import SECNNModel

/// `secnn score`'s table: one row per candidate, the numbers a rule receives.
struct ScoreTable {
    let report: ScoreReport
    init(_ report: ScoreReport) { self.report = report }

    var text: String {
        let current = report.current
        var lines = [String(format: "current  params=%d  eta=%.6g  unbiased=%.6g  eta/P=%.4g  (%@)", current.parameters,
                            current.eta, current.unbiasedEta ?? .nan, current.perParameter, report.method)]
        lines.append("block  op      channels  delta_p   params        eta    eta/eta_c      eta/P   unbiased")
        for row in report.candidates {
            lines.append(String(format: "%5d  %-6@  %8d  %7d  %7d  %9.6g  %11.4g  %9.4g  %9.6g", row.candidate.block,
                                row.candidate.op.rawValue, row.candidate.channels, row.deltaParameters,
                                row.score.parameters, row.score.eta, row.ratio(over: current),
                                row.score.perParameter, row.score.unbiasedEta ?? .nan))
        }
        for refused in report.refused {
            lines.append(String(format: "%5d  %-6@  refused: %@", refused.candidate.block, refused.candidate.op.rawValue,
                                refused.reason))
        }
        return lines.joined(separator: "\n")
    }
}

/// `secnn score --json`: the report with the field names a rule's `ctx` uses.
struct ScoreReportJSON: Encodable {
    struct Row: Encodable {
        var block: Int, op: String, channels: Int
        var score: Double, ratio: Double, score_per_param: Double, unbiased: Double?
        var delta_params: Int, params: Int
    }
    struct Refused: Encodable { var block: Int, op: String, channels: Int, reason: String }

    var method: String
    var score: Double, score_per_param: Double, unbiased: Double?, params: Int
    var candidates: [Row]
    var refused: [Refused]

    init(_ report: ScoreReport) {
        method = report.method
        score = report.current.eta
        score_per_param = report.current.perParameter
        unbiased = report.current.unbiasedEta
        params = report.current.parameters
        candidates = report.candidates.map {
            Row(block: $0.candidate.block, op: $0.candidate.op.rawValue, channels: $0.candidate.channels,
                score: $0.score.eta, ratio: $0.ratio(over: report.current), score_per_param: $0.score.perParameter,
                unbiased: $0.score.unbiasedEta, delta_params: $0.deltaParameters, params: $0.score.parameters)
        }
        refused = report.refused.map {
            Refused(block: $0.candidate.block, op: $0.candidate.op.rawValue, channels: $0.candidate.channels,
                    reason: $0.reason)
        }
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
