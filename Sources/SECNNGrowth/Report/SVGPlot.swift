import Foundation

/// A small line and scatter plot drawn as inline SVG: what `secnn report`
/// needs, with no JavaScript and nothing to download, so the page renders
/// the same in any browser and in headless Chromium.
struct SVGPlot {
    enum Style { case line, dots, lineWithDots }

    struct Series {
        var name: String
        var color: String
        var style: Style
        var points: [(x: Double, y: Double)]
        var dashed = false
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series] = []
    /// Vertical markers (e.g. expansions), drawn in their series' colour.
    var markers: [(x: Double, color: String)] = []
    /// A horizontal reference line (e.g. a rule's threshold).
    var threshold: (y: Double, label: String)?

    private let width = 560.0, height = 300.0
    private let left = 62.0, right = 14.0, top = 34.0, bottom = 44.0

    init(title: String, x: String, y: String) {
        self.title = title
        xLabel = x
        yLabel = y
    }

    var svg: String {
        let xs = series.flatMap { $0.points.map(\.x) } + markers.map(\.x)
        let ys = series.flatMap { $0.points.map(\.y) } + (threshold.map { [$0.y] } ?? [])
        var lines = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                     + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">",
                     "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                     text(width / 2, 20, title, anchor: "middle", size: 15, weight: "bold")]
        guard let (xMin, xMax) = range(xs), let (yMin, yMax) = range(ys) else {
            lines.append(text(width / 2, height / 2, "no data", anchor: "middle", size: 13))
            return (lines + ["</svg>"]).joined(separator: "\n")
        }
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight }

        lines.append("<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#888\"/>")
        for tick in ticks(xMin, xMax) {
            lines.append(line(px(tick), top + plotHeight, px(tick), top + plotHeight + 4, "#888"))
            lines.append(text(px(tick), top + plotHeight + 16, format(tick), anchor: "middle", size: 11))
        }
        for tick in ticks(yMin, yMax) {
            lines.append(line(left, py(tick), left + plotWidth, py(tick), "#eee"))
            lines.append(text(left - 6, py(tick) + 4, format(tick), anchor: "end", size: 11))
        }
        lines.append(text(left + plotWidth / 2, height - 8, xLabel, anchor: "middle", size: 12))
        lines.append("<text x=\"14\" y=\"\(top + plotHeight / 2)\" font-size=\"12\" text-anchor=\"middle\" "
                     + "transform=\"rotate(-90 14 \(top + plotHeight / 2))\">\(escape(yLabel))</text>")
        for marker in markers {
            lines.append(line(px(marker.x), top, px(marker.x), top + plotHeight, marker.color, dash: "3,3"))
        }
        if let threshold {
            lines.append(line(left, py(threshold.y), left + plotWidth, py(threshold.y), "#c00", dash: "6,3"))
            lines.append(text(left + plotWidth - 4, py(threshold.y) - 4, threshold.label, anchor: "end", size: 11))
        }
        for series in self.series {
            if series.style != .dots, series.points.count > 1 {
                let path = series.points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
                lines.append("<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\""
                             + (series.dashed ? " stroke-dasharray=\"5,3\"" : "") + " points=\"\(path)\"/>")
            }
            if series.style != .line || series.points.count == 1 {
                for point in series.points {
                    lines.append("<circle cx=\"\(px(point.x))\" cy=\"\(py(point.y))\" r=\"3.5\" fill=\"\(series.color)\"/>")
                }
            }
        }
        for (index, series) in self.series.enumerated() {
            let y = top + 14 + Double(index) * 15
            lines.append(line(left + 8, y - 4, left + 26, y - 4, series.color, dash: series.dashed ? "5,3" : nil))
            lines.append(text(left + 30, y, series.name, anchor: "start", size: 11))
        }
        return (lines + ["</svg>"]).joined(separator: "\n")
    }

    /// The data's range, widened a little (and made non-empty).
    private func range(_ values: [Double]) -> (Double, Double)? {
        guard let low = values.min(), let high = values.max() else { return nil }
        let pad = high > low ? (high - low) * 0.05 : max(abs(low) * 0.05, 0.5)
        return (low - pad, high + pad)
    }

    /// About five round tick values inside [low, high].
    private func ticks(_ low: Double, _ high: Double) -> [Double] {
        let raw = (high - low) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        return stride(from: (low / step).rounded(.up) * step, through: high, by: step).map { $0 }
    }

    private func format(_ value: Double) -> String {
        abs(value) < 1e-9 ? "0" : abs(value) >= 1000 ? String(Int(value.rounded())) : String(format: "%g", (value * 1000).rounded() / 1000)
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ color: String, dash: String? = nil) -> String {
        "<line x1=\"\(x1)\" y1=\"\(y1)\" x2=\"\(x2)\" y2=\"\(y2)\" stroke=\"\(color)\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
    }

    private func text(_ x: Double, _ y: Double, _ content: String, anchor: String, size: Int, weight: String = "normal") -> String {
        "<text x=\"\(x)\" y=\"\(y)\" font-family=\"sans-serif\" font-size=\"\(size)\" font-weight=\"\(weight)\" "
            + "text-anchor=\"\(anchor)\">\(escape(content))</text>"
    }
}

/// `s` with the five XML special characters escaped.
func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        .replacingOccurrences(of: "'", with: "&#39;")
}
