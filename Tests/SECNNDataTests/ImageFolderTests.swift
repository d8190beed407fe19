import Foundation
import SECNNData
import XCTest
import _SECNNTestSupport

/// PNG and JPEG decoding, resizing, and image-folder datasets, on files the
/// tests write; every bad file's message names it.
final class ImageFolderTests: XCTestCase {
    /// A w×h image whose pixel (x, y, c) is (7x + 13y + 50c) % 256.
    private func pattern(width: Int, height: Int, channels: Int) -> [UInt8] {
        var pixels: [UInt8] = []
        for y in 0 ..< height {
            for x in 0 ..< width {
                for c in 0 ..< channels { pixels.append(UInt8((7 * x + 13 * y + 50 * c) % 256)) }
            }
        }
        return pixels
    }

    func testPNGRoundTripsExactlyAndJPEGClosely() throws {
        let directory = try makeTemporaryDirectory(self)
        for channels in [1, 3] {
            let pixels = pattern(width: 9, height: 6, channels: channels)
            let png = directory + "/a\(channels).png", jpeg = directory + "/a\(channels).jpg"
            try ImageFiles.writePNG(png, width: 9, height: 6, channels: channels, pixels: pixels)
            let decoded = try DecodedImage.decode(Array(try Data(contentsOf: URL(fileURLWithPath: png))), source: png)
            XCTAssertEqual(decoded, DecodedImage(width: 9, height: 6, channels: channels, pixels: pixels))
            let smooth = (0 ..< 16 * 16 * channels).map { UInt8(($0 / channels) % 16 * 8) }
            try ImageFiles.writeJPEG(jpeg, width: 16, height: 16, channels: channels, pixels: smooth, quality: 100)
            let lossy = try DecodedImage.decode(Array(try Data(contentsOf: URL(fileURLWithPath: jpeg))), source: jpeg)
            XCTAssertEqual([lossy.width, lossy.height, lossy.channels], [16, 16, channels])
            let error = zip(lossy.pixels, smooth).map { abs(Int($0) - Int($1)) }.max()!
            XCTAssertLessThanOrEqual(error, 8, "JPEG at quality 100 should be close")
        }
    }

    func testBilinearResizeAlignsPixelCentres() {
        // One row 0, 255 → four: positions −0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        let image = DecodedImage(width: 2, height: 1, channels: 1, pixels: [0, 255])
        let planes = image.planes(height: 1, width: 4, channels: 1)
        for (value, expected) in zip(planes, [0, 63.75, 191.25, 255] as [Float]) {
            XCTAssertEqual(value, expected / 255, accuracy: 1e-6)
        }
        // The same size is the identity; grey made colour repeats the channel; colour made grey is the luma.
        let grey = DecodedImage(width: 3, height: 2, channels: 1, pixels: [0, 10, 20, 30, 40, 50])
        XCTAssertEqual(grey.planes(height: 2, width: 3, channels: 1), [0, 10, 20, 30, 40, 50].map { Float($0) / 255 })
        let plane = grey.planes(height: 2, width: 3, channels: 1)
        XCTAssertEqual(grey.planes(height: 2, width: 3, channels: 3), plane + plane + plane)
        let colour = DecodedImage(width: 1, height: 1, channels: 3, pixels: [200, 100, 50])
        let luma: Float = 0.299 * 200 + 0.587 * 100 + 0.114 * 50
        XCTAssertEqual(colour.planes(height: 1, width: 1, channels: 1), [luma.rounded() / 255])
    }

