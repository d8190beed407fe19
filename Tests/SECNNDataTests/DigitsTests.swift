import Foundation
import SECNNData
import XCTest
import _SECNNTestSupport

final class DigitsTests: XCTestCase {
    /// Samples per label 0..9, from /work/shared/data/digits/README.md.
    let readmeCounts = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]

    func histogram(_ labels: [Int32]) -> [Int] {
        var counts = [Int](repeating: 0, count: 10)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    func testEmbeddedDigitsLoadAndSplit() throws {
        let pair = try DatasetSource.digits.load()
        let (train, test) = (pair.train, pair.test)
        XCTAssertEqual(train.count + test.count, 1797)
        XCTAssertEqual(train.count, 1442)
        XCTAssertEqual(test.count, 355)
        XCTAssertEqual(Double(train.count) / 1797, 0.8, accuracy: 0.01)
        // Per class: train + test equals the README's count, and test is every 5th (floor(n / 5)).
        let trainCounts = histogram(train.labels)
        let testCounts = histogram(test.labels)
        for label in 0 ..< 10 {
            XCTAssertEqual(trainCounts[label] + testCounts[label], readmeCounts[label], "label \(label)")
            XCTAssertEqual(testCounts[label], readmeCounts[label] / 5, "label \(label)")
        }
        for set in [train, test] {
            XCTAssertEqual(set.name, "digits")
            XCTAssertEqual([set.channels, set.height, set.width, set.classes, set.imageSize], [1, 8, 8, 10, 64])
            XCTAssertEqual(set.classNames, (0 ..< 10).map(String.init))
            XCTAssertFalse(set.flipAugmentation)
            XCTAssertEqual(set.images.count, set.count * 64)
            XCTAssertTrue(set.images.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        // First row of the file: "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,..." label 0. It is
        // position 0 of class 0, so the first training sample.
        let firstRow: [Float] = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0].map { $0 / 16 }
        XCTAssertEqual(Array(train.images[0 ..< 16]), firstRow)
        XCTAssertEqual(train.labels[0], 0)
        XCTAssertEqual(train.labels[1], 1)   // second row's label
        XCTAssertEqual(train.images[2], 0.3125)
    }

    func testSplitRuleMatchesFileOrder() throws {
        // Not inside XCTUnwrap: a skip thrown there would be recorded as a failure.
        let text = try gunzipSharedDigits()
        let all = try Dataset.parseDigitsCSV(text, source: "digits.csv.gz")
        XCTAssertEqual(all.count, 1797)
        XCTAssertEqual(histogram(all.labels), readmeCounts)
        var seen = [Int](repeating: 0, count: 10)
        var trainIndices: [Int] = [], testIndices: [Int] = []
        for (i, label) in all.labels.enumerated() {
            if seen[Int(label)] % 5 == 4 { testIndices.append(i) } else { trainIndices.append(i) }
            seen[Int(label)] += 1
        }
        let pair = try DatasetSource.digits.load()
        XCTAssertEqual(pair.train.labels, all.subset(trainIndices).labels)
        XCTAssertEqual(pair.test.images, all.subset(testIndices).images)
        XCTAssertEqual(pair.train.images, all.subset(trainIndices).images)
    }

    /// The embedded file is not reachable from outside the module, so read the shared copy.
    private func gunzipSharedDigits() throws -> [UInt8] {
        let url = try requireShared("data/digits/digits.csv.gz")
        return try Gunzip.decompress(Array(try Data(contentsOf: url)), maxOutput: 1 << 20, source: url.path)
    }

    // MARK: - Malformed CSV

    let goodLine = Array(repeating: "0", count: 64).joined(separator: ",") + ",3"

    func csv(_ lines: [String], trailingNewline: Bool = true) -> [UInt8] {
        Array((lines.joined(separator: "\n") + (trailingNewline ? "\n" : "")).utf8)
    }

    func testValidSmallCSV() throws {
        var pixels = Array(repeating: "16", count: 64)
        pixels[0] = "8"
        let data = try Dataset.parseDigitsCSV(
            Array((goodLine + "\r\n" + pixels.joined(separator: ",") + ",9").utf8), source: "small.csv")
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data.labels, [3, 9])
        XCTAssertEqual(data.images[64], 0.5)
        XCTAssertEqual(data.images[65], 1)
    }

    func testNonNumericValue() {
        var bad = Array(repeating: "1", count: 65)
        bad[2] = "x"
        let text = csv(Array(repeating: goodLine, count: 11) + [bad.joined(separator: ",")])
        XCTAssertThrowsError(try Dataset.parseDigitsCSV(text, source: "digits.csv.gz")) { error in
            XCTAssertEqual((error as? DatasetError)?.description,
                           "digits.csv.gz: line 12, column 3: expected an integer 0..16, found \"x\"")
        }
    }

    func testRaggedRows() {
        let short = Array(repeating: "0", count: 64).joined(separator: ",")
        assertDatasetError(try Dataset.parseDigitsCSV(csv([goodLine, short]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 2", message: "expected 65 comma-separated values (64 pixels, then the label), found 64")
        assertDatasetError(try Dataset.parseDigitsCSV(csv([goodLine, goodLine, goodLine + ",1"]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 3", message: "found 66")
        assertDatasetError(try Dataset.parseDigitsCSV(csv([goodLine, "", goodLine]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 2", message: "empty line")
        let trailingComma = Array(repeating: "0", count: 64).joined(separator: ",") + ","
        assertDatasetError(try Dataset.parseDigitsCSV(csv([trailingComma]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 1, column 65", message: "expected a label 0..9, found \"\"")
    }

    func testOutOfRangeValues() {
        var pixel17 = Array(repeating: "0", count: 65)
        pixel17[63] = "17"
        assertDatasetError(try Dataset.parseDigitsCSV(csv([goodLine, pixel17.joined(separator: ",")]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 2, column 64", message: "expected an integer 0..16, found \"17\"")
        var negative = Array(repeating: "0", count: 65)
        negative[0] = "-1"
        assertDatasetError(try Dataset.parseDigitsCSV(csv([negative.joined(separator: ",")]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 1, column 1", message: "found \"-1\"")
        var label10 = Array(repeating: "0", count: 65)
        label10[64] = "10"
        assertDatasetError(try Dataset.parseDigitsCSV(csv([goodLine, goodLine, label10.joined(separator: ",")]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 3, column 65", message: "expected a label 0..9, found \"10\"")
        var huge = Array(repeating: "0", count: 65)
        huge[5] = "99999999999999999999999"
        assertDatasetError(try Dataset.parseDigitsCSV(csv([huge.joined(separator: ",")]), source: "d.csv"),
                           fileSuffix: "d.csv", location: "line 1, column 6", message: "expected an integer 0..16")
    }

    func testEmptyFile() {
        assertDatasetError(try Dataset.parseDigitsCSV([], source: "empty.csv"),
                           fileSuffix: "empty.csv", location: "line 1", message: "file is empty")
    }

    func testSubset() throws {
        let all = try DatasetSource.digits.load().train
        let picked = all.subset([5, 0, 5])
        XCTAssertEqual(picked.count, 3)
        XCTAssertEqual(picked.labels, [all.labels[5], all.labels[0], all.labels[5]])
        XCTAssertEqual(Array(picked.images[64 ..< 128]), Array(all.images[0 ..< 64]))
        XCTAssertEqual(Array(picked.images[0 ..< 64]), Array(all.images[320 ..< 384]))
        XCTAssertEqual(picked.classNames, all.classNames)
        XCTAssertEqual(all.subset([]).count, 0)
    }
}
