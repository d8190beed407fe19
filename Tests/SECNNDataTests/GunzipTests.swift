import SECNNData
import XCTest

final class GunzipTests: XCTestCase {
    func testRoundTripAcrossStoredBlocksAndMembers() throws {
        let data: [UInt8] = (0 ..< 200_000).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i * 31 + i / 7) }
        XCTAssertEqual(try Gunzip.decompress(gzipStored(data), maxOutput: data.count, source: "a.gz"), data)
        XCTAssertEqual(try Gunzip.decompress(gzipStored([]), maxOutput: 0, source: "empty.gz"), [])
        // Two concatenated members decompress to the concatenation.
        let two = gzipStored([1, 2, 3]) + gzipStored([4, 5])
        XCTAssertEqual(try Gunzip.decompress(two, maxOutput: 5, source: "two.gz"), [1, 2, 3, 4, 5])
        XCTAssertEqual(try Gunzip.decompressPrefix(gzipStored(data), count: 16, source: "a.gz"), Array(data.prefix(16)))
        XCTAssertEqual(try Gunzip.decompressPrefix(gzipStored([7, 8]), count: 16, source: "a.gz"), [7, 8])
    }

    func testCapStopsABomb() throws {
        let bomb = gzipBomb(prefix: [], matches: 20_000)
        XCTAssertEqual(try Gunzip.decompress(bomb.file, maxOutput: bomb.size, source: "b.gz").count, bomb.size)
        assertDatasetError(try Gunzip.decompress(bomb.file, maxOutput: 1000, source: "b.gz"),
                           fileSuffix: "b.gz", location: "offset 1000",
                           message: "decompressed data is larger than the limit of 1000 bytes; stopped inflating")
        assertDatasetError(try Gunzip.decompress(gzipStored([1, 2, 3]), maxOutput: 2, source: "c.gz"),
                           fileSuffix: "c.gz", location: "offset 2", message: "larger than the limit of 2 bytes")
    }

    func testTruncatedAndCorrupt() {
        let file = gzipStored(Array(repeating: 42, count: 5000))
        for cut in [1, 5, 10, 11, 2000, file.count - 1] {
            assertDatasetError(try Gunzip.decompress(Array(file.prefix(cut)), maxOutput: 10_000, source: "t.gz"),
                               fileSuffix: "t.gz", location: cut < 2 ? "compressed offset 0" : "compressed offset \(cut)",
                               message: cut < 2 ? "not a gzip file" : "gzip data is truncated")
        }
        var badLength = file
        badLength[12] ^= 0xFF   // LEN of the stored block no longer matches NLEN
        assertDatasetError(try Gunzip.decompress(badLength, maxOutput: 10_000, source: "t.gz"),
                           fileSuffix: "t.gz", location: "compressed offset 15", message: "corrupt gzip data: invalid stored block lengths")
    }
}
