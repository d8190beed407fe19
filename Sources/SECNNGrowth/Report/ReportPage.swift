import Foundation

/// `secnn report`: one HTML page with inline SVG plots of one or more runs,
/// overlaid for comparison: accuracy and loss per epoch with the expansions
/// marked, parameters per epoch, the candidates' score ratios per growth
/// round against the rule's threshold, and test accuracy against
/// parameters for the ladders' rungs (the paper's Figure 4).
public enum ReportPage {
    public static let titles = ["Accuracy per epoch", "Loss per epoch", "Parameters per epoch",
                                "Candidate score ratios per growth round", "Ladder: test accuracy vs parameters"]

    /// The default τ of the stock τ-rules, paper.lua and kfac.lua (a test checks it against them).
    public static let stockTau = 1.3

    /// The rule's τ: `--rule-arg tau=…`, or the stock τ-rules' default.
    private static func threshold(of run: RunHistory) -> Double? {
        guard let settings = run.settings, let rule = settings.rule else { return nil }
        if let tau = settings.ruleArgs["tau"].flatMap(Double.init) { return tau }
        return ["paper.lua", "kfac.lua"].contains { rule.contains($0) } ? stockTau : nil
    }

    private static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    /// The page for the runs in `directories`.
    public static func html(runs directories: [String]) throws -> String {
        let runs = try directories.map { try RunHistory(directory: $0) }
        var accuracy = SVGPlot(title: titles[0], x: "epoch", y: "accuracy")
        var loss = SVGPlot(title: titles[1], x: "epoch", y: "cross-entropy")
        var parameters = SVGPlot(title: titles[2], x: "epoch", y: "parameters")
        var ratios = SVGPlot(title: titles[3], x: "epoch", y: "unbiased η / η_c")
        var ladder = SVGPlot(title: titles[4], x: "parameters", y: "test accuracy")
        for (index, run) in runs.enumerated() {
            let color = palette[index % palette.count]
            let epochs = run.metrics.map { Double($0.epoch) }
            accuracy.series.append(.init(name: "\(run.name) validation", color: color, style: .line,
                                         points: Array(zip(epochs, run.metrics.map(\.valAccuracy)))))
            accuracy.series.append(.init(name: "\(run.name) training", color: color, style: .line,
                                         points: Array(zip(epochs, run.metrics.map(\.trainAccuracy))), dashed: true))
            loss.series.append(.init(name: "\(run.name) validation", color: color, style: .line,
                                     points: Array(zip(epochs, run.metrics.map(\.valLoss)))))
            loss.series.append(.init(name: "\(run.name) training", color: color, style: .line,
                                     points: Array(zip(epochs, run.metrics.map(\.trainLoss))), dashed: true))
            parameters.series.append(.init(name: run.name, color: color, style: .line,
                                           points: Array(zip(epochs, run.metrics.map { Double($0.params) }))))
            let marks = run.expansionEpochs.map { (x: Double($0), color: color) }
            accuracy.markers += marks
            loss.markers += marks
            parameters.markers += marks
            // The unbiased ratios the stock rules compare (the plain ones for runs recorded before them).
            let candidates = run.rounds.flatMap { round -> [(x: Double, y: Double)] in
                guard let report = round.scores else { return [] }
                return report.candidates.map {
                    (Double(round.epoch), $0.unbiasedRatio(over: report.current) ?? $0.ratio(over: report.current))
                }
            }
            ratios.series.append(.init(name: run.name, color: color, style: .dots, points: candidates))
            if ratios.threshold == nil, let tau = threshold(of: run) { ratios.threshold = (tau, "τ = \(tau) (\(run.name))") }
            let rungs = run.ladder?.rungs ?? []
            ladder.series.append(.init(name: run.name, color: color, style: .lineWithDots,
                                       points: rungs.map { (Double($0.parameters), $0.testAccuracy) }))
        }
        let summaries = runs.map { run -> String in
            let rule = run.settings?.rule ?? "none (fixed architecture)"
            let last = run.metrics.last
            let best = run.ladder?.rungs.max { $0.testAccuracy < $1.testAccuracy }
            return "<tr><td>\(escape(run.name))</td><td>\(escape(rule))</td><td>\(run.metrics.count)</td>"
                + "<td>\(run.expansionEpochs.count)</td><td>\(last.map { String($0.params) } ?? "–")</td>"
                + "<td>\(best.map { String(format: "%.4f at %d parameters", $0.testAccuracy, $0.parameters) } ?? "–")</td></tr>"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>secnn report</title>
            <style>body{font-family:sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:8px}
            table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head>
            <body><h1>secnn report</h1>
            <table><tr><th>run</th><th>rule</th><th>epochs</th><th>expansions</th><th>parameters at the end</th><th>best rung (test)</th></tr>
            \(summaries.joined(separator: "\n"))
            </table>
            <p>Dashed vertical lines: expansions. Dashed curves: training figures.</p>
            \([accuracy, loss, parameters, ratios, ladder].map { "<figure>\($0.svg)</figure>" }.joined(separator: "\n"))
            </body></html>
            """
    }
}
