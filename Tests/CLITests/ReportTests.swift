import Foundation
import XCTest
import _SECNNTestSupport

/// `secnn report` on two runs (paper.lua and budget.lua), rendered by
/// headless Chromium: the page has its five plots and is not blank.
final class ReportTests: XCTestCase {
    func testReportOfTwoRunsRendersInChromium() throws {
        let root = try temporaryDirectory(self)
        var runs: [String] = []
        for (name, arguments) in [("paper", ["--rule", "paper.lua", "--rule-arg", "tau=1.2"]),
                                  ("budget", ["--rule", "budget.lua", "--rule-arg", "cooldown=1"])] {
            let out = root.appendingPathComponent(name).path
            let train = try CLI.run("secnn", ["train", "--epochs", "6", "--score-subset", "64", "--quiet", "--out", out]
                                    + arguments)
            XCTAssertEqual(train.status, 0, train.transcript)
            runs.append(out)
        }
        let html = root.appendingPathComponent("report.html")
        let report = try CLI.run("secnn", ["report"] + runs + ["--out", html.path])
        XCTAssertEqual(report.status, 0, report.transcript)
        let page = try String(contentsOf: html, encoding: .utf8)
        for title in ["Accuracy per epoch", "Loss per epoch", "Parameters per epoch",
                      "Candidate score ratios per growth round", "Ladder: test accuracy vs parameters"] {
            XCTAssertTrue(page.contains(">\(title)</text>"), "the report has the plot '\(title)'")
        }
        XCTAssertEqual(page.components(separatedBy: "<svg ").count - 1, 5)
        XCTAssertTrue(page.contains("<td>paper</td>") && page.contains("<td>budget</td>"))

        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else {
            throw unavailable("Chromium is absent: `apt-get install -y chromium` (make test installs it) to render the report")
        }
        let png = root.appendingPathComponent("report.png")
        let render = try CLI.run(executable: URL(fileURLWithPath: chromium), [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1240,1400",
            "--screenshot=\(png.path)", html.absoluteString])
        XCTAssertEqual(render.status, 0, render.transcript)
        let dom = try CLI.run(executable: URL(fileURLWithPath: chromium),
                              ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", html.absoluteString])
        XCTAssertEqual(dom.stdout.components(separatedBy: "<svg ").count - 1, 5, "Chromium parsed five plots")
        guard let python = ProcessInfo.processInfo.environment["SECNN_PYTHON"], !python.isEmpty else {
            throw unavailable("SECNN_PYTHON is not set; it needs PIL to check the screenshot (make test sets it)")
        }
        // The share of pixels that are not white, in the plots' area.
        let script = """
            import sys
            from PIL import Image
            image = Image.open(sys.argv[1]).convert("L")
            pixels = list(image.crop((0, 200, image.width, image.height)).getdata())
            print(image.width, image.height, sum(1 for p in pixels if p < 200) / len(pixels))
            """
        let measured = try CLI.run(executable: URL(fileURLWithPath: python), ["-c", script, png.path])
        XCTAssertEqual(measured.status, 0, measured.transcript)
        let numbers = measured.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        XCTAssertEqual(numbers.count, 3, measured.transcript)
        XCTAssertEqual(numbers.first, 1240)
        XCTAssertGreaterThan(numbers.last ?? 0, 0.01, "the rendered plots draw something: \(measured.stdout)")
    }
}
