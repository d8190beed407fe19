import Foundation
import SECNNGrowth
import SECNNModel

/// Prints a growth run: the training lines of `TrainingPrinter`, one line
/// per expansion, and rule failures (to stderr).
final class GrowthPrinter: TrainingPrinter, GrowthObserver {
    func expanded(_ record: ExpansionRecord) {
        print(String(format: "expand  epoch %d  %@  ratio=%.4g  params %d → %d  arch=%@", record.epoch,
                     record.candidate.description, record.ratio, record.parametersBefore, record.parametersAfter,
                     record.architecture))
        fflush(stdout)
    }

    func ruleFailed(epoch: Int, error: Error, consecutiveFailures: Int) {
        FileHandle.standardError.write(Data(
            "rule error after epoch \(epoch) (\(consecutiveFailures) in a row; the epoch proceeds without expansion): \(error)\n".utf8))
    }

    func round(_ round: GrowthRound) {
        guard let report = round.scores else { return }
        // Candidates past the run's bounds, with why: the rule never sees them scored.
        for refused in report.refused {
            print("refused epoch \(round.epoch)  \(refused.reason)")
        }
        guard let best = report.candidates.max(by: { $0.score.eta < $1.score.eta }) else { return }
        let unbiased = best.unbiasedRatio(over: report.current).map { String(format: "  unbiased=%.4g", $0) } ?? ""
        print(String(format: "score   epoch %d  %@ eta_c=%.4g over %d candidates; best %@ ratio=%.4g%@", round.epoch,
                     report.method, report.current.eta, report.candidates.count, best.candidate.description,
                     best.ratio(over: report.current), unbiased))
        fflush(stdout)
    }
}
