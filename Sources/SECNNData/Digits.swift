// The 8x8 handwritten digits (UCI optdigits test set, as bundled in scikit-learn),
// embedded in the module at build time from Embedded/digits.csv.gz.

extension Dataset {
    /// Names of the ten digit classes, `"0"` … `"9"`.
    static let digitClassNames: [String] = (0 ..< 10).map(String.init)

    /// Loads the embedded digits set (1797 images, 1×8×8, pixels 0..16 scaled by 1/16)
    /// and splits it into training and test sets.
    ///
    /// The split is fixed and stratified, about 80/20: within each class, taken in
    /// file order, the sample at position `j` (0-based, counting only that class)
    /// goes to the test set when `j % 5 == 4`, and to the training set otherwise.
    /// Both sets keep file order. This gives 1442 training and 355 test samples.
    /// `flipAugmentation` is `false` (a mirrored digit is a different glyph).
    static func loadDigits() throws -> DatasetPair {
        let name = "digits.csv.gz"
        let text = try Gunzip.decompress(EmbeddedFiles.digitsCsvGz, maxOutput: 4 << 20, source: name)
        return try parseDigitsCSV(text, source: name).stratifiedSplit(testEvery: 5)
    }

    /// Parses digits CSV text: one sample per line, 64 integer pixels 0..16
    /// (an 8×8 image, row-major) then the label 0..9, separated by commas, no header.
    ///
    /// Lines end in LF (a CR before it is allowed); the last line may lack a newline.
    /// Any malformed input throws a `DatasetError` naming `source` and the line (and
    /// column, counting comma-separated values from 1): an empty file or line, a row
    /// that does not have 65 values, or a value that is not an integer in range.
    ///
    /// - Returns: all samples in file order, as a `"digits"` dataset (1×8×8, pixels / 16).
    public static func parseDigitsCSV(_ text: [UInt8], source: String) throws -> Dataset {
        let pixelCount = 64
        let valuesPerRow = pixelCount + 1
        var images: [Float] = []
        var labels: [Int32] = []
        images.reserveCapacity(text.count / 2)
        var row = [Int](repeating: 0, count: valuesPerRow)
        var lineNumber = 0
        var position = 0
        let end = text.count
        if end == 0 {
            throw DatasetError(file: source, location: "line 1", message: "file is empty, expected rows of 65 comma-separated integers")
        }
        while position < end {
            lineNumber += 1
            var lineEnd = position
            while lineEnd < end, text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > position, text[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            if contentEnd == position {
                throw DatasetError(file: source, location: "line \(lineNumber)",
                                   message: "empty line, expected 65 comma-separated integers (64 pixels, then the label)")
            }
            // Split the line on commas.
            var column = 0
            var fieldStart = position
            var index = position
            while true {
                if index == contentEnd || text[index] == UInt8(ascii: ",") {
                    column += 1
                    if column <= valuesPerRow {
                        let isLabel = column == valuesPerRow
                        let maximum = isLabel ? 9 : 16
                        guard let value = parseSmallInteger(text, fieldStart, index), value <= maximum else {
                            let found = String(decoding: text[fieldStart ..< min(index, fieldStart + 40)], as: UTF8.self)
                            let what = isLabel ? "a label 0..9" : "an integer 0..16"
                            throw DatasetError(file: source, location: "line \(lineNumber), column \(column)",
                                               message: "expected \(what), found \"\(found)\"")
                        }
                        row[column - 1] = value
                    }
                    if index == contentEnd { break }
                    fieldStart = index + 1
                }
                index += 1
            }
            guard column == valuesPerRow else {
                throw DatasetError(file: source, location: "line \(lineNumber)",
                                   message: "expected 65 comma-separated values (64 pixels, then the label), found \(column)")
            }
            for k in 0 ..< pixelCount { images.append(Float(row[k]) / 16) }
            labels.append(Int32(row[pixelCount]))
            position = lineEnd + 1
        }
        return Dataset(name: "digits", images: images, labels: labels, channels: 1, height: 8, width: 8,
                       classes: 10, classNames: digitClassNames, flipAugmentation: false)
    }

    /// Splits into training and test sets, stratified by class: within each class,
    /// in order, the sample at position `j` goes to the test set when
    /// `j % testEvery == testEvery - 1`, and to the training set otherwise.
    /// Both sets keep the original order.
    func stratifiedSplit(testEvery: Int) -> DatasetPair {
        precondition(testEvery >= 1, "stratifiedSplit: testEvery must be at least 1")
        var seen = [Int](repeating: 0, count: classes)
        var trainIndices: [Int] = []
        var testIndices: [Int] = []
        for (index, label) in labels.enumerated() {
            let j = seen[Int(label)]
            seen[Int(label)] += 1
            if j % testEvery == testEvery - 1 { testIndices.append(index) } else { trainIndices.append(index) }
        }
        return DatasetPair(train: subset(trainIndices), test: subset(testIndices))
    }
}

/// Parses `text[start ..< end]` as a non-negative decimal integer of at most 9
/// digits (no sign, no spaces); `nil` otherwise.
private func parseSmallInteger(_ text: [UInt8], _ start: Int, _ end: Int) -> Int? {
    guard end > start, end - start <= 9 else { return nil }
    var value = 0
    for i in start ..< end {
        let digit = Int(text[i]) - 48
        guard digit >= 0, digit <= 9 else { return nil }
        value = value * 10 + digit
    }
    return value
}