    /// A PNG that declares `width`×`height` (a greyscale header and an empty data chunk): enough to be refused by its size.
    private func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
        }
        let header = bigEndian(width) + bigEndian(height) + [8, 0, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    }

    private func bigEndian(_ value: UInt32) -> [UInt8] { (0 ..< 4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0 ..< 8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    func testEveryKindOfBadFileIsRefusedByName() throws {
        let directory = try makeTemporaryDirectory(self)
        try ImageFiles.writeJPEG(directory + "/whole.jpg", width: 32, height: 32, channels: 3,
                                 pixels: pattern(width: 32, height: 32, channels: 3))
        let whole = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/whole.jpg")))
        try ImageFiles.writePNG(directory + "/tiny.png", width: 1, height: 1, channels: 3, pixels: [1, 2, 3])
        let cases: [(String, [UInt8], String)] = [
            ("truncated.jpg", Array(whole.prefix(whole.count * 2 / 3)), "JPEG"),
            ("empty.png", [], "file is empty"),
            ("notes.txt", Array("not an image\n".utf8), "not a PNG or JPEG image"),
            ("tiny.png", Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/tiny.png"))), "image is 1×1"),
            ("huge.png", pngHeader(width: 20000, height: 20000), "image is 20000×20000"),
        ]
        for (name, bytes, message) in cases {
            let path = directory + "/" + name
            XCTAssertThrowsError(try DecodedImage.decode(bytes, source: path), name) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ":"), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains(message), "\(name): \(error)")
            }
        }
    }

    /// DIR/class/file for three classes, with `perClass` images each, PNG and JPEG alternately.
    private func makeFolder(_ directory: String, perClass: Int, size: (Int, Int) = (8, 10)) throws {
        for (label, name) in ["cat", "dog", "eel"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(name)", withIntermediateDirectories: true)
            for i in 0 ..< perClass {
                let pixels = pattern(width: size.1, height: size.0, channels: 3).map { $0 &+ UInt8(40 * label + i) }
                let path = "\(directory)/\(name)/\(i)"
                if i % 2 == 0 {
                    try ImageFiles.writePNG(path + ".png", width: size.1, height: size.0, channels: 3, pixels: pixels)
                } else {
                    try ImageFiles.writeJPEG(path + ".jpg", width: size.1, height: size.0, channels: 3, pixels: pixels)
                }
            }
        }
    }

    func testAFolderSplitsEachClassAndSkipsBadFilesByName() throws {
        let directory = try makeTemporaryDirectory(self)
        try makeFolder(directory, perClass: 10)
        try Data("junk".utf8).write(to: URL(fileURLWithPath: directory + "/dog/readme.txt"))
        try Data().write(to: URL(fileURLWithPath: directory + "/cat/.DS_Store"))
        var reports: [String] = []
        ImageFolder.report = { reports.append($0) }
        defer { ImageFolder.report = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }

        let pair = try DatasetSource(argument: "folder:\(directory)").load()
        XCTAssertEqual(pair.train.classNames, ["cat", "dog", "eel"])
        XCTAssertEqual([pair.train.count, pair.test.count], [24, 6], "80/20 of each class's 10")
        XCTAssertEqual([pair.train.channels, pair.train.height, pair.train.width], [3, 8, 10])
        XCTAssertEqual(pair.test.labels.sorted(), [0, 0, 1, 1, 2, 2])
        XCTAssertEqual(pair.train.name, "folder")
        XCTAssertEqual(reports.count, 1, "\(reports)")
        XCTAssertTrue(reports[0].contains(directory + "/dog/readme.txt") && reports[0].contains("skipped"), reports[0])
        // The same split every time; an explicit size resizes; strict refuses the bad file.
        XCTAssertEqual(try DatasetSource(argument: "folder:\(directory)").load().test.labels, pair.test.labels)
        let resized = try ImageFolder(directory: directory, imageSize: ImageSize("16x20")).load()
        XCTAssertEqual([resized.train.height, resized.train.width], [16, 20])
        XCTAssertEqual(DatasetSource.folder(ImageFolder(directory: directory, imageSize: ImageSize("16x20"))).description,
                       "folder:\(directory):16x20")
        XCTAssertEqual(try DatasetSource(argument: "folder:\(directory):16x20").load().train.width, 20)
        assertDatasetError(try ImageFolder(directory: directory, strict: true).load(),
                           fileSuffix: "/dog/readme.txt", location: "offset 0", message: "not a PNG or JPEG image")
    }

    func testTrainAndTestSubfoldersAndEmptyClasses() throws {
        let directory = try makeTemporaryDirectory(self)
        try makeFolder(directory + "/train", perClass: 4)
        try makeFolder(directory + "/test", perClass: 2)
        let pair = try ImageFolder(directory: directory).load()
        XCTAssertEqual([pair.train.count, pair.test.count], [12, 6])
        try FileManager.default.createDirectory(atPath: directory + "/test/fox", withIntermediateDirectories: false)
        assertDatasetError(try ImageFolder(directory: directory).load(), fileSuffix: "/test", location: nil,
                           message: "holds the classes cat, dog, eel, fox, but train/ holds cat, dog, eel")
        try FileManager.default.createDirectory(atPath: directory + "/train/fox", withIntermediateDirectories: false)
        assertDatasetError(try ImageFolder(directory: directory).load(), fileSuffix: "/train/fox", location: nil,
                           message: "class folder holds no files")
        let missing = directory + "/nothing"
        assertDatasetError(try ImageFolder(directory: missing).load(), fileSuffix: missing, location: nil,
                           message: "image folder not found")
    }
}
