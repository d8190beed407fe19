import Foundation
import SECNNData
import XCTest
import _SECNNTestSupport

final class FashionMNISTTests: XCTestCase {
    let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Writes a small valid Fashion-MNIST directory (3 train, 2 test images of 28×28).
    func makeDirectory() throws -> String {
        let directory = try makeTemporaryDirectory(self)
        try writeFile(gzipStored(idxImages(count: 3, rows: 28, cols: 28, pixels: patternPixels(count: 3, size: 784))),
                      directory, "train-images-idx3-ubyte.gz")
        try writeFile(gzipStored(idxLabels([9, 0, 4])), directory, "train-labels-idx1-ubyte.gz")
        try writeFile(gzipStored(idxImages(count: 2, rows: 28, cols: 28, pixels: patternPixels(count: 2, size: 784))),
                      directory, "t10k-images-idx3-ubyte.gz")
        try writeFile(gzipStored(idxLabels([1, 8])), directory, "t10k-labels-idx1-ubyte.gz")
        return directory
    }

    func load(_ directory: String) throws -> DatasetPair {
        try DatasetSource.fashionMNIST(directory: directory).load()
    }

    func testSmallDirectoryLoads() throws {
        let pair = try load(try makeDirectory())
        XCTAssertEqual(pair.train.count, 3)
        XCTAssertEqual(pair.test.count, 2)
        XCTAssertEqual(pair.train.labels, [9, 0, 4])
        XCTAssertEqual(pair.test.labels, [1, 8])
        for set in [pair.train, pair.test] {
            XCTAssertEqual(set.name, "fashion-mnist")
            XCTAssertEqual([set.channels, set.height, set.width, set.classes], [1, 28, 28, 10])
            XCTAssertEqual(set.classNames, names)
            XCTAssertTrue(set.flipAugmentation)
        }
        // Image 1, pixel 5: (1 * 7 + 5) % 256 = 12; image 2, pixel 783: (14 + 783) % 256 = 29.
        XCTAssertEqual(pair.train.images[784 + 5], Float(12) / 255)
        XCTAssertEqual(pair.train.images[2 * 784 + 783], Float(29) / 255)
        XCTAssertEqual(pair.train.images[255], 1)
    }

    func testBadMagic() throws {
        let directory = try makeDirectory()
        try writeFile(gzipStored(idxLabels([1, 2, 3])), directory, "train-images-idx3-ubyte.gz")
        XCTAssertThrowsError(try load(directory)) { error in
            XCTAssertEqual((error as? DatasetError)?.description,
                           "\(directory)/train-images-idx3-ubyte.gz: offset 0: magic number 0x00000801, expected 0x00000803 (IDX unsigned-byte images)")
        }
        try writeFile(gzipStored(idxLabels([1, 8], magic: 0x0803)), directory, "t10k-labels-idx1-ubyte.gz")
        try writeFile(gzipStored(idxImages(count: 3, rows: 28, cols: 28, pixels: patternPixels(count: 3, size: 784))),
                      directory, "train-images-idx3-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/t10k-labels-idx1-ubyte.gz", location: "offset 0",
                           message: "magic number 0x00000803, expected 0x00000801 (IDX unsigned-byte labels)")
    }

    func testDimensionsDoNotMatchData() throws {
        let directory = try makeDirectory()
        // Header says 3 images of 28×28, but only 2 images of data follow.
        try writeFile(gzipStored(idxImages(count: 3, rows: 28, cols: 28, pixels: patternPixels(count: 2, size: 784))),
                      directory, "train-images-idx3-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-images-idx3-ubyte.gz", location: "offset 1584",
                           message: "data ends after 1584 bytes, but the IDX header declares 2368 (16-byte header + 3×28×28 bytes)")
        // Test images 27×28 while training images are 28×28.
        try writeFile(gzipStored(idxImages(count: 3, rows: 28, cols: 28, pixels: patternPixels(count: 3, size: 784))),
                      directory, "train-images-idx3-ubyte.gz")
        try writeFile(gzipStored(idxImages(count: 2, rows: 27, cols: 28, pixels: patternPixels(count: 2, size: 756))),
                      directory, "t10k-images-idx3-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/t10k-images-idx3-ubyte.gz", location: "offset 8",
                           message: "images are 27×28, but the training images are 28×28")
        // A zero dimension.
        try writeFile(gzipStored(idxImages(count: 2, rows: 28, cols: 0, pixels: [])), directory, "t10k-images-idx3-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/t10k-images-idx3-ubyte.gz", location: "offset 12",
                           message: "dimension 2 is 0")
        // A header cut short.
        try writeFile(gzipStored(Array(idxImages(count: 2, rows: 28, cols: 28, pixels: []).prefix(10))),
                      directory, "t10k-images-idx3-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/t10k-images-idx3-ubyte.gz", location: "offset 10",
                           message: "data ends after 10 bytes, inside the 16-byte IDX header")
    }

