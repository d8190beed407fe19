import Foundation
import SECNNData
import XCTest

/// CIFAR-100's binary layout (cifar-100-binary): each record is the coarse
/// label, the fine label, then the image; fixtures written by the tests.
final class CIFAR100Tests: XCTestCase {
    /// A record whose pixels are (seed + p) % 256.
    private func record(coarse: UInt8, fine: UInt8, seed: Int) -> [UInt8] {
        [coarse, fine] + (0 ..< 3072).map { UInt8(($0 + seed) % 256) }
    }

    private func makeDirectory() throws -> String {
        let directory = try makeTemporaryDirectory(self)
        try writeFile(record(coarse: 4, fine: 99, seed: 1) + record(coarse: 19, fine: 0, seed: 2)
                          + record(coarse: 0, fine: 57, seed: 3), directory, "train.bin")
        try writeFile(record(coarse: 7, fine: 12, seed: 4), directory, "test.bin")
        return directory
    }

    func testFineAndCoarseLabels() throws {
        let directory = try makeDirectory()
        let fine = try DatasetSource(argument: "cifar100:\(directory)").load()
        XCTAssertEqual(fine.train.labels, [99, 0, 57])
        XCTAssertEqual(fine.test.labels, [12])
        XCTAssertEqual([fine.train.classes, fine.train.classNames.count], [100, 100])
        XCTAssertEqual(fine.train.name, "cifar100")
        XCTAssertEqual([fine.train.channels, fine.train.height, fine.train.width], [3, 32, 32])
        // The image starts after both label bytes: record 1's first pixel is seed 2.
        XCTAssertEqual(fine.train.images[3072], Float(2) / 255)
        let coarse = try DatasetSource(argument: "cifar100-coarse:\(directory)").load()
        XCTAssertEqual(coarse.train.labels, [4, 19, 0])
        XCTAssertEqual(coarse.train.classes, 20)
        XCTAssertEqual(coarse.train.name, "cifar100-coarse")
        XCTAssertEqual(coarse.train.images, fine.train.images)
        XCTAssertEqual(DatasetSource.cifar100(directory: directory, coarse: true).description, "cifar100-coarse:\(directory)")
    }

    func testClassNamesFromTheMetaFiles() throws {
        let directory = try makeDirectory()
        let names = (0 ..< 100).map { "fine\($0)" }
        try writeFile(Array((names.joined(separator: "\n") + "\n").utf8), directory, "fine_label_names.txt")
        XCTAssertEqual(try DatasetSource.cifar100(directory: directory, coarse: false).load().train.classNames, names)
        try writeFile(Array("a\nb\n".utf8), directory, "coarse_label_names.txt")
        assertDatasetError(try DatasetSource.cifar100(directory: directory, coarse: true).load(),
                           fileSuffix: "/coarse_label_names.txt", location: nil,
                           message: "expected 20 class names, one per line, found 2")
    }

    func testBadLabelsAndSizesNameTheOffset() throws {
        let directory = try makeDirectory()
        try writeFile(record(coarse: 1, fine: 2, seed: 0) + record(coarse: 3, fine: 100, seed: 0), directory, "train.bin")
        assertDatasetError(try DatasetSource.cifar100(directory: directory, coarse: false).load(),
                           fileSuffix: "/train.bin", location: "offset 3075", message: "label 100 is out of range 0..99")
        try writeFile(record(coarse: 20, fine: 2, seed: 0), directory, "train.bin")
        assertDatasetError(try DatasetSource.cifar100(directory: directory, coarse: true).load(),
                           fileSuffix: "/train.bin", location: "offset 0", message: "label 20 is out of range 0..19")
        try writeFile(record(coarse: 1, fine: 2, seed: 0) + [1, 2], directory, "test.bin")
        assertDatasetError(try DatasetSource.cifar100(directory: directory, coarse: false).load(),
                           fileSuffix: "/test.bin", location: "offset 3074",
                           message: "file size 3076 is not a multiple of the 3074-byte record size")
        try FileManager.default.removeItem(atPath: directory + "/test.bin")
        assertDatasetError(try DatasetSource.cifar100(directory: directory, coarse: false).load(),
                           fileSuffix: directory + "/test.bin", location: nil, message: "file not found")
        XCTAssertThrowsError(try DatasetSource(argument: "cifar100")) { error in
            XCTAssertTrue("\(error)".contains("\"cifar100\" needs a directory, as cifar100:DIR"), "\(error)")
        }
    }
}
