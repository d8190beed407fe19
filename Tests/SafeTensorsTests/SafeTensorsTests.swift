import Foundation
import SafeTensors
import XCTest
import _SECNNTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Round trips, the PyTorch-written fixture, serialisation errors, atomic writing and
/// a no-crash property over truncated files.
final class SafeTensorsTests: XCTestCase {
    /// A fresh scratch directory per test, removed afterwards.
    private var directory: String = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "safetensors-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func sampleFile() -> SafeTensorsFile {
        SafeTensorsFile(
            tensors: [
                SafeTensor(name: "conv.weight", shape: [2, 3], floats: [1, -2.5, 3.25, .infinity, 0, -0]),
                SafeTensor(name: "steps", shape: [3], int64s: [0, Int64.min, Int64.max]),
                SafeTensor(name: "half", dtype: .f16, shape: [2], bytes: [0x00, 0x3C, 0x00, 0xC0]),
                SafeTensor(name: "mask", dtype: .bool, shape: [4], bytes: [1, 0, 0, 1]),
                SafeTensor(name: "scalar", dtype: .f64, shape: [], bytes: [0, 0, 0, 0, 0, 0, 0xF0, 0x3F]),
                SafeTensor(name: "empty.rows", dtype: .f32, shape: [0, 3], bytes: []),
                SafeTensor(name: "empty.cols", dtype: .i32, shape: [2, 0], bytes: []),
                SafeTensor(name: "bytes", dtype: .u8, shape: [3], bytes: [7, 8, 9]),
                SafeTensor(name: "ünïcode \"name\"", dtype: .i8, shape: [1], bytes: [0xFF]),
            ],
            metadata: [
                "spec": "{\"blocks\": [16, 16]}",
                "ключ": "значение 😀",
                "escapes": "tab\there\nnewline \\ backslash / slash \u{1} control \u{7F} del",
                "": "empty key",
            ])
    }

    // MARK: - Round trip

    func testRoundTripPreservesTensorsMetadataAndOrder() throws {
        let original = sampleFile()
        let bytes = try original.serialized()
        let decoded = try SafeTensorsFile(bytes: bytes, source: "memory")
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.tensors.map(\.name), original.tensors.map(\.name))
        XCTAssertEqual(try decoded["conv.weight"]?.floats(), [1, -2.5, 3.25, .infinity, 0, -0])
        XCTAssertEqual(try decoded["steps"]?.int64s(), [0, Int64.min, Int64.max])
        XCTAssertEqual(decoded["empty.rows"]?.shape, [0, 3])
        XCTAssertEqual(decoded["empty.cols"]?.bytes, [])
        XCTAssertEqual(decoded.metadata["ключ"], "значение 😀")
        XCTAssertNil(decoded["missing"])
        // Serialising the decoded value reproduces the same bytes.
        XCTAssertEqual(try decoded.serialized(), bytes)
    }

    func testSerializedLayoutIsPaddedAndContiguous() throws {
        let file = SafeTensorsFile(tensors: [
            SafeTensor(name: "a", shape: [2], floats: [1, 2]),
            SafeTensor(name: "b", dtype: .u8, shape: [3], bytes: [1, 2, 3]),
        ])
        let bytes = try file.serialized()
        var headerLength = 0
        for index in 0..<8 { headerLength |= Int(bytes[index]) << (8 * index) }
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertEqual(bytes.count, 8 + headerLength + 11)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}"#), header)
        let closing = try XCTUnwrap(header.lastIndex(of: "}"))
        XCTAssertTrue(header[header.index(after: closing)...].allSatisfy { $0 == " " }, "padding must be spaces: \(header)")
        XCTAssertEqual(Array(bytes[(8 + headerLength)...]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 1, 2, 3])
    }

    func testEmptyFileRoundTrips() throws {
        let bytes = try SafeTensorsFile().serialized()
        XCTAssertEqual(bytes.count, 16)
        XCTAssertEqual(try SafeTensorsFile(bytes: bytes, source: "empty"), SafeTensorsFile())
    }

    func testHeaderWithWhitespaceEscapesAndSurrogatePairsIsRead() throws {
        let header = #" { "__metadata__" : { "k\u00e9y" : "\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t" } ,"#
            + "\n\t" + #" "a\u0041" : { "dtype" : "U8" , "shape" : [ 2 ] , "data_offsets" : [ 0 , 2 ] } }   "#
        let file = try SafeTensorsFile(bytes: rawFile(header, data: [5, 6]), source: "spaced")
        XCTAssertEqual(file.metadata, ["kéy": "😀 \"q\" \\ / \u{8}\u{C}\n\r\t"])
        XCTAssertEqual(file.tensors, [SafeTensor(name: "aA", dtype: .u8, shape: [2], bytes: [5, 6])])
    }

    func testTensorsAreReturnedInDataOrder() throws {
        let header = #"{"second":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"none":{"dtype":"U8","shape":[0],"data_offsets":[2,2]},"first":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let file = try SafeTensorsFile(bytes: rawFile(header, data: [10, 20]), source: "order")
        XCTAssertEqual(file.tensors.map(\.name), ["first", "second", "none"])
        XCTAssertEqual(file["second"]?.bytes, [20])
    }

    func testDTypeByteCounts() {
        let expected: [SafeTensorsDType: Int] = [.f64: 8, .f32: 4, .f16: 2, .bf16: 2, .i64: 8, .i32: 4, .i16: 2, .i8: 1, .u8: 1, .bool: 1]
        for (dtype, size) in expected { XCTAssertEqual(dtype.byteCount, size, dtype.rawValue) }
        XCTAssertEqual(SafeTensorsDType(rawValue: "BF16"), .bf16)
    }

    func testFloatsAndInt64sRejectOtherDTypesNamingTheTensor() {
        let tensor = SafeTensor(name: "bn.weight", dtype: .bf16, shape: [1], bytes: [0, 0])
        XCTAssertThrowsError(try tensor.floats()) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.description, "tensor \"bn.weight\" has dtype BF16, but floats() requires F32")
        }
        XCTAssertThrowsError(try tensor.int64s()) { error in
            XCTAssertTrue("\(error)".contains("tensor \"bn.weight\" has dtype BF16, but int64s() requires I64"), "\(error)")
        }
    }

    // MARK: - Serialisation errors

    func testSerializeRejectsDuplicateNames() {
        let file = SafeTensorsFile(tensors: [SafeTensor(name: "w", shape: [1], floats: [1]), SafeTensor(name: "w", shape: [1], floats: [2])])
        assertSerializeFails(file, "duplicate tensor \"w\"")
    }

    func testSerializeRejectsByteCountMismatch() {
        let file = SafeTensorsFile(tensors: [SafeTensor(name: "w", shape: [2, 2], floats: [1, 2, 3])])
        assertSerializeFails(file, "tensor \"w\": shape [2,2] with dtype F32 needs 16 bytes but it has 12")
    }

    func testSerializeRejectsEmptyAndReservedNamesAndNegativeShapes() {
        assertSerializeFails(SafeTensorsFile(tensors: [SafeTensor(name: "", dtype: .u8, shape: [], bytes: [1])]), "empty name")
        assertSerializeFails(SafeTensorsFile(tensors: [SafeTensor(name: "__metadata__", dtype: .u8, shape: [], bytes: [1])]), "reserved")
        assertSerializeFails(SafeTensorsFile(tensors: [SafeTensor(name: "n", dtype: .u8, shape: [-1], bytes: [])]), "negative dimension")
    }

    private func assertSerializeFails(_ file: SafeTensorsFile, _ substring: String, line: UInt = #line) {
        XCTAssertThrowsError(try file.serialized(), line: line) { error in
            XCTAssertTrue("\(error)".contains(substring), "\(error) does not contain \(substring)", line: line)
        }
    }

    // MARK: - PyTorch fixture

    func testReadsPyTorchExportedFixture() throws {
        let testFile = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let packageRoot = testFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = packageRoot.appendingPathComponent("../shared/bench/fixtures/16x1_16x1_16x1/weights.safetensors").standardized.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw unavailable("The PyTorch-exported fixture \(path) is absent, so reading a real exported file is not tested.")
        }
        let file = try SafeTensorsFile(contentsOf: path)
        let weight = try XCTUnwrap(file["blocks.0.layers.0.conv.weight"])
        XCTAssertEqual(weight.shape, [16, 3, 3, 3])
        XCTAssertEqual(weight.dtype, .f32)
        XCTAssertEqual(try weight.floats().count, 16 * 27)
        XCTAssertNotNil(file.metadata["spec"])
        XCTAssertEqual(file.tensors.first?.name, "blocks.0.layers.0.conv.weight")
        // Re-serialising and re-reading keeps every tensor.
        XCTAssertEqual(try SafeTensorsFile(bytes: file.serialized(), source: "again"), file)
    }

    // MARK: - Reading from disk

    func testContentsOfMissingFileNamesPathAndReason() {
        let path = directory + "/absent.safetensors"
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: path)) { error in
            XCTAssertEqual("\(error)", "\(path): cannot open: No such file or directory")
        }
    }

    func testContentsOfReportsValidationErrorsWithThePath() throws {
        let path = directory + "/bad.safetensors"
        try Data(rawFile("{\"a\":1}")).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path): offset 8: tensor \"a\": entry must be an object, found an integer at header byte 5"), "\(error)")
        }
    }

    func testLargeFileLoadsQuickly() throws {
        // About 50 MB in 1000 tensors.
        let tensors = (0..<1000).map { SafeTensor(name: "t\($0)", dtype: .u8, shape: [250, 200], bytes: [UInt8](repeating: UInt8($0 % 256), count: 50_000)) }
        let path = directory + "/large.safetensors"
        try SafeTensorsFile(tensors: tensors).write(toPath: path)
        let start = Date()
        let file = try SafeTensorsFile(contentsOf: path)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(file.tensors.count, 1000)
        XCTAssertEqual(file["t999"]?.bytes.last, UInt8(999 % 256))
        XCTAssertLessThan(elapsed, 5, "loading 50 MB took \(elapsed) s")
    }

    // MARK: - Atomic write

    func testWriteCreatesFileAndLeavesNoTemporaryFiles() throws {
        let path = directory + "/weights.safetensors"
        let file = sampleFile()
        try file.write(toPath: path)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: path), file)
        let replacement = SafeTensorsFile(tensors: [SafeTensor(name: "x", shape: [1], floats: [42])])
        try replacement.write(toPath: path)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: path), replacement)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["weights.safetensors"])
    }

    func testWriteIntoMissingDirectoryFailsWithStrerror() throws {
        let path = directory + "/no/such/dir/weights.safetensors"
        XCTAssertThrowsError(try sampleFile().write(toPath: path)) { error in
            let error = error as? SafeTensorsError
            XCTAssertEqual(error?.path, path)
            XCTAssertTrue(error?.message.hasPrefix("not written: No such file or directory") == true, "\(String(describing: error))")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    func testFailedWriteKeepsOldFileAndRemovesTemporaryFile() throws {
        // Make write(2) fail with EFBIG by lowering the file size limit for this process.
        let path = directory + "/weights.safetensors"
        let old = SafeTensorsFile(tensors: [SafeTensor(name: "old", shape: [1], floats: [1])])
        try old.write(toPath: path)
        let oldBytes = try Data(contentsOf: URL(fileURLWithPath: path))

        let big = SafeTensorsFile(tensors: [SafeTensor(name: "big", dtype: .u8, shape: [100_000], bytes: [UInt8](repeating: 9, count: 100_000))])
        signal(SIGXFSZ, SIG_IGN)
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved), 0)
        var limited = saved
        limited.rlim_cur = 4096
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited), 0)
        var thrown: Error?
        do { try big.write(toPath: path) } catch { thrown = error }
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved), 0)

        let message = (thrown as? SafeTensorsError)?.message ?? "no error"
        XCTAssertTrue(message.hasPrefix("not written: File too large"), message)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), oldBytes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["weights.safetensors"])
    }

    func testWriteOverDirectoryFailsAndRemovesTemporaryFile() throws {
        let path = directory + "/occupied"
        try FileManager.default.createDirectory(atPath: path + "/inner", withIntermediateDirectories: true)
        XCTAssertThrowsError(try sampleFile().write(toPath: path)) { error in
            XCTAssertTrue((error as? SafeTensorsError)?.message.hasPrefix("not written: ") == true, "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["occupied"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path), ["inner"])
    }

    func testWriteWithInvalidTensorKeepsOldFile() throws {
        let path = directory + "/weights.safetensors"
        try sampleFile().write(toPath: path)
        let bad = SafeTensorsFile(tensors: [SafeTensor(name: "w", shape: [3], floats: [1])])
        XCTAssertThrowsError(try bad.write(toPath: path)) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.path, path)
        }
        XCTAssertEqual(try SafeTensorsFile(contentsOf: path), sampleFile())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["weights.safetensors"])
    }

    // MARK: - Properties

    func testEveryTruncationThrowsSafeTensorsError() throws {
        let bytes = try sampleFile().serialized()
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try SafeTensorsFile(bytes: Array(bytes[0..<length]), source: "cut")) { error in
                XCTAssertTrue(error is SafeTensorsError, "length \(length): \(error)")
            }
        }
        XCTAssertNoThrow(try SafeTensorsFile(bytes: bytes, source: "whole"))
    }

    func testCorruptingAnyByteNeverCrashes() throws {
        let bytes = try sampleFile().serialized()
        var headerLength = 0
        for index in 0..<8 { headerLength |= Int(bytes[index]) << (8 * index) }
        var failures = 0
        for index in 0..<(8 + headerLength) {
            for replacement: UInt8 in [0x00, 0x22, 0x2C, 0x5C, 0x7B, 0x7D, 0x39, 0xFF] where bytes[index] != replacement {
                var corrupted = bytes
                corrupted[index] = replacement
                do { _ = try SafeTensorsFile(bytes: corrupted, source: "fuzz") } catch is SafeTensorsError { failures += 1 }
            }
        }
        XCTAssertGreaterThan(failures, headerLength)
    }
}

/// A file made of a length field (by default the header's length), `header` and `data`.
func rawFile(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    rawFile(headerBytes: Array(header.utf8), data: data, length: length)
}

/// A file made of a length field (by default the header's length), `headerBytes` and `data`.
func rawFile(headerBytes: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let declared = length ?? UInt64(headerBytes.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: declared >> (8 * UInt64($0))) } + headerBytes + data
}