    func testImageAndLabelCountsDisagree() throws {
        let directory = try makeDirectory()
        try writeFile(gzipStored(idxLabels([1, 8, 3])), directory, "t10k-labels-idx1-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/t10k-labels-idx1-ubyte.gz", location: "offset 4",
                           message: "label count 3 does not match the image count 2 in \(directory)/t10k-images-idx3-ubyte.gz")
    }

    func testLabelOutOfRange() throws {
        let directory = try makeDirectory()
        try writeFile(gzipStored(idxLabels([9, 10, 4])), directory, "train-labels-idx1-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-labels-idx1-ubyte.gz", location: "offset 9",
                           message: "label 10 is out of range 0..9")
    }

    func testTruncatedGzip() throws {
        let directory = try makeDirectory()
        let full = gzipStored(idxImages(count: 3, rows: 28, cols: 28, pixels: patternPixels(count: 3, size: 784)))
        let cut = Array(full.prefix(1000))
        try writeFile(cut, directory, "train-images-idx3-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-images-idx3-ubyte.gz", location: "compressed offset 1000",
                           message: "gzip data is truncated")
        // Cut inside the 8-byte trailer: all data present, but the stream never ends.
        try writeFile(Array(full.dropLast(3)), directory, "train-images-idx3-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-images-idx3-ubyte.gz",
                           location: "compressed offset \(full.count - 3)", message: "gzip data is truncated")
    }

    func testCorruptAndNonGzipFiles() throws {
        let directory = try makeDirectory()
        try writeFile(idxLabels([9, 0, 4]), directory, "train-labels-idx1-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-labels-idx1-ubyte.gz", location: "compressed offset 0",
                           message: "not a gzip file: starts with 0x00 0x00, expected 0x1f 0x8b")
        var corrupt = gzipStored(idxLabels([9, 0, 4]))
        corrupt[corrupt.count - 8] ^= 0xFF   // CRC-32 of the data
        try writeFile(corrupt, directory, "train-labels-idx1-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-labels-idx1-ubyte.gz",
                           location: "compressed offset \(corrupt.count - 4)", message: "corrupt gzip data: incorrect data check")
        try writeFile([], directory, "train-labels-idx1-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-labels-idx1-ubyte.gz", location: "compressed offset 0",
                           message: "file is empty")
    }

    func testGzipBomb() throws {
        let directory = try makeDirectory()
        // A labels file whose header declares 3 labels (11 bytes in all) but which inflates to ~5 MB.
        let bomb = gzipBomb(prefix: [0, 0, 8, 1, 0, 0, 0, 3], matches: 20_000)
        XCTAssertLessThan(bomb.file.count, 40_000)
        XCTAssertGreaterThan(bomb.size, 5_000_000)
        try writeFile(bomb.file, directory, "train-labels-idx1-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: "/train-labels-idx1-ubyte.gz", location: "offset 11",
                           message: "decompressed data is larger than the 11 bytes its IDX header declares (8-byte header + 3 bytes); stopped inflating")
    }

    func testMissingFileAndDirectory() throws {
        let directory = try makeDirectory()
        try FileManager.default.removeItem(atPath: directory + "/t10k-labels-idx1-ubyte.gz")
        assertDatasetError(try load(directory), fileSuffix: directory + "/t10k-labels-idx1-ubyte.gz", location: nil,
                           message: "file not found")
        assertDatasetError(try load(directory + "/nowhere"), fileSuffix: directory + "/nowhere", location: nil,
                           message: "Fashion-MNIST directory not found")
    }

    /// The real files from Debian's dataset-fashion-mnist package.
    func testRealFashionMNIST() throws {
        let directory = "/usr/share/datasets/fashion-mnist"
        guard FileManager.default.fileExists(atPath: directory + "/train-images-idx3-ubyte.gz") else {
            throw unavailable("The Fashion-MNIST directory \(directory) is absent; install it with `apt-get install -y dataset-fashion-mnist` to run this test.")
        }
        let pair = try DatasetSource(argument: "fashion-mnist").load()
        XCTAssertEqual(pair.train.count, 60_000)
        XCTAssertEqual(pair.test.count, 10_000)
        XCTAssertEqual(pair.train.images.count, 60_000 * 784)
        var trainCounts = [Int](repeating: 0, count: 10), testCounts = trainCounts
        for label in pair.train.labels { trainCounts[Int(label)] += 1 }
        for label in pair.test.labels { testCounts[Int(label)] += 1 }
        XCTAssertEqual(trainCounts, Array(repeating: 6000, count: 10))
        XCTAssertEqual(testCounts, Array(repeating: 1000, count: 10))
        XCTAssertEqual(pair.train.labels.prefix(5), [9, 0, 0, 3, 0])   // upstream's well-known first labels
        XCTAssertEqual(pair.test.labels.prefix(5), [9, 2, 1, 1, 6])
        XCTAssertEqual(pair.train.images.max(), 1)
        XCTAssertEqual(pair.train.images.min(), 0)
    }
}
