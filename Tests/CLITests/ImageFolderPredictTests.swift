import Foundation
import SECNNData
import XCTest
import _SECNNTestSupport

/// Your own images in, predictions out: a 3-class folder of PNGs and JPEGs
/// written from the embedded digits, trained on with a growth rule, then
/// `secnn predict` on its test files against `secnn eval`.
final class ImageFolderPredictTests: XCTestCase {
    /// DIR/train and DIR/test, classes "zero", "one", "two": digits 0–2 as 8×8 greyscale, PNG and JPEG alternately.
    private func digitsFolder() throws -> (directory: URL, test: [(path: String, label: Int)]) {
        let directory = try temporaryDirectory(self)
        let digits = try DatasetSource.digits.load()
        var test: [(String, Int)] = []
        for (split, set) in [("train", digits.train), ("test", digits.test)] {
            for i in 0 ..< set.count where set.labels[i] < 3 {
                let label = Int(set.labels[i])
                let folder = directory.appendingPathComponent("\(split)/\(["zero", "one", "two"][label])")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let pixels = set.images[(i * 64) ..< ((i + 1) * 64)].map { UInt8(($0 * 255).rounded()) }
                let path = folder.appendingPathComponent(String(format: "%04d.%@", i, i % 2 == 0 ? "png" : "jpg")).path
                if i % 2 == 0 {
                    try ImageFiles.writePNG(path, width: 8, height: 8, channels: 1, pixels: pixels)
                } else {
                    try ImageFiles.writeJPEG(path, width: 8, height: 8, channels: 1, pixels: pixels, quality: 95)
                }
                if split == "test" { test.append((path, label)) }
            }
        }
        return (directory, test)
    }

    private struct Prediction: Decodable {
        struct Entry: Decodable { var `class`: String, label: Int, probability: Double }
        var image: String
        var predictions: [Entry]
    }

    func testTrainOnAFolderThenPredictAgreesWithEval() throws {
        let (folder, test) = try digitsFolder()
        let run = try temporaryDirectory(self).appendingPathComponent("run")
        let train = try CLI.run("secnn", ["train", "--data", "folder:\(folder.path)", "--rule", "paper.lua",
                                          "--epochs", "12", "--batch-size", "32", "--out", run.path])
        XCTAssertEqual(train.status, 0, train.transcript)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json")))
        XCTAssertEqual((config as? [String: Any])?["data"] as? String, "folder:\(folder.path):8x8",
                       "config.json records the size the images were resized to")

        let eval = try CLI.run("secnn", ["eval", run.appendingPathComponent("best.safetensors").path,
                                         "--data", "folder:\(folder.path)"])
        XCTAssertEqual(eval.status, 0, eval.transcript)
        XCTAssertEqual(eval.values["images"], String(test.count))
        let accuracy = try XCTUnwrap(eval.values["test_accuracy"].flatMap(Double.init))
        XCTAssertGreaterThan(accuracy, 0.6, "three digit classes after 12 epochs")

        let predict = try CLI.run("secnn", ["predict", run.path, "--json", "--top", "3"] + test.map(\.path))
        XCTAssertEqual(predict.status, 0, predict.transcript)
        let lines = predict.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, test.count)
        var correct = 0
        for (line, (path, label)) in zip(lines, test) {
            let prediction = try JSONDecoder().decode(Prediction.self, from: Data(line.utf8))
            XCTAssertEqual(prediction.image, path)
            XCTAssertEqual(prediction.predictions.map(\.class).sorted(), ["one", "two", "zero"])
            XCTAssertEqual(prediction.predictions.map(\.probability).reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(prediction.predictions.map(\.probability), prediction.predictions.map(\.probability).sorted(by: >))
            // Labels follow the sorted folder names (one, two, zero): compare names.
            if prediction.predictions[0].class == ["zero", "one", "two"][label] { correct += 1 }
        }
        XCTAssertEqual(String(format: "%g", Double(correct) / Double(test.count)), eval.values["test_accuracy"],
                       "predict's top-1 over the test files is eval's accuracy")

        // Text output, a ladder rung by budget, and a bad file among good ones.
        let bad = folder.appendingPathComponent("broken.png").path
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: URL(fileURLWithPath: bad))
        let text = try CLI.run("secnn", ["predict", run.path, "--max-params", "1000000", test[0].path, bad])
        XCTAssertEqual(text.status, 1, text.transcript)
        XCTAssertTrue(text.stdout.hasPrefix(test[0].path + "\n  "), text.transcript)
        XCTAssertTrue(text.stderr.contains("error: \(bad): "), text.transcript)
    }
}
