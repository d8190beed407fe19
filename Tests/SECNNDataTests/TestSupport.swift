// Helpers for the SECNNData tests: temporary directories, a tiny gzip writer
// (stored blocks, plus a hand-built fixed-Huffman "bomb"), IDX builders.
import Foundation
import SECNNData
import XCTest

/// A fresh temporary directory, removed by the test's teardown.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("secnn-data-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

func writeFile(_ bytes: [UInt8], _ directory: String, _ name: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
}

/// Asserts that `body` throws a `DatasetError` whose file ends with `fileSuffix`,
/// whose location equals `location`, and whose message contains `message`.
func assertDatasetError<T>(
    _ body: @autoclosure () throws -> T, fileSuffix: String, location: String?, message: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    do {
        _ = try body()
        XCTFail("expected a DatasetError containing \"\(message)\", but nothing was thrown", file: file, line: line)
    } catch let error as DatasetError {
        XCTAssertTrue(error.file.hasSuffix(fileSuffix), "file \"\(error.file)\" does not end with \"\(fileSuffix)\"", file: file, line: line)
        XCTAssertEqual(error.location, location, "location of: \(error)", file: file, line: line)
        XCTAssertTrue(error.message.contains(message), "message \"\(error.message)\" does not contain \"\(message)\"", file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), "description is not one line: \(error)", file: file, line: line)
        let expectedPrefix = location.map { "\(error.file): \($0): " } ?? "\(error.file): "
        XCTAssertTrue(error.description.hasPrefix(expectedPrefix), "description \"\(error)\"", file: file, line: line)
    } catch {
        XCTFail("expected a DatasetError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}

// MARK: - gzip writing

private let crcTable: [UInt32] = (0 ..< 256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0 ..< 8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
}

private func littleEndian32(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
}

private let gzipHeader: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]

/// A valid gzip file holding `data` in uncompressed ("stored") deflate blocks.
func gzipStored(_ data: [UInt8]) -> [UInt8] {
    var out = gzipHeader
    var offset = 0
    repeat {
        let n = min(65535, data.count - offset)
        out.append(offset + n == data.count ? 1 : 0)
        out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        out += data[offset ..< offset + n]
        offset += n
    } while offset < data.count
    return out + littleEndian32(crc32(data)) + littleEndian32(UInt32(truncatingIfNeeded: data.count))
}

/// A small, valid gzip file that inflates to `prefix` followed by `1 + 258 * matches`
/// zero bytes: one fixed-Huffman block of literals, then length-258 distance-1 matches
/// (13 bits each, a ~160:1 ratio). Returns the file and its decompressed size.
func gzipBomb(prefix: [UInt8], matches: Int) -> (file: [UInt8], size: Int) {
    var out = gzipHeader
    var bitBuffer: UInt32 = 0
    var bitCount = 0
    func write(_ value: UInt32, _ count: Int) {          // LSB first
        bitBuffer |= value << UInt32(bitCount)
        bitCount += count
        while bitCount >= 8 {
            out.append(UInt8(bitBuffer & 0xFF))
            bitBuffer >>= 8
            bitCount -= 8
        }
    }
    func writeCode(_ code: UInt32, _ length: Int) {      // Huffman codes go MSB first
        var reversed: UInt32 = 0
        for i in 0 ..< length where (code >> UInt32(i)) & 1 != 0 { reversed |= 1 << UInt32(length - 1 - i) }
        write(reversed, length)
    }
    write(1, 1)                                          // BFINAL
    write(1, 2)                                          // BTYPE = 01, fixed Huffman
    for literal in prefix + [0] {
        precondition(literal < 144)
        writeCode(0x30 + UInt32(literal), 8)
    }
    for _ in 0 ..< matches {
        writeCode(0xC0 + (285 - 280), 8)                 // length 258
        writeCode(0, 5)                                  // distance 1
    }
    writeCode(0, 7)                                      // end of block (256)
    if bitCount > 0 { write(0, 8 - bitCount) }
    let data = prefix + [UInt8](repeating: 0, count: 1 + 258 * matches)
    out += littleEndian32(crc32(data)) + littleEndian32(UInt32(truncatingIfNeeded: data.count))
    return (out, data.count)
}

// MARK: - IDX building

private func bigEndian32(_ value: Int) -> [UInt8] {
    [UInt8((value >> 24) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

/// An IDX images file: magic, count, rows, cols, then `pixels`.
func idxImages(count: Int, rows: Int, cols: Int, pixels: [UInt8], magic: Int = 0x803) -> [UInt8] {
    bigEndian32(magic) + bigEndian32(count) + bigEndian32(rows) + bigEndian32(cols) + pixels
}

/// An IDX labels file: magic, count, then `labels`.
func idxLabels(_ labels: [UInt8], count: Int? = nil, magic: Int = 0x801) -> [UInt8] {
    bigEndian32(magic) + bigEndian32(count ?? labels.count) + labels
}

/// Pixels for `count` images of `size` bytes: image i, pixel p has value (i * 7 + p) % 256.
func patternPixels(count: Int, size: Int) -> [UInt8] {
    (0 ..< count * size).map { UInt8(($0 / size * 7 + $0 % size) % 256) }
}
