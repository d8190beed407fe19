import Foundation
import SECNNData
import XCTest
import _SECNNTestSupport

final class CIFARTests: XCTestCase {
    /// One record: label, then R, G, B planes. Plane c of record `seed` holds (seed + c * 10 + p) % 256.
    func record(label: UInt8, seed: Int) -> [UInt8] {
        [label] + (0 ..< 3072).map { UInt8((seed + ($0 / 1024) * 10 + $0 % 1024) % 256) }
    }

    /// Writes a complete small CIFAR-10 directory: 2 records per training batch, 3 test records.
    func makeDirectory(meta: String? = nil) throws -> String {
        let directory = try makeTemporaryDirectory(self)
        for batch in 1 ... 5 {
            try writeFile(record(label: UInt8(batch), seed: batch * 2) + record(label: UInt8(batch * 2 - 1), seed: batch * 2 + 1),
                          directory, "data_batch_\(batch).bin")
        }
        try writeFile(record(label: 0, seed: 100) + record(label: 9, seed: 101) + record(label: 4, seed: 102),
                      directory, "test_batch.bin")
        if let meta { try writeFile(Array(meta.utf8), directory, "batches.meta.txt") }
        return directory
    }

    func testSmallDirectoryLoads() throws {
        let directory = try makeDirectory()
        let pair = try DatasetSource.cifar10(directory: directory).load()
        XCTAssertEqual(pair.train.count, 10)
        XCTAssertEqual(pair.test.count, 3)
        XCTAssertEqual(pair.train.labels, [1, 1, 2, 3, 3, 5, 4, 7, 5, 9])
        XCTAssertEqual(pair.test.labels, [0, 9, 4])
        XCTAssertEqual(pair.train.classNames, ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
        for set in [pair.train, pair.test] {
            XCTAssertEqual(set.name, "cifar10")
            XCTAssertEqual([set.channels, set.height, set.width, set.classes, set.imageSize], [3, 32, 32, 10, 3072])
            XCTAssertTrue(set.flipAugmentation)
            XCTAssertEqual(set.images.count, set.count * 3072)
        }
        // Train image 0 comes from data_batch_1 record 0 (seed 2): R[0] = 2, G[0] = 12, B[5] = 27.
        XCTAssertEqual(pair.train.images[0], Float(2) / 255)
        XCTAssertEqual(pair.train.images[1024], Float(12) / 255)
        XCTAssertEqual(pair.train.images[2048 + 5], Float(27) / 255)
        // Test image 2 (seed 102): R[153] = 255.
        XCTAssertEqual(pair.test.images[2 * 3072 + 153], 1)
        XCTAssertEqual(pair.test.images[2 * 3072 + 154], 0)
    }

    func testClassNamesFromMeta() throws {
        let names = (0 ..< 10).map { "class \($0)" }
        let directory = try makeDirectory(meta: names.joined(separator: "\r\n") + "\n\n")
        XCTAssertEqual(try DatasetSource.cifar10(directory: directory).load().test.classNames, names)
        try writeFile(Array("a\nb\nc\n".utf8), directory, "batches.meta.txt")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: "/batches.meta.txt", location: nil, message: "expected 10 class names, one per line, found 3")
    }

    func testOutOfRangeLabel() throws {
        let directory = try makeDirectory()
        var batch: [UInt8] = []
        for i in 0 ..< 11 { batch += record(label: i == 10 ? 12 : 3, seed: i) }
        try writeFile(batch, directory, "data_batch_3.bin")
        let path = URL(fileURLWithPath: directory).appendingPathComponent("data_batch_3.bin").path
        XCTAssertThrowsError(try DatasetSource.cifar10(directory: directory).load()) { error in
            XCTAssertEqual((error as? DatasetError)?.description, "\(path): offset 30730: label 12 is out of range 0..9")
        }
        try writeFile(record(label: 255, seed: 0), directory, "test_batch.bin")
        try writeFile(record(label: 3, seed: 0), directory, "data_batch_3.bin")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: "/test_batch.bin", location: "offset 0", message: "label 255 is out of range 0..9")
    }

    func testWrongFileSize() throws {
        let directory = try makeDirectory()
        try writeFile(record(label: 1, seed: 0) + [7], directory, "data_batch_2.bin")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: "/data_batch_2.bin", location: "offset 3073",
                           message: "file size 3074 is not a multiple of the 3073-byte record size (1 bytes of an incomplete record at the end)")
        try writeFile(Array(record(label: 1, seed: 0).prefix(100)), directory, "data_batch_2.bin")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: "/data_batch_2.bin", location: "offset 0", message: "file size 100 is not a multiple")
        try writeFile([], directory, "data_batch_2.bin")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: "/data_batch_2.bin", location: "offset 0", message: "file is empty")
    }

    func testMissingFilesAndDirectory() throws {
        let directory = try makeDirectory()
        try FileManager.default.removeItem(atPath: directory + "/test_batch.bin")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: directory + "/test_batch.bin", location: nil, message: "file not found")
        try FileManager.default.removeItem(atPath: directory + "/data_batch_4.bin")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: directory + "/data_batch_4.bin", location: nil, message: "file not found")
        try FileManager.default.createDirectory(atPath: directory + "/data_batch_4.bin", withIntermediateDirectories: false)
        try writeFile(record(label: 0, seed: 0), directory, "test_batch.bin")
        assertDatasetError(try DatasetSource.cifar10(directory: directory).load(),
                           fileSuffix: directory + "/data_batch_4.bin", location: nil, message: "is a directory")
        let missing = directory + "/no-such-dir"
        assertDatasetError(try DatasetSource.cifar10(directory: missing).load(),
                           fileSuffix: missing, location: nil, message: "CIFAR-10 directory not found")
    }

    /// The real files in shared/data/cifar-10-batches-bin (counts from its README).
    func testRealCIFAR10() throws {
        let directory = try requireShared("data/cifar-10-batches-bin/data_batch_1.bin").deletingLastPathComponent().path
        let pair = try DatasetSource.cifar10(directory: directory).load()
        XCTAssertEqual(pair.train.count, 50_000)
        XCTAssertEqual(pair.test.count, 10_000)
        XCTAssertEqual(pair.train.images.count, 50_000 * 3072)
        XCTAssertEqual(pair.train.classNames, ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
        func histogram(_ labels: ArraySlice<Int32>) -> [Int] {
            var counts = [Int](repeating: 0, count: 10)
            for label in labels { counts[Int(label)] += 1 }
            return counts
        }
        XCTAssertEqual(histogram(pair.train.labels[...]), Array(repeating: 5000, count: 10))
        XCTAssertEqual(histogram(pair.test.labels[...]), Array(repeating: 1000, count: 10))
        XCTAssertEqual(histogram(pair.train.labels[0 ..< 10_000]), [1004, 989, 984, 1034, 957, 1055, 1003, 1025, 976, 973])
        XCTAssertEqual(histogram(pair.train.labels[40_000 ..< 50_000]), [1012, 1002, 978, 989, 1004, 964, 1010, 961, 1054, 1026])
        var minimum: Float = 1, maximum: Float = 0
        for value in pair.test.images { minimum = min(minimum, value); maximum = max(maximum, value) }
        XCTAssertEqual(minimum, 0)
        XCTAssertEqual(maximum, 1)
    }
}
